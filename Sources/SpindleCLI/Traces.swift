import ArgumentParser
import Foundation
import SpindleCodec
import SpindleExport
import SpindleServer
import SpindleStore

struct Traces: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List traces, newest first.",
        discussion: """
            Times take RFC 3339 (2026-11-24T10:00:00Z), Unix nanoseconds, or a duration back from now (30s, 15m, 1h, 7d).

            Examples:
              spindle traces --since 1h
              spindle traces --status error --limit 20
              spindle traces --attr http.route:/checkout --json
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only traces that started at or after this time.") var since: String?
    @Option(help: "Only traces that started before this time.") var until: String?
    @Option(help: "Only traces whose root span's service is this.") var service: String?
    @Option(help: "Only traces whose root span has this name.") var name: String?
    @Option(help: ArgumentHelp("error: only traces with a failed span.", valueName: "error")) var status: String?
    @Option(name: .customLong("min-duration-ms"), help: "Only traces at least this long.") var minDurationMs: Double?
    @Option(help: ArgumentHelp("Only traces with a span whose attribute KEY equals VALUE.", valueName: "key:value"))
    var attr: String?
    @Option(help: "Only this project.") var project: String?
    @Option(help: "How many traces (1-1000).") var limit = 50
    @Flag(help: "Print JSON (the query API's shape) instead of a table.") var json = false

    func run() throws {
        var query = TraceQuery()
        query.project = project
        query.service = service
        query.name = name
        query.limit = limit
        do {
            query.since = try since.map { try TimeArgument.parse($0, name: "--since") }
            query.until = try until.map { try TimeArgument.parse($0, name: "--until") }
        } catch {
            throw ValidationError("\(error)")
        }
        if let status {
            guard status == "error" else { throw ValidationError("--status takes only error") }
            query.errorsOnly = true
        }
        query.minDurationNanos = minDurationMs.map { UInt64(max(0, $0) * 1e6) }
        if let attr {
            guard let filter = AttributeFilter(attr) else { throw ValidationError("--attr takes key:value") }
            query.attribute = filter
        }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }

        let page = try StoreReader.open(path: database.db).traceSummaries(query)
        if json {
            print(String(decoding: SpanJSON.traceList(page.traces, next: page.next), as: UTF8.self))
            return
        }
        guard !page.traces.isEmpty else {
            print("no traces match")
            return
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let rows = page.traces.map { trace in
            [
                formatter.string(from: Date(timeIntervalSince1970: Double(trace.startTimeUnixNano) / 1e9)),
                TerminalTree.formatDuration(trace.durationNanos), String(trace.spanCount), String(trace.errorCount),
                String(trace.orphanCount), trace.rootService ?? "-", trace.rootName ?? "(root missing)", trace.rootSpanID,
            ]
        }
        printTable(header: ["START", "DURATION", "SPANS", "ERRORS", "ORPHANS", "SERVICE", "ROOT", "ROOT SPAN ID"], rows: rows)
        if page.next != nil { print("(more: raise --limit or narrow with --until)") }
    }
}

/// Left-aligned columns, two spaces apart.
func printTable(header: [String], rows: [[String]]) {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            .trimmingCharacters(in: .whitespaces))
    }
}
