import Foundation
public import SpindleCodec
public import SpindleLLM
public import SpindleModel
public import SpindleStore
public import SpindleTree

/// The query API's JSON: spans as flat objects with plain attribute values, trees as nested nodes.
/// Nanosecond times are decimal strings (as in OTLP JSON), so JavaScript clients keep every digit.
public enum SpanJSON {
    public static func summary(_ summary: TraceSummary, into writer: inout JSONWriter) {
        writer.raw("{\"project\":")
        writer.string(summary.project)
        writer.raw(",\"root_span_id\":")
        writer.string(summary.rootSpanID)
        writer.raw(",\"start_time_unix_nano\":")
        writer.quotedNumber(summary.startTimeUnixNano)
        writer.raw(",\"end_time_unix_nano\":")
        writer.quotedNumber(summary.endTimeUnixNano)
        writer.raw(",\"duration_ms\":")
        writer.number(Double(summary.durationNanos) / 1e6)
        writer.raw(",\"span_count\":")
        writer.number(summary.spanCount)
        writer.raw(",\"error_count\":")
        writer.number(summary.errorCount)
        writer.raw(",\"orphan_count\":")
        writer.number(summary.orphanCount)
        writer.raw(",\"root_name\":")
        optional(summary.rootName, into: &writer)
        writer.raw(",\"root_service\":")
        optional(summary.rootService, into: &writer)
        writer.raw(",")
        totals(summary.llm, into: &writer)
        writer.raw("}")
    }

    /// `"llm_calls":…,"input_tokens":…,"output_tokens":…,"total_tokens":…,"cost_usd":…` (no braces).
    public static func totals(_ totals: LLMTotals, into writer: inout JSONWriter) {
        writer.raw("\"llm_calls\":")
        writer.number(totals.calls)
        writer.raw(",\"input_tokens\":")
        writer.number(totals.inputTokens)
        writer.raw(",\"output_tokens\":")
        writer.number(totals.outputTokens)
        writer.raw(",\"total_tokens\":")
        writer.number(totals.totalTokens)
        writer.raw(",\"cost_usd\":")
        writer.number(totals.costUSD)
    }

    /// What a span object shows of LLM calls: its own (`llm`) and its subtree's totals (`subtree`).
    public struct LLMParts {
        public var call: LLMCall?
        public var subtree: LLMTotals?

        public init(call: LLMCall?, subtree: LLMTotals?) {
            self.call = call
            self.subtree = subtree
        }
    }

