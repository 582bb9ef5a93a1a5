import Foundation
import Hummingbird
import NIOPosix
import SpindleCodec
import SpindleLLM
import SpindleModel
import SpindleStore

/// DeepRails' monitor events: `POST /monitor/{monitor_id}/events` stores one AI response event as a span;
/// `GET /monitor/{monitor_id}/events/{event_id}` returns it as it stands now. The event id is a UUID that
/// is also the span's trace id, so finding an event is an index lookup.
struct DeepRailsAPI: Sendable {
    let ingest: VendorIngest
    let readers: ReaderPool

    func create(_ request: Request, monitorID: String, project: String) async -> Response {
        do throws(VendorError) {
            let body = try FieldReader(try await ingest.body(request), path: "")
            let input = try body.object("model_input")
            let output = try body.object("model_output")
            guard let input else { throw VendorError.invalid("model_input", "is required") }
            guard let output else { throw VendorError.invalid("model_output", "is required") }
            let prompt = try input.string("prompt")
            let context = try input.string("context")
            let response = try output.string("response")
            let tokens = try body.object("tokens")
            let model = try body.string("model")
            let temperature = try body.number("temperature")
            let topP = try body.number("top_p")
            let topK = try body.number("top_k")
            let inputTokens = try tokens?.number("input_tokens")
            let outputTokens = try tokens?.number("output_tokens")

            let eventUUID = UUID()
            var record = VendorSpan(source: "deeprails", name: "deeprails.event \(monitorID)", service: "deeprails")
            record.traceID = TraceID(bytes: withUnsafeBytes(of: eventUUID.uuid) { Array($0) })!
            record.model = model
            record.system = context
            record.input = prompt
            record.output = response
            record.inputTokens = inputTokens.map { Int($0) }
            record.outputTokens = outputTokens.map { Int($0) }
            if let temperature { record.attributes.append(Attribute("gen_ai.request.temperature", .double(temperature))) }
            if let topP { record.attributes.append(Attribute("gen_ai.request.top_p", .double(topP))) }
            if let topK { record.attributes.append(Attribute("gen_ai.request.top_k", .double(topK))) }
            let eventID = "evt-" + eventUUID.uuidString.lowercased()
            record.attributes += [
                Attribute("deeprails.monitor_id", .string(monitorID)),
                Attribute("deeprails.event_id", .string(eventID)),
                // The body as sent, so that reading the event back returns what was given.
                Attribute("deeprails.model_input", .string(VendorSpan.json(.object(input.object)))),
                Attribute("deeprails.model_output", .string(VendorSpan.json(.object(output.object)))),
            ]
            if let tokens { record.attributes.append(Attribute("deeprails.tokens", .string(VendorSpan.json(.object(tokens.object))))) }
            let parameters = JSONValue.object(
                ["temperature", "top_p", "top_k"].compactMap { key in body.value(key).map { (key, $0) } })
            record.attributes.append(Attribute("deeprails.parameters", .string(VendorSpan.json(parameters))))
            try await ingest.store(VendorSpan.traces([record]), project: project)

            var writer = JSONWriter()
            writer.raw("{\"success\":true,\"data\":")
            Self.writeEvent(
                eventID: eventID, monitorID: monitorID, input: .object(input.object), output: .object(output.object),
                parameters: parameters, model: model,
                tokens: tokens.map { .object($0.object) }, createdAt: record.end, scores: [], into: &writer)
            writer.raw(",\"message\":\"Monitor event created successfully\"}")
            return VendorResponse.json(.created, writer.bytes)
        } catch {
            return error.response
        }
    }

    func read(monitorID: String, eventID: String, project: String?) async -> Response {
        let notFound = VendorError(status: .notFound, message: "no event \(eventID) for monitor \(monitorID)")
        guard eventID.hasPrefix("evt-"), let uuid = UUID(uuidString: String(eventID.dropFirst(4))) else {
            return notFound.response
        }
        let traceID = TraceID(bytes: withUnsafeBytes(of: uuid.uuid) { Array($0) })!
        do {
            return try await NIOThreadPool.singleton.runIfActive {
                try readers.withReader { reader in
                    let spans = try reader.spans(rootSpanID: traceID.hex, project: project)
                    guard let stored = spans.first(where: { $0.span.attributes[key: "deeprails.event_id"] == .string(eventID) }),
                        stored.span.attributes[key: "deeprails.monitor_id"] == .string(monitorID)
                    else { return notFound.response }
                    let attributes = stored.span.attributes
                    func json(_ key: String) -> JSONValue? {
                        attributes[key: key]?.stringValue.flatMap { try? JSONValue.parse($0) }
                    }
                    // Scores that arrived since (evaluation events) are the evaluation results.
                    let call = try reader.llmCalls(rootSpanID: traceID.hex, project: stored.project)[stored.span.spanID.hex]
                        .flatMap { $0.call(from: stored.span) }
                    var writer = JSONWriter()
                    writer.raw("{\"success\":true,\"data\":")
                    Self.writeEvent(
                        eventID: eventID, monitorID: monitorID, input: json("deeprails.model_input") ?? .object([]),
                        output: json("deeprails.model_output") ?? .object([]),
                        parameters: json("deeprails.parameters") ?? .object([]), model: call?.model,
                        tokens: json("deeprails.tokens"),
                        createdAt: stored.span.endTimeUnixNano, scores: call?.scores ?? [], into: &writer)
                    writer.raw("}")
                    return VendorResponse.json(.ok, writer.bytes)
                }
            }
        } catch {
            return VendorError(status: .internalServerError, message: "could not read the store: \(error)").response
        }
    }

    static func writeEvent(
        eventID: String, monitorID: String, input: JSONValue, output: JSONValue, parameters: JSONValue, model: String?,
        tokens: JSONValue?, createdAt: UInt64, scores: [Score], into writer: inout JSONWriter
    ) {
        // The parameters as the client wrote them (50 stays 50, 0.7 stays 0.7); absent ones are null.
        func parameter(_ key: String) { writer.value(parameters[key] ?? .null) }
        writer.raw("{\"event_id\":")
        writer.string(eventID)
        writer.raw(",\"monitor_id\":")
        writer.string(monitorID)
        writer.raw(",\"model_input\":")
        writer.value(input)
        writer.raw(",\"model_output\":")
        writer.value(output)
        writer.raw(",\"temperature\":")
        parameter("temperature")
        writer.raw(",\"top_p\":")
        parameter("top_p")
        writer.raw(",\"top_k\":")
        parameter("top_k")
        writer.raw(",\"model\":")
        if let model { writer.string(model) } else { writer.null() }
        writer.raw(",\"tokens\":")
        writer.value(tokens ?? .object([]))
        writer.raw(",\"created_at\":")
        writer.time(unixNanos: createdAt)
        writer.raw(",\"evaluation_status\":")
        writer.string(scores.isEmpty ? "pending" : "completed")
        writer.raw(",\"evaluation_results\":")
        LLMCallJSON.scores(scores, into: &writer)
        writer.raw("}")
    }
}
