import ArgumentParser
import Foundation
import SpindleExport
import SpindleServer
import SpindleStore

struct Prompts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prompts and their versions, or one prompt's per-version analytics.",
        discussion: """
            Without PROMPT_ID: every prompt seen in LLM spans, with its versions. Prompts the spans did not name are listed as implicit-…: identified by their template, or by their system instructions.

            With PROMPT_ID: per version, the number of calls, error rate, latency p50/p95/p99 (nearest rank), cost (total and average of the calls whose cost is known), tokens and mean score. --bucket adds a time series; --compare puts two versions side by side.

            Examples:
              spindle prompts
              spindle prompts support-answer --since 7d
              spindle prompts support-answer --compare 3 4
              spindle prompts support-answer --bucket 1h --json
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "A prompt id (as `spindle prompts` lists them).") var promptID: String?
    @Option(help: "Only calls at or after this time (RFC 3339, Unix ns, or 15m/1h/7d ago).") var since: String?
    @Option(help: "Only calls before this time.") var until: String?
    @Option(help: ArgumentHelp("Also show a time series with buckets of this size.", valueName: "30m|1h|1d"))
    var bucket: String?
    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Two versions side by side: version labels or version-hash prefixes.", valueName: "v1 v2"))
    var compare: [String] = []
    @Option(help: "Only this project.") var project: String?
    @Flag(help: "Print JSON (the query API's shape).") var json = false

    func run() throws {
        let reader = try StoreReader.open(path: database.db)
        guard let promptID else {
            let rows = try reader.promptVersions(project: project)
            if json {
                print(String(decoding: LLMJSON.prompts(rows), as: UTF8.self))
                return
            }
            guard !rows.isEmpty else {
                print("no prompts yet: they appear once LLM spans arrive")
                return
            }
            var grouped: [(String, [PromptVersionRow])] = []
            for row in rows {
                if let index = grouped.firstIndex(where: { $0.0 == row.promptID }) {
                    grouped[index].1.append(row)
                } else {
                    grouped.append((row.promptID, [row]))
                }
            }
            printTable(
                header: ["PROMPT", "VERSIONS", "CALLS", "LAST SEEN", "KIND"],
                rows: grouped.map { id, versions in
                    [
                        id, String(versions.count), String(versions.reduce(0) { $0 + $1.calls }),
                        Self.time(versions.map(\.lastSeenUnixNano).max()!),
                        versions[0].isImplicit ? "implicit" : "named",
                    ]
                })
            return
        }

        let sinceNanos: UInt64?
        let untilNanos: UInt64?
        let bucketNanos: UInt64?
        do {
            sinceNanos = try since.map { try TimeArgument.parse($0, name: "--since") }
            untilNanos = try until.map { try TimeArgument.parse($0, name: "--until") }
            bucketNanos = try bucket.map { try DurationArgument.parse($0, name: "--bucket") }
        } catch {
            throw ValidationError("\(error)")
        }
        let versions = try reader.promptVersions(project: project, promptID: promptID)
        guard !versions.isEmpty else { throw ValidationError("no prompt \(promptID) (see `spindle prompts`)") }
        let calls = try reader.promptCalls(promptID: promptID, project: project, since: sinceNanos, until: untilNanos)
        let analytics = PromptAnalytics(promptID: promptID, calls: calls, bucketNanos: bucketNanos)
        var labels: [String: String] = [:]
        for version in versions { labels[version.versionHash] = version.version }
        if json {
            print(String(decoding: LLMJSON.analytics(analytics, labels: labels, bucket: bucket), as: UTF8.self))
            return
        }
        func name(_ hash: String) -> String { labels[hash].map { "\($0) (\(hash.prefix(8)))" } ?? String(hash.prefix(12)) }

        if !compare.isEmpty {
            guard compare.count == 2 else { throw ValidationError("--compare takes two versions") }
            let picked = try compare.map { wanted -> PromptVersionAnalytics in
                let matches = analytics.versions.filter { labels[$0.versionHash] == wanted || $0.versionHash.hasPrefix(wanted) }
                guard matches.count == 1 else {
                    throw ValidationError(
                        matches.isEmpty
                            ? "no version \(wanted) of \(promptID) in this time range"
                            : "\(wanted) matches several versions; give more of the hash")
                }
                return matches[0]
            }
            let (a, b) = (picked[0], picked[1])
            func delta(_ x: Double?, _ y: Double?) -> String {
                guard let x, let y, x != 0 else { return "" }
                return String(format: "%+.1f%%", (y - x) / x * 100)
            }
            printTable(
                header: ["", name(a.versionHash), name(b.versionHash), "CHANGE"],
                rows: [
                    ["calls", String(a.count), String(b.count), delta(Double(a.count), Double(b.count))],
                    ["error rate", Self.percent(a.errorRate), Self.percent(b.errorRate), ""],
                    ["latency p50", Self.ms(a.latencyP50), Self.ms(b.latencyP50), delta(a.latencyP50, b.latencyP50)],
                    ["latency p95", Self.ms(a.latencyP95), Self.ms(b.latencyP95), delta(a.latencyP95, b.latencyP95)],
                    ["latency p99", Self.ms(a.latencyP99), Self.ms(b.latencyP99), delta(a.latencyP99, b.latencyP99)],
                    ["cost avg", Self.usd(a.costAverage), Self.usd(b.costAverage), delta(a.costAverage, b.costAverage)],
                    ["cost total", Self.usd(a.costTotal), Self.usd(b.costTotal), ""],
                    [
                        "tokens/call", Self.perCall(a.totalTokens, a.count), Self.perCall(b.totalTokens, b.count),
                        delta(Double(a.totalTokens) / Double(max(a.count, 1)), Double(b.totalTokens) / Double(max(b.count, 1))),
                    ],
                    ["score avg", Self.score(a.scoreAverage), Self.score(b.scoreAverage), delta(a.scoreAverage, b.scoreAverage)],
                ])
            return
        }

        guard !analytics.versions.isEmpty else {
            print("no calls of \(promptID) in this time range")
            return
        }
        printTable(
            header: ["VERSION", "CALLS", "ERRORS", "P50", "P95", "P99", "COST", "COST/CALL", "TOKENS", "SCORE", "LAST SEEN"],
            rows: analytics.versions.map { version in
                [
                    name(version.versionHash), String(version.count), Self.percent(version.errorRate),
                    Self.ms(version.latencyP50), Self.ms(version.latencyP95), Self.ms(version.latencyP99),
                    Self.usd(version.costTotal), Self.usd(version.costAverage), String(version.totalTokens),
                    Self.score(version.scoreAverage), Self.time(version.lastSeenUnixNano),
                ]
            })
        for version in analytics.versions {
            guard let series = analytics.series[version.versionHash] else { continue }
            print("\n\(name(version.versionHash)), per \(bucket ?? "bucket"):")
            printTable(
                header: ["BUCKET", "CALLS", "ERRORS", "P50", "P95", "COST", "SCORE"],
                rows: series.map { entry in
                    let figures = entry.analytics
                    return [
                        Self.time(entry.startUnixNano), String(figures.count), Self.percent(figures.errorRate),
                        Self.ms(figures.latencyP50), Self.ms(figures.latencyP95), Self.usd(figures.costTotal),
                        Self.score(figures.scoreAverage),
                    ]
                })
        }
    }

    static func time(_ nanos: UInt64) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: Double(nanos) / 1e9))
    }

    static func ms(_ value: Double?) -> String { value.map { String(format: "%.0fms", $0) } ?? "-" }
    static func usd(_ value: Double?) -> String { value.map { String(format: "$%.6f", $0) } ?? "-" }
    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
    static func score(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
    static func perCall(_ total: Int, _ count: Int) -> String { count == 0 ? "-" : String(total / count) }
}

struct MonitorEvents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor-events",
        abstract: "Monitor events: one per LLM call, newest first; flagged when a score is below 0.3.",
        discussion: """
            Each event carries the DeepRails shape (model_input, model_output, model, tokens, temperature, top_p, top_k) and the EvalGuard log shape (appId = service.name, input, output, scores, latencyMs, costUsd, flagged); --json prints both.

            Examples:
              spindle monitor-events --since 1h
              spindle monitor-events --flagged --model gpt-4o-mini --json
            """)

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Only flagged events.") var flagged = false
    @Option(help: "Only calls to this model (response or requested name).") var model: String?
    @Option(help: "Only events at or after this time.") var since: String?
    @Option(help: "Only events before this time.") var until: String?
    @Option(help: "Only this project.") var project: String?
    @Option(help: "How many events (1-10000).") var limit = 50
    @Flag(help: "Print JSON (the query API's shape).") var json = false

    func run() throws {
        var query = MonitorEventQuery()
        query.project = project
        query.model = model
        query.flagged = flagged ? true : nil
        query.limit = limit
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
        do {
            query.since = try since.map { try TimeArgument.parse($0, name: "--since") }
            query.until = try until.map { try TimeArgument.parse($0, name: "--until") }
        } catch {
            throw ValidationError("\(error)")
        }
        let events = try StoreReader.open(path: database.db).monitorEvents(query)
        if json {
            print(String(decoding: LLMJSON.monitorEvents(events), as: UTF8.self))
            return
        }
        guard !events.isEmpty else {
            print("no monitor events match")
            return
        }
        printTable(
            header: ["TIME", "SERVICE", "MODEL", "IN", "OUT", "COST", "LATENCY", "FLAGGED", "PROMPT"],
            rows: events.map { event in
                let tokens = event.call.tokens
                let estimated = tokens.estimated ? "~" : ""
                return [
                    Prompts.time(event.createdAtUnixNano), event.service, event.call.model ?? "-",
                    tokens.input.map { estimated + String($0) } ?? "-", tokens.output.map { estimated + String($0) } ?? "-",
                    Prompts.usd(event.call.cost.usd), Prompts.ms(event.call.latencyMs), event.call.isFlagged ? "yes" : "",
                    String(event.prompt.replacingOccurrences(of: "\n", with: " ").prefix(60)),
                ]
            })
    }
}
