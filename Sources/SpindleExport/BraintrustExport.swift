import Foundation
public import SpindleCodec
public import SpindleLLM
import SpindleModel
public import SpindleStore

/// A Braintrust project-logs insert body, `{"events":[...]}`, one row per span: the span's ids as the
/// row's tree (`span_id`, `root_span_id`, `span_parents`), its timing in `metrics`, its name and kind in
/// `span_attributes`, its attributes in `metadata`, and `error` for a failed span. An LLM call's row is
/// of type `llm`, with its messages as `input`/`output`, its tokens in `metrics`, its model and
/// parameters in `metadata`, and its scores.
public enum BraintrustExport {
    public static func encode(_ documents: [TraceDocument]) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.raw("{\"events\":[")
        var first = true
        for document in documents {
            for node in document.tree.depthFirst {
                if !first { writer.raw(",") }
                first = false
                row(document.span(node), call: document.llmCall(node), into: &writer)
            }
        }
        writer.raw("]}")
        return writer.bytes
    }

    /// One span as a row. A span read with its attributes as stored (`AttributeDecoding.deferred`) and no
    /// LLM call has them copied into `metadata` as they are when they are plain JSON already (see
    /// `SpanJSON.storedAttributes`) and hold neither a row id nor keys the resource's would shadow.
    public static func row(_ stored: StoredSpan, call: LLMCall?, into writer: inout JSONWriter) {
        var resources = ResourceParts()
        row(stored, call: call, resources: &resources, into: &writer)
    }

    /// Each resource's part of a row's `metadata` (`"resource.KEY":value,…`), written once per stored resource.
    public struct ResourceParts {
        private var parts: [Int64: [UInt8]] = [:]
        private var last: (key: Int64, part: [UInt8])?

        public init() {}

        mutating func part(_ stored: StoredSpan) -> [UInt8] {
            part(key: stored.resourceKey) { stored.resource }
        }

        /// The part of the resource with row id `key` (0: none, not kept), `resource` read only when not known.
        mutating func part(key: Int64, _ resource: () throws -> Resource) rethrows -> [UInt8] {
            if key != 0, key == last?.key { return last!.part }  // spans of one request share their resource
            if key != 0, let part = parts[key] {
                last = (key, part)
                return part
            }
            var writer = JSONWriter(capacity: 256)
            SpanJSON.attributes(try resource().attributes.map { Attribute("resource." + $0.key, $0.value) }, into: &writer)
            let part = Array(writer.bytes.dropFirst().dropLast())
            if key != 0 { parts[key] = part }
            return part
        }
    }

    /// One span as a row, with the resource parts of earlier rows.
    public static func row(_ stored: StoredSpan, call: LLMCall?, resources: inout ResourceParts, into writer: inout JSONWriter) {
        if let attributes = stored.storedAttributes {
            if call == nil, SpanJSON.isPlainObject(attributes, rejectsKey: Self.needsDecodedAttributes) {
                row(stored, call: nil, plainAttributes: attributes, resourcePart: resources.part(stored), into: &writer)
                return
            }
            var decoded = stored
            decoded.span.attributes = (try? OTLPJSON.decodeAttributes(attributes)) ?? []
            decoded.storedAttributes = nil
            row(decoded, call: call, plainAttributes: nil, resourcePart: [], into: &writer)
            return
        }
        row(stored, call: call, plainAttributes: nil, resourcePart: [], into: &writer)
    }

    /// A span row as a row, straight from its columns: what `row(_:call:resources:into:)` writes for the
    /// span, without building it. Only for a span that is no LLM call, whose attributes are plain as
    /// stored (see `row(_:call:resources:into:)`); false, with nothing written, for others.
    public static func row(
        columns row: borrowing StoredSpanRow, resources: inout ResourceParts, into writer: inout JSONWriter
    ) throws -> Bool {
        let attributes = row.text(.attributes)
        // Parents as stored are a JSON array written like a row's (NULL for a root).
        let parents = row.text(.spanParents)
        guard SpanJSON.isPlainObject(attributes, rejectsKey: Self.needsDecodedAttributes),
            parents.isEmpty || (parents.first == UInt8(ascii: "[") && parents.last == UInt8(ascii: "]"))
        else { return false }
        let resourcePart = try resources.part(key: row.integer(.resourceID)) { try row.resource() }
        let spanID = row.text(.spanID)
        writer.raw("{\"id\":")
        writer.string(utf8: spanID)
        writer.raw(",\"span_id\":")
        writer.string(utf8: spanID)
        writer.raw(",\"root_span_id\":")
        writer.string(utf8: row.text(.rootSpanID))
        writer.raw(",\"span_parents\":")
        if parents.isEmpty { writer.raw("[]") } else { writer.rawBytes(parents) }
        let start = UInt64(bitPattern: row.integer(.startTimeUnixNano))
        writer.raw(",\"created\":")
        writer.time(unixNanos: start)
        writer.raw(",\"span_attributes\":{\"name\":")
        writer.string(utf8: row.text(.name))
        writer.raw(",\"type\":\"task\"},")
        timeMetrics(start: start, end: UInt64(bitPattern: row.integer(.endTimeUnixNano)), into: &writer)
        writer.raw("},\"metadata\":")
        metadata(plainAttributes: attributes, resourcePart: resourcePart, into: &writer)
        if row.integer(.statusCode) == Int64(StatusCode.error.rawValue) {
            let message = row.text(.statusMessage)
            writer.raw(",\"error\":")
            if message.isEmpty { writer.raw("\"error\"") } else { writer.string(utf8: message) }
        }
        writer.raw("}")
        return true
    }

    /// Keys that a row cannot copy as stored: the row id, and keys the resource's would shadow.
    static func needsDecodedAttributes(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        func starts(_ prefix: StaticString) -> Bool {
            key.count >= prefix.utf8CodeUnitCount && memcmp(key.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
        }
        guard let first = key.first, first == UInt8(ascii: "r") || first == UInt8(ascii: "b") else { return false }
        return starts("resource.") || (key.count == 13 && starts("braintrust.id"))
    }

    /// `plainAttributes`: the span's attributes as a plain JSON object, to write instead of `span.attributes`,
    /// followed by `resourcePart`.
    private static func row(
        _ stored: StoredSpan, call: LLMCall?, plainAttributes: [UInt8]?, resourcePart: [UInt8], into writer: inout JSONWriter
    ) {
        let span = stored.span
        writer.raw("{\"id\":")
        // A row that came in through the Braintrust API keeps its row id.
        writer.string(span.attributes[key: "braintrust.id"]?.stringValue ?? stored.treeSpanID)
        writer.raw(",")
        SpanJSON.treeIdentity(stored, into: &writer)
        writer.raw(",\"created\":")
        writer.time(unixNanos: span.startTimeUnixNano)
        writer.raw(",\"span_attributes\":{\"name\":")
        writer.string(span.name)
        writer.raw(",\"type\":")
        writer.string(call.map { $0.isAggregate ? "task" : "llm" } ?? "task")
        writer.raw("},")
        timeMetrics(start: span.startTimeUnixNano, end: span.endTimeUnixNano, into: &writer)
        if let call, !call.isAggregate { tokenMetrics(call.tokens, into: &writer) }
        writer.raw("}")
        if let call {
            writer.raw(",\"input\":")
            messages(call.input, into: &writer)
            writer.raw(",\"output\":")
            messages(call.output, into: &writer)
            if !call.scores.isEmpty {
                writer.raw(",\"scores\":")
                LLMCallJSON.scores(call.scores, into: &writer)
            }
        }
        writer.raw(",\"metadata\":")
        if let plainAttributes {
            plainAttributes.withUnsafeBufferPointer { metadata(plainAttributes: $0, resourcePart: resourcePart, into: &writer) }
        } else {
            metadata(stored, call: call, into: &writer)
        }
        if span.status.code == .error {
            writer.raw(",\"error\":")
            writer.string(span.status.message.isEmpty ? "error" : span.status.message)
        }
        writer.raw("}")
    }

    /// `"metrics":{"start":…,"end":…` (seconds), left open for more metrics.
    private static func timeMetrics(start: UInt64, end: UInt64, into writer: inout JSONWriter) {
        writer.raw("\"metrics\":{\"start\":")
        writer.seconds(unixNanos: start)
        writer.raw(",\"end\":")
        writer.seconds(unixNanos: end)
    }

    /// Plain stored attributes (an object) without their closing brace, then the resource's part.
    private static func metadata(
        plainAttributes: UnsafeBufferPointer<UInt8>, resourcePart: [UInt8], into writer: inout JSONWriter
    ) {
        writer.rawBytes(UnsafeBufferPointer(rebasing: plainAttributes.dropLast()))
        if !resourcePart.isEmpty {
            if plainAttributes.count > 2 { writer.raw(",") }
            writer.rawBytes(resourcePart)
        }
        writer.raw("}")
    }

    /// The span's attributes, the resource's (as `resource.KEY`) and the call's model and parameters.
    private static func metadata(_ stored: StoredSpan, call: LLMCall?, into writer: inout JSONWriter) {
        var metadata = stored.span.attributes + stored.resource.attributes.map { Attribute("resource." + $0.key, $0.value) }
        if let call {
            if let model = call.model { metadata.append(Attribute("model", .string(model))) }
            if let provider = call.provider { metadata.append(Attribute("provider", .string(provider))) }
            if let value = call.parameters.temperature { metadata.append(Attribute("temperature", .double(value))) }
            if let value = call.parameters.topP { metadata.append(Attribute("top_p", .double(value))) }
            if let value = call.parameters.maxTokens { metadata.append(Attribute("max_tokens", .int(Int64(value)))) }
            if let cost = call.cost.usd { metadata.append(Attribute("cost_usd", .double(cost))) }
        }
        SpanJSON.attributes(metadata, into: &writer)
    }

    /// Braintrust's token metric names.
    private static func tokenMetrics(_ tokens: TokenUsage, into writer: inout JSONWriter) {
        let metrics: [(StaticString, Int?)] = [
            ("prompt_tokens", tokens.input), ("completion_tokens", tokens.output), ("tokens", tokens.total),
            ("prompt_cached_tokens", tokens.cacheRead), ("prompt_cache_creation_tokens", tokens.cacheWrite),
            ("completion_reasoning_tokens", tokens.reasoning),
        ]
        for (name, value) in metrics {
            guard let value else { continue }
            writer.raw(",")
            writer.key(name)
            writer.number(value)
        }
    }

    /// Messages in the OpenAI chat shape Braintrust shows: `[{role, content, tool_calls?}]`.
    private static func messages(_ messages: [LLMMessage], into writer: inout JSONWriter) {
        writer.raw("[")
        for (index, message) in messages.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"role\":")
            writer.string(message.role)
            writer.raw(",\"content\":")
            writer.string(message.text)
            if !message.toolCalls.isEmpty {
                writer.raw(",\"tool_calls\":[")
                for (callIndex, call) in message.toolCalls.enumerated() {
                    if callIndex > 0 { writer.raw(",") }
                    writer.raw("{\"id\":")
                    writer.string(call.id ?? "")
                    writer.raw(",\"type\":\"function\",\"function\":{\"name\":")
                    writer.string(call.name)
                    writer.raw(",\"arguments\":")
                    writer.string(call.arguments)
                    writer.raw("}}")
                }
                writer.raw("]")
            }
            if let id = message.toolCallID {
                writer.raw(",\"tool_call_id\":")
                writer.string(id)
            }
            writer.raw("}")
        }
        writer.raw("]")
    }
}
