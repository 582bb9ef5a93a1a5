import Foundation
import SpindleCodec
import SpindleModel

/// A record from a vendor logging API, as the span Spindle stores for it: OTel GenAI attributes (so the
/// LLM extractor reads it like any instrumented call), plus the vendor's own fields under its prefix.
struct VendorSpan {
    var source: String
    var name: String
    var service: String
    var traceID = TraceID(high: .random(in: 1...UInt64.max), low: .random(in: 0...UInt64.max))
    var spanID = SpanID(.random(in: 1...UInt64.max))
    var start: UInt64
    var end: UInt64
    var model: String?
    var system: String?
    var input: String?
    var output: String?
    var inputTokens: Int?
    var outputTokens: Int?
    var costUSD: Double?
    var scores: [(name: String, value: Double)] = []
    var attributes: [Attribute] = []

    init(source: String, name: String, service: String, start: UInt64? = nil, end: UInt64? = nil, latencyMs: Double? = nil) {
        self.source = source
        self.name = name
        self.service = service
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        let finish = end ?? now
        self.end = finish
        self.start = start ?? (latencyMs.map { finish - min(finish, UInt64(max(0, $0) * 1e6)) } ?? finish)
    }

    var span: Span {
        var all: [Attribute] = [
            Attribute("gen_ai.operation.name", .string("chat")),
            Attribute("spindle.source", .string(source)),
        ]
        if let model { all.append(Attribute("gen_ai.request.model", .string(model))) }
        if system != nil || input != nil {
            var messages: [JSONValue] = []
            if let system { messages.append(Self.message("system", system)) }
            if let input { messages.append(Self.message("user", input)) }
            all.append(Attribute("gen_ai.input.messages", .string(Self.json(.array(messages)))))
        }
        if let output {
            all.append(Attribute("gen_ai.output.messages", .string(Self.json(.array([Self.message("assistant", output)])))))
        }
        if let inputTokens { all.append(Attribute("gen_ai.usage.input_tokens", .int(Int64(inputTokens)))) }
        if let outputTokens { all.append(Attribute("gen_ai.usage.output_tokens", .int(Int64(outputTokens)))) }
        if let costUSD { all.append(Attribute("gen_ai.usage.cost", .double(costUSD))) }
        all += attributes
        let events = scores.map { score in
            SpanEvent(
                timeUnixNano: end, name: "gen_ai.evaluation.result",
                attributes: [
                    Attribute("gen_ai.evaluation.name", .string(score.name)),
                    Attribute("gen_ai.evaluation.score.value", .double(score.value)),
                ])
        }
        return Span(
            traceID: traceID, spanID: spanID, name: name, kind: .client, startTimeUnixNano: start, endTimeUnixNano: end,
            attributes: all, events: events)
    }

    /// Spans grouped under their services, one request's worth.
    static func traces(_ records: [VendorSpan]) -> TracesData {
        var byService: [(String, [Span])] = []
        for record in records {
            if let index = byService.firstIndex(where: { $0.0 == record.service }) {
                byService[index].1.append(record.span)
            } else {
                byService.append((record.service, [record.span]))
            }
        }
        return TracesData(
            resourceSpans: byService.map { service, spans in
                ResourceSpans(
                    resource: Resource(attributes: [Attribute("service.name", .string(service))]),
                    scopeSpans: [ScopeSpans(scope: InstrumentationScope(name: "spindle.vendor-api"), spans: spans)])
            })
    }

    static func message(_ role: String, _ text: String) -> JSONValue {
        .object([("role", .string(role)), ("parts", .array([.object([("type", .string("text")), ("content", .string(text))])]))])
    }

    static func json(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.value(value)
        return writer.string
    }
}
