import Foundation
import SpindleCodec
import SpindleExport
import SpindleLLM
import SpindleModel
import SpindleStore

/// A span read from the outbox for one exporter.
public struct ForwardItem: Sendable {
    public enum Content: Sendable {
        /// The span, with its LLM call when it is one. (Boxed: an item is copied and moved around often.)
        indirect case span(StoredSpan, LLMCall?)
        /// The span already written in the upstream's format (a Braintrust row), a slice of the buffer
        /// that holds the rows read with it.
        case written(ArraySlice<UInt8>)
    }

    public var content: Content
    /// The span's row, for dead letters.
    public var row: Int64

    /// The span, when it was not written yet.
    var stored: StoredSpan? {
        guard case .span(let stored, _) = content else { return nil }
        return stored
    }
}

/// One HTTP request to send.
struct UpstreamRequest: Sendable {
    var url: URL
    var body: [UInt8]
    /// The body is gzip already (requests kept as received).
    var gzipped = false
}

/// The requests an exporter sends for a batch of items, in its upstream's format.
enum Payload {
    static func requests(_ items: ArraySlice<ForwardItem>, for exporter: ExporterConfiguration) -> [UpstreamRequest] {
        switch exporter.kind {
        case .otlpHTTP, .otlpGRPC:
            let traces = StoreReader.group(items.compactMap(\.stored))
            let body = exporter.json && exporter.kind == .otlpHTTP ? OTLPJSON.encodeTraces(traces) : OTLPProtobuf.encodeTraces(traces)
            return [UpstreamRequest(url: exporter.url, body: body)]
        case .braintrust:
            // Rows are written as spans are read (`ForwardService.load`); a span is written here only if not.
            var writer = JSONWriter(capacity: items.reduce(16) { $0 + size($1) })
            writer.raw("{\"events\":[")
            for (index, item) in items.enumerated() {
                if index > 0 { writer.raw(",") }
                switch item.content {
                case .written(let row): row.withUnsafeBufferPointer { writer.rawBytes($0) }
                case .span(let stored, let call): BraintrustExport.row(stored, call: call, into: &writer)
                }
            }
            writer.raw("]}")
            let url = exporter.url.appendingPathComponent("v1/project_logs/\(exporter.projectID ?? "")/insert")
            return [UpstreamRequest(url: url, body: writer.bytes)]
        case .evalguard:
            var requests: [UpstreamRequest] = []
            let events = items.compactMap(monitorEvent)
            if !events.isEmpty {
                var writer = JSONWriter(capacity: 1024 * events.count)
                writer.raw("{\"projectId\":")
                writer.string(exporter.projectID ?? "00000000-0000-0000-0000-000000000000")
                writer.raw(",\"logs\":[")
                for (index, event) in events.enumerated() {
                    if index > 0 { writer.raw(",") }
                    event.writeEvalGuard(into: &writer)
                }
                writer.raw("]}")
                requests.append(UpstreamRequest(url: exporter.url.appendingPathComponent("api/v1/monitoring"), body: writer.bytes))
            }
            // Prompt-version events, for prompts EvalGuard can name (its prompt ids are UUIDs).
            for event in events {
                guard let prompt = event.call.prompt, UUID(uuidString: prompt.id) != nil else { continue }
                var writer = JSONWriter()
                writer.raw("{\"prompt_id\":")
                writer.string(prompt.id.lowercased())
                writer.raw(",\"version_hash\":")
                writer.string(prompt.versionHash)
                writer.raw(",\"latency_ms\":")
                writer.number(event.call.latencyMs)
                if let cost = event.call.cost.usd {
                    writer.raw(",\"cost_usd\":")
                    writer.number(cost)
                }
                if let score = event.call.meanScore {
                    writer.raw(",\"score\":")
                    writer.number(score)
                }
                writer.raw("}")
                requests.append(
                    UpstreamRequest(url: exporter.url.appendingPathComponent("api/v1/prompts/analytics"), body: writer.bytes))
            }
            return requests
        case .basalt:
            return items.compactMap { item -> UpstreamRequest? in
                guard let event = monitorEvent(item), let prompt = event.call.prompt, let stored = item.stored else { return nil }
                var writer = JSONWriter()
                writer.raw("{\"slug\":")
                writer.string(prompt.id)
                writer.raw(",\"name\":")
                writer.string(stored.span.name)
                writer.raw(",\"version\":")
                writer.string(orNull: prompt.version)
                writer.raw(",\"input\":")
                writer.string(event.prompt)
                writer.raw(",\"output\":")
                writer.string(event.response)
                writer.raw(",\"variables\":[")
                for (index, variable) in prompt.variables.enumerated() {
                    if index > 0 { writer.raw(",") }
                    writer.raw("{\"label\":")
                    writer.string(variable.name)
                    writer.raw(",\"value\":")
                    writer.string(variable.value)
                    writer.raw("}")
                }
                writer.raw("],\"startTime\":")
                writer.time(unixNanos: stored.span.startTimeUnixNano)
                writer.raw(",\"endTime\":")
                writer.time(unixNanos: stored.span.endTimeUnixNano)
                writer.raw(",\"inputTokens\":")
                writer.number(orNull: event.call.tokens.input)
                writer.raw(",\"outputTokens\":")
                writer.number(orNull: event.call.tokens.output)
                writer.raw(",\"cost\":")
                writer.number(orNull: event.call.cost.usd)
                writer.raw("}")
                return UpstreamRequest(url: exporter.url.appendingPathComponent("monitor/log"), body: writer.bytes)
            }
        case .deeprails:
            return items.compactMap(monitorEvent).map { event in
                var writer = JSONWriter()
                event.writeDeepRails(into: &writer)
                return UpstreamRequest(
                    url: exporter.url.appendingPathComponent("monitor/\(exporter.monitorID ?? "")/events"), body: writer.bytes)
            }
        }
    }

    /// The monitor event of a counted LLM call.
    static func monitorEvent(_ item: ForwardItem) -> MonitorEvent? {
        guard case .span(let stored, let call?) = item.content, !call.isAggregate else { return nil }
        return MonitorEvent(
            project: stored.project, rootSpanID: stored.treeRootSpanID, spanID: stored.treeSpanID,
            service: stored.resource.serviceName, createdAtUnixNano: stored.span.startTimeUnixNano, call: call)
    }

    /// Roughly what an item adds to a request (for max-bytes).
    static func size(_ item: ForwardItem) -> Int {
        func size(_ value: AttributeValue) -> Int {
            switch value {
            case .string(let text): return text.utf8.count + 4
            case .array(let values): return values.reduce(4) { $0 + size($1) }
            case .kvlist(let attributes): return attributes.reduce(4) { $0 + $1.key.utf8.count + size($1.value) }
            case .bytes(let bytes): return bytes.count + 4
            default: return 10
            }
        }
        let stored: StoredSpan
        switch item.content {
        case .written(let row): return row.count + 1
        case .span(let span, _): stored = span
        }
        let span = stored.span
        if let attributes = stored.storedAttributes { return 120 + span.name.utf8.count + attributes.count }
        return 120 + span.name.utf8.count + span.attributes.reduce(0) { $0 + $1.key.utf8.count + size($1.value) }
    }
}
