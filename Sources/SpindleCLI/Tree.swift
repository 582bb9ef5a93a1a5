import ArgumentParser
import Foundation
import SpindleExport
import SpindleStore

struct Tree: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one trace as an indented waterfall.",
        discussion: "Colour when standard output is a terminal; plain text otherwise (or with --no-color).")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The trace's root span id (for OTLP: the trace id in hex).") var rootSpanID: String
    @Option(help: "The project holding the trace, when several do.") var project: String?
    @Flag(name: .customLong("no-color"), help: "Never use colour.") var noColor = false

    func run() throws {
        let reader = try StoreReader.open(path: database.db)
        guard let document = try TraceDocument.load(rootSpanID: rootSpanID, project: project, from: reader) else {
            throw ValidationError("no trace \(rootSpanID) in \(database.db) (list them with: spindle traces)")
        }
        print(TerminalTree.render(document, color: !noColor && isatty(STDOUT_FILENO) != 0))
    }
}
