import Foundation
import SpindleCodec
public import SpindleLLM
public import SpindleStore

/// The query API's JSON for prompts, prompt analytics and monitor events (also `spindle … --json`).
public enum LLMJSON {
    /// `{"prompts":[{prompt_id, project, implicit, calls, first_seen, last_seen, versions:[…]}]}`, versions
    /// newest first.
    public static func prompts(_ rows: [PromptVersionRow]) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 * rows.count + 32)
        writer.raw("{\"prompts\":[")
        var groups: [(key: String, rows: [PromptVersionRow])] = []
        for row in rows {
            let key = row.project + "\u{0}" + row.promptID
            if let index = groups.firstIndex(where: { $0.key == key }) {
                groups[index].rows.append(row)
            } else {
                groups.append((key, [row]))
            }
        }
        for (index, group) in groups.enumerated() {
            if index > 0 { writer.raw(",") }
            let first = group.rows[0]
            writer.raw("{\"prompt_id\":")
            writer.string(first.promptID)
            writer.raw(",\"project\":")
            writer.string(first.project)
            writer.raw(",\"implicit\":")
            writer.bool(first.isImplicit)
            writer.raw(",\"calls\":")
            writer.number(group.rows.reduce(0) { $0 + $1.calls })
            writer.raw(",\"first_seen\":")
            writer.time(unixNanos: group.rows.map(\.firstSeenUnixNano).min()!)
            writer.raw(",\"last_seen\":")
            writer.time(unixNanos: group.rows.map(\.lastSeenUnixNano).max()!)
            writer.raw(",\"versions\":[")
            for (versionIndex, row) in group.rows.enumerated() {
                if versionIndex > 0 { writer.raw(",") }
                writer.raw("{\"version_hash\":")
                writer.string(row.versionHash)
                writer.raw(",\"version\":")
                writer.string(orNull: row.version)
                writer.raw(",\"template\":")
                writer.string(orNull: row.template)
                writer.raw(",\"calls\":")
                writer.number(row.calls)
                writer.raw(",\"first_seen\":")
                writer.time(unixNanos: row.firstSeenUnixNano)
                writer.raw(",\"last_seen\":")
                writer.time(unixNanos: row.lastSeenUnixNano)
                writer.raw("}")
            }
            writer.raw("]}")
        }
        writer.raw("]}")
        return writer.bytes
    }

    /// `{"prompt_id", "bucket", "versions":[{version_hash, version, count, …, series?:[…]}]}`.
    public static func analytics(
        _ analytics: PromptAnalytics, labels: [String: String], bucket: String?
    ) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.raw("{\"prompt_id\":")
        writer.string(analytics.promptID)
        writer.raw(",\"bucket\":")
        writer.string(orNull: bucket)
        writer.raw(",\"versions\":[")
        for (index, version) in analytics.versions.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"version_hash\":")
            writer.string(version.versionHash)
            writer.raw(",\"version\":")
            writer.string(orNull: labels[version.versionHash])
            writer.raw(",")
            figures(version, &writer)
            if let series = analytics.series[version.versionHash] {
                writer.raw(",\"series\":[")
                for (bucketIndex, entry) in series.enumerated() {
                    if bucketIndex > 0 { writer.raw(",") }
                    writer.raw("{\"bucket_start\":")
                    writer.time(unixNanos: entry.startUnixNano)
                    writer.raw(",")
                    figures(entry.analytics, &writer)
                    writer.raw("}")
                }
                writer.raw("]")
            }
            writer.raw("}")
        }
        writer.raw("]}")
        return writer.bytes
    }

    private static func figures(_ version: PromptVersionAnalytics, _ writer: inout JSONWriter) {
        writer.raw("\"count\":")
        writer.number(version.count)
        writer.raw(",\"errors\":")
        writer.number(version.errors)
        writer.raw(",\"error_rate\":")
        writer.number(version.errorRate)
        writer.raw(",\"latency_ms\":{\"p50\":")
        writer.number(orNull: version.latencyP50)
        writer.raw(",\"p95\":")
        writer.number(orNull: version.latencyP95)
        writer.raw(",\"p99\":")
        writer.number(orNull: version.latencyP99)
        writer.raw("},\"cost_usd\":{\"total\":")
        writer.number(version.costTotal)
        writer.raw(",\"avg\":")
        writer.number(orNull: version.costAverage)
        writer.raw(",\"known\":")
        writer.number(version.costKnown)
        writer.raw("},\"tokens\":{\"input\":")
        writer.number(version.inputTokens)
        writer.raw(",\"output\":")
        writer.number(version.outputTokens)
        writer.raw(",\"total\":")
        writer.number(version.totalTokens)
        writer.raw("},\"score_avg\":")
        writer.number(orNull: version.scoreAverage)
        writer.raw(",\"first_seen\":")
        if version.count > 0 { writer.time(unixNanos: version.firstSeenUnixNano) } else { writer.null() }
        writer.raw(",\"last_seen\":")
        if version.count > 0 { writer.time(unixNanos: version.lastSeenUnixNano) } else { writer.null() }
    }

    /// `{"events":[…]}` (see `MonitorEvent.write`).
    public static func monitorEvents(_ events: [MonitorEvent]) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024 * events.count + 16)
        writer.raw("{\"events\":[")
        for (index, event) in events.enumerated() {
            if index > 0 { writer.raw(",") }
            event.write(into: &writer)
        }
        writer.raw("]}")
        return writer.bytes
    }



}
