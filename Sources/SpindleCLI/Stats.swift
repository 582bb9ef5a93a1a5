import ArgumentParser
import Foundation
import SpindleStore

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what the database holds: spans, traces, resources, size.",
        discussion: "Safe while `spindle serve` runs: it reads through its own connection.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let stats: StoreStats
        do {
            stats = try StoreReader.open(path: database.db).stats()
        } catch {
            throw ValidationError("\(error)")
        }
        if json {
            print(
                #"{"spans":\#(stats.spans),"traces":\#(stats.traces),"resources":\#(stats.resources),"scopes":\#(stats.scopes),"database_bytes":\#(stats.databaseBytes)}"#
            )
            return
        }
        let rows: [(String, String)] = [
            ("database", database.db),
            ("spans", "\(stats.spans)"),
            ("traces", "\(stats.traces)"),
            ("resources", "\(stats.resources)"),
            ("scopes", "\(stats.scopes)"),
            ("size", ByteCountFormatter.string(fromByteCount: Int64(stats.databaseBytes), countStyle: .file)),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        for (label, value) in rows {
            print(label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }
}