    /// A page of trace summaries: `{"traces":[...],"next_cursor":...}` (API and `spindle traces --json`).
    public static func traceList(_ traces: [TraceSummary], next: TraceCursor?) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 * traces.count + 64)
        writer.raw("{\"traces\":[")
        for (index, summary) in traces.enumerated() {
            if index > 0 { writer.raw(",") }
            Self.summary(summary, into: &writer)
        }
        writer.raw("],\"next_cursor\":")
        optional(next?.description, into: &writer)
        writer.raw("}")
        return writer.bytes
    }

    /// `"span_id":…,"root_span_id":…,"span_parents":[…]`: a span's place in Braintrust's tree model.
    public static func treeIdentity(_ stored: StoredSpan, into writer: inout JSONWriter) {
        writer.raw("\"span_id\":")
        writer.string(stored.treeSpanID)
        writer.raw(",\"root_span_id\":")
        writer.string(stored.treeRootSpanID)
        writer.raw(",\"span_parents\":[")
        for (index, parent) in stored.treeParents.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(parent)
        }
        writer.raw("]")
    }

    /// Encoded resource and scope objects, by their row ids: many spans share one, so each is written once
    /// and copied after that.
    public final class SharedParts {
        private struct Key: Hashable {
            var resource: Int64
            var scope: Int64
        }
        private var encoded: [Key: [UInt8]] = [:]

        public init() {}

        func bytes(for stored: StoredSpan, encode: () -> [UInt8]) -> [UInt8] {
            guard stored.resourceKey != 0 else { return encode() }
            let key = Key(resource: stored.resourceKey, scope: stored.scopeKey)
            if let cached = encoded[key] { return cached }
            let fresh = encode()
            encoded[key] = fresh
            return fresh
        }
    }

    /// One span as a flat object. `node` adds the tree's findings (missing parent, other parents, cycle).
    public static func span(
        _ stored: StoredSpan, node: TraceTree.Node?, into writer: inout JSONWriter, shared: SharedParts? = nil,
        llm: LLMParts? = nil
    ) {
        let span = stored.span
        writer.raw("{")
        treeIdentity(stored, into: &writer)
        writer.raw(",\"project\":")
        writer.string(stored.project)
        writer.raw(",\"name\":")
        writer.string(span.name)
        writer.raw(",\"kind\":")
        writer.string(span.kind.description)
        writer.raw(",\"start_time_unix_nano\":")
        writer.quotedNumber(span.startTimeUnixNano)
        writer.raw(",\"end_time_unix_nano\":")
        writer.quotedNumber(span.endTimeUnixNano)
        writer.raw(",\"duration_ms\":")
        writer.number(Double(span.durationNanos) / 1e6)
        writer.raw(",\"status\":{\"code\":")
        writer.string(span.status.code.description)
        writer.raw(",\"message\":")
        writer.string(span.status.message)
        writer.raw("},\"trace_state\":")
        writer.string(span.traceState)
        writer.raw(",\"flags\":")
        writer.number(span.flags)
        writer.raw(",\"attributes\":")
        if let stored = stored.storedAttributes {
            storedAttributes(stored, into: &writer)
        } else {
            attributes(span.attributes, into: &writer)
        }
        writer.raw(",\"dropped_attributes_count\":")
        writer.number(span.droppedAttributesCount)
        writer.raw(",\"events\":[")
        for (index, event) in span.events.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"time_unix_nano\":")
            writer.quotedNumber(event.timeUnixNano)
            writer.raw(",\"name\":")
            writer.string(event.name)
            writer.raw(",\"attributes\":")
            attributes(event.attributes, into: &writer)
            writer.raw("}")
        }
        writer.raw("],\"links\":[")
        for (index, link) in span.links.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"trace_id\":\"")
            writer.rawUTF8(link.traceID.hex)
            writer.raw("\",\"span_id\":\"")
            writer.rawUTF8(link.spanID.hex)
            writer.raw("\",\"trace_state\":")
            writer.string(link.traceState)
            writer.raw(",\"attributes\":")
            attributes(link.attributes, into: &writer)
            writer.raw("}")
        }
        writer.raw("],")
        let parts = shared?.bytes(for: stored) { resourceAndScope(stored) } ?? resourceAndScope(stored)
        writer.rawBytes(parts)
        if let call = llm?.call {
            writer.raw(",\"llm\":")
            LLMCallJSON.write(call, into: &writer)
        }
        if let subtree = llm?.subtree {
            writer.raw(",\"subtree\":{")
            totals(subtree, into: &writer)
            writer.raw("}")
        }
        if let node {
            if node.missingParent { writer.raw(",\"missing_parent\":true") }
            if node.cycleBroken { writer.raw(",\"cycle_broken\":true") }
            if !node.otherParents.isEmpty {
                writer.raw(",\"other_parents\":[")
                for (index, parent) in node.otherParents.enumerated() {
                    if index > 0 { writer.raw(",") }
                    writer.string(parent)
                }
                writer.raw("]")
            }
        }
        writer.raw("}")
    }

    /// `"resource":{...},"scope":{...}`.
    static func resourceAndScope(_ stored: StoredSpan) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.raw("\"resource\":{\"attributes\":")
        attributes(stored.resource.attributes, into: &writer)
        writer.raw(",\"schema_url\":")
        writer.string(stored.resourceSchemaURL)
        writer.raw("},\"scope\":{\"name\":")
        writer.string(stored.scope.name)
        writer.raw(",\"version\":")
        writer.string(stored.scope.version)
        writer.raw(",\"attributes\":")
        attributes(stored.scope.attributes, into: &writer)
        writer.raw("}")
        return writer.bytes
    }

    /// Stored attributes (compact typed JSON) as plain JSON. Without tagged values or repeated keys the
    /// stored text already is the plain form and is copied as it is; otherwise it is decoded and rewritten.
    static func storedAttributes(_ stored: [UInt8], into writer: inout JSONWriter) {
        if isPlainObject(stored) {
            writer.rawBytes(stored)
        } else if let decoded = try? OTLPJSON.decodeAttributes(stored) {
            attributes(decoded, into: &writer)
        } else {
            writer.raw("{}")
        }
    }

    /// A JSON object with no object nested in it (outside strings): no tagged values, no kvlists; and,
    /// for compact JSON (no space before a colon), none of whose keys `rejectsKey` (given the key's bytes
    /// as written, without quotes).
    static func isPlainObject(
        _ bytes: [UInt8], rejectsKey: (UnsafeBufferPointer<UInt8>) -> Bool = { _ in false }
    ) -> Bool {
        bytes.withUnsafeBufferPointer { isPlainObject($0, rejectsKey: rejectsKey) }
    }

    static func isPlainObject(
        _ buffer: UnsafeBufferPointer<UInt8>, rejectsKey: (UnsafeBufferPointer<UInt8>) -> Bool = { _ in false }
    ) -> Bool {
        guard buffer.first == UInt8(ascii: "{"), let base = buffer.baseAddress else { return false }
        let end = base + buffer.count
        // Outside strings, look at each byte up to the next quote; inside, jump with memchr to the
        // closing quote (one not escaped by an odd run of backslashes). Strings are most of the text.
        var cursor = base + 1
        while cursor < end {
            let byte = cursor.pointee
            if byte == UInt8(ascii: "{") { return false }
            guard byte == UInt8(ascii: "\"") else {
                cursor += 1
                continue
            }
            var search = cursor + 1
            while true {
                guard let found = memchr(search, Int32(UInt8(ascii: "\"")), end - search) else { return true }
                let quote = UnsafePointer(found.assumingMemoryBound(to: UInt8.self))
                var backslashes = 0
                while quote - backslashes - 1 > cursor, (quote - backslashes - 1).pointee == UInt8(ascii: "\\") {
                    backslashes += 1
                }
                search = quote + 1
                if backslashes % 2 == 0 { break }
            }
            if search < end, search.pointee == UInt8(ascii: ":"),
                rejectsKey(UnsafeBufferPointer(start: cursor + 1, count: search - cursor - 2))
            {
                return false
            }
            cursor = search
        }
        return true
    }

    /// The forest as nested nodes, written with an explicit stack (traces can be 10,000 levels deep).
    public static func tree(_ document: TraceDocument, into writer: inout JSONWriter) {
        // Spans are borrowed in place: a copied span retains everything it holds.
        document.spans.withUnsafeBufferPointer { spans in tree(document, spans: spans, into: &writer) }
    }

    private static func tree(_ document: TraceDocument, spans: UnsafeBufferPointer<StoredSpan>, into writer: inout JSONWriter) {
        let tree = document.tree
        writer.raw("[")
        // Each frame: the sibling list being written and the position in it.
        var stack: [(siblings: [Int], next: Int)] = [(tree.roots, 0)]
        while !stack.isEmpty {
            let top = stack.count - 1
            let (siblings, next) = stack[top]
            guard next < siblings.count else {
                stack.removeLast()
                writer.raw(stack.isEmpty ? "]" : "]}")
                continue
            }
            stack[top].next += 1
            if next > 0 { writer.raw(",") }
            let nodeIndex = siblings[next]
            let node = tree.nodes[nodeIndex].span
            writer.raw("{\"span_id\":")
            writer.string(spans[node].treeSpanID)
            writer.raw(",\"name\":")
            writer.string(spans[node].span.name)
            writer.raw(",\"start_time_unix_nano\":")
            writer.quotedNumber(spans[node].span.startTimeUnixNano)
            writer.raw(",\"duration_ms\":")
            writer.number(Double(spans[node].span.durationNanos) / 1e6)
            writer.raw(",\"status\":")
            writer.string(spans[node].span.status.code.description)
            if tree.nodes[nodeIndex].missingParent { writer.raw(",\"missing_parent\":true") }
            if tree.nodes[nodeIndex].cycleBroken { writer.raw(",\"cycle_broken\":true") }
            if document.storedLLMCall(nodeIndex) != nil { writer.raw(",\"llm\":true") }
            let subtree = document.subtreeTotals[nodeIndex]
            if subtree.calls > 0 {
                writer.raw(",\"subtree\":{")
                totals(subtree, into: &writer)
                writer.raw("}")
            }
            writer.raw(",\"children\":[")
            stack.append((tree.nodes[nodeIndex].children, 0))
        }
    }

    /// Attributes as a plain JSON object: bytes as base64, an empty value as null, a key-value list as
    /// an object; a repeated key keeps its first value.
    public static func attributes(_ attributes: [Attribute], into writer: inout JSONWriter) {
        writer.raw("{")
        var seen = Set<String>()
        let unique = attributes.hasUniqueKeys
        var first = true
        for attribute in attributes where unique || seen.insert(attribute.key).inserted {
            if !first { writer.raw(",") }
            first = false
            writer.key(attribute.key)
            value(attribute.value, into: &writer)
        }
        writer.raw("}")
    }

    public static func value(_ value: AttributeValue, into writer: inout JSONWriter) {
        switch value {
        case .string(let text): writer.string(text)
        case .bool(let flag): writer.bool(flag)
        case .int(let int): writer.number(int)
        case .double(let double): writer.number(double)
        case .array(let values):
            writer.raw("[")
            for (index, element) in values.enumerated() {
                if index > 0 { writer.raw(",") }
                self.value(element, into: &writer)
            }
            writer.raw("]")
        case .kvlist(let nested): attributes(nested, into: &writer)
        case .bytes(let bytes): writer.string(Data(bytes).base64EncodedString())
        case .empty: writer.null()
        }
    }

    public static func optional(_ text: String?, into writer: inout JSONWriter) {
        if let text { writer.string(text) } else { writer.null() }
    }
}

extension TraceTree {
    /// The tree of stored spans (one trace).
    public init(stored spans: [StoredSpan]) {
        // Stored properties one by one: the computed `tree…` ones would copy each whole span first.
        self.init(
            spans.indices.map { index in
                if let tree = spans[index].tree {
                    TreeSpan(spanID: tree.spanID, parents: tree.parents, startTimeUnixNano: spans[index].span.startTimeUnixNano)
                } else {
                    TreeSpan(
                        spanID: spans[index].span.spanID.hex, parents: spans[index].span.parentSpanID.map { [$0.hex] } ?? [],
                        startTimeUnixNano: spans[index].span.startTimeUnixNano)
                }
            })
    }
}
