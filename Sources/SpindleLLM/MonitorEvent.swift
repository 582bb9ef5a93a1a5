public import SpindleCodec
import Foundation

/// The monitor event every counted LLM call yields, in the shapes of the two monitoring APIs Spindle
/// speaks: DeepRails' monitor event and EvalGuard's production log.
public struct MonitorEvent: Sendable {
    /// Stable for a given span, so that forwarding it twice can be de-duplicated upstream.
    public var eventID: String
    public var project: String
    public var rootSpanID: String
    public var spanID: String
    /// The service that made the call (`service.name`): EvalGuard's appId.
    public var service: String
    public var createdAtUnixNano: UInt64
    public var call: LLMCall

    public init(project: String, rootSpanID: String, spanID: String, service: String?, createdAtUnixNano: UInt64, call: LLMCall) {
        self.project = project
        self.rootSpanID = rootSpanID
        self.spanID = spanID
        self.service = service ?? "unknown_service"
        self.createdAtUnixNano = createdAtUnixNano
        self.call = call
        eventID = Self.eventID(project: project, rootSpanID: rootSpanID, spanID: spanID)
    }

    /// `evt-` and a UUID-shaped digest of the span's identity.
    public static func eventID(project: String, rootSpanID: String, spanID: String) -> String {
        let hex = Array(PromptIdentity.sha256("\(project)/\(rootSpanID)/\(spanID)").prefix(32))
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }
        return "evt-" + groups.joined(separator: "-")
    }

    /// What the user asked: the last user message (else the last input message).
    public var prompt: String {
        (call.input.last { $0.role == "user" } ?? call.input.last { $0.role != "system" && $0.role != "developer" })?.text ?? ""
    }

    /// What the model was given besides the question: its system instructions.
    public var context: String { call.systemInstructions ?? "" }

    public var response: String { call.output.map(\.text).filter { !$0.isEmpty }.joined(separator: "\n") }

    public var createdAt: String { RFC3339.string(unixNanos: createdAtUnixNano) }

    /// `{event_id, root_span_id, span_id, project, created_at, flagged, deeprails:{…}, evalguard:{…}}`.
    public func write(into writer: inout JSONWriter) {
        writer.raw("{\"event_id\":")
        writer.string(eventID)
        writer.raw(",\"project\":")
        writer.string(project)
        writer.raw(",\"root_span_id\":")
        writer.string(rootSpanID)
        writer.raw(",\"span_id\":")
        writer.string(spanID)
        writer.raw(",\"created_at\":")
        writer.string(createdAt)
        writer.raw(",\"flagged\":")
        writer.bool(call.isFlagged)
        writer.raw(",\"deeprails\":")
        writeDeepRails(into: &writer)
        writer.raw(",\"evalguard\":")
        writeEvalGuard(into: &writer)
        writer.raw("}")
    }

    /// DeepRails' create-event body: model_input, model_output, temperature, top_p, top_k, model, tokens.
    public func writeDeepRails(into writer: inout JSONWriter) {
        writer.raw("{\"model_input\":{\"prompt\":")
        writer.string(prompt)
        writer.raw(",\"context\":")
        writer.string(context)
        writer.raw("},\"model_output\":{\"response\":")
        writer.string(response)
        writer.raw("},\"temperature\":")
        number(call.parameters.temperature, &writer)
        writer.raw(",\"top_p\":")
        number(call.parameters.topP, &writer)
        writer.raw(",\"top_k\":")
        number(call.parameters.topK, &writer)
        writer.raw(",\"model\":")
        if let model = call.model { writer.string(model) } else { writer.null() }
        writer.raw(",\"tokens\":{\"input_tokens\":")
        number(call.tokens.input.map(Double.init), &writer)
        writer.raw(",\"output_tokens\":")
        number(call.tokens.output.map(Double.init), &writer)
        writer.raw("}}")
    }

    /// One EvalGuard monitoring log: appId, model, input, output, scores, latencyMs, costUsd (and flagged).
    public func writeEvalGuard(into writer: inout JSONWriter) {
        writer.raw("{\"appId\":")
        writer.string(service)
        writer.raw(",\"model\":")
        writer.string(call.model ?? "")
        writer.raw(",\"input\":")
        writer.string(prompt)
        writer.raw(",\"output\":")
        writer.string(response)
        writer.raw(",\"scores\":")
        LLMCallJSON.scores(call.scores, into: &writer)
        writer.raw(",\"latencyMs\":")
        writer.number(call.latencyMs)
        writer.raw(",\"costUsd\":")
        number(call.cost.usd, &writer)
        writer.raw(",\"flagged\":")
        writer.bool(call.isFlagged)
        writer.raw("}")
    }

    private func number(_ value: Double?, _ writer: inout JSONWriter) {
        if let value {
            // Whole numbers print as integers (token counts, top_k).
            if value == value.rounded(), abs(value) < 1e15 { writer.number(Int64(value)) } else { writer.number(value) }
        } else {
            writer.null()
        }
    }
}
