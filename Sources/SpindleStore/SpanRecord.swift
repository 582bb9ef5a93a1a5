import SpindleModel
import SpindleCodec
import SpindleLLM

/// A span encoded into the column values the store writes. Built on the caller's task, not on the
/// writer thread, so that encoding runs in parallel with SQLite work.
struct SpanRecord {
    var rootSpanID: String
    var spanID: String
    var spanParents: [UInt8]?
    var span: Span
    var attributes: [UInt8]
    var events: [UInt8]?
    var links: [UInt8]?
    /// The LLM call in the span, when there is one and extraction is on.
    var llm: LLMRecord?
    /// The Braintrust row id of a row inserted through that API.
    var rowID: String?

    /// - Parameter tree: the row's own tree ids (Braintrust rows); nil: OTLP's, the trace id being the root.
    init(_ span: Span, extractor: LLMExtractor?, tree: TreeIdentity? = nil) {
        self.span = span
        rowID = tree?.rowID
        if let tree {
            rootSpanID = tree.rootSpanID
            spanID = tree.spanID
            if tree.parents.isEmpty {
                spanParents = nil
            } else {
                var writer = JSONWriter()
                writer.value(.array(tree.parents.map { .string($0) }))
                spanParents = writer.bytes
            }
        } else {
            // Braintrust's tree model: for OTLP, the trace id is the root span id.
            rootSpanID = span.traceID.hex
            spanID = span.spanID.hex
            spanParents = span.parentSpanID.map { Array("[\"\($0.hex)\"]".utf8) }
        }
        attributes = OTLPJSON.encodeAttributes(span.attributes, compact: true)
        events = span.events.isEmpty ? nil : OTLPJSON.encodeEvents(span.events, compact: true)
        links = span.links.isEmpty ? nil : OTLPJSON.encodeLinks(span.links, compact: true)
        llm = extractor?.extract(span, detail: .figures).map(LLMRecord.init)
    }

    var encodedSize: Int {
        200 + span.name.utf8.count + attributes.count + (events?.count ?? 0) + (links?.count ?? 0) + (llm == nil ? 0 : 200)
    }
}

/// The LLM call of a span, boxed as it came from the extractor: moving one reference to the writer thread
/// costs less than copying the figures out of the call (which cost a third of a microsecond a span in
/// retains and releases). The writer reads the figures the span row stores (its `llm_*` columns).
final class LLMRecord: Sendable {
    let call: LLMCall

    init(_ call: LLMCall) { self.call = call }
}

/// Resource and scope attributes in key order. Senders build them from hash maps, so the same resource
/// arrives in a different order from each process; sorted, it is stored once. (Order carries no meaning
/// in OTLP; ties keep their received order.)
func canonicalOrder(_ attributes: [Attribute]) -> [Attribute] {
    attributes.enumerated()
        .sorted { $0.element.key != $1.element.key ? $0.element.key < $1.element.key : $0.offset < $1.offset }
        .map(\.element)
}

/// A resource as stored: its identity is the whole encoded content.
struct ResourceRecord: Hashable {
    var attributes: [UInt8]
    var droppedAttributesCount: UInt32
    var schemaURL: String
    var serviceName: String?

    init(_ resourceSpans: ResourceSpans) {
        attributes = OTLPJSON.encodeAttributes(canonicalOrder(resourceSpans.resource.attributes), compact: true)
        droppedAttributesCount = resourceSpans.resource.droppedAttributesCount
        schemaURL = resourceSpans.schemaURL
        serviceName = resourceSpans.resource.serviceName
    }
}

struct ScopeRecord: Hashable {
    var name: String
    var version: String
    var attributes: [UInt8]
    var droppedAttributesCount: UInt32
    var schemaURL: String

    init(_ scopeSpans: ScopeSpans) {
        name = scopeSpans.scope.name
        version = scopeSpans.scope.version
        attributes = OTLPJSON.encodeAttributes(canonicalOrder(scopeSpans.scope.attributes), compact: true)
        droppedAttributesCount = scopeSpans.scope.droppedAttributesCount
        schemaURL = scopeSpans.schemaURL
    }
}

/// One request's spans, ready for the writer.
struct EncodedBatch {
    struct Group {
        /// The project the group's spans are stored under.
        var project: String
        var resource: ResourceRecord
        var scope: ScopeRecord
        var spans: [SpanRecord]
    }

    var groups: [Group]
    var encodedSize: Int
    var spanCount: Int

    static let empty = EncodedBatch(project: "", traces: TracesData(), extractor: nil)

    /// - Parameter projectAttribute: a resource attribute that, when present, names the project of that
    ///   resource's spans instead of `project`.
    /// - Parameter trees: tree ids of spans that have their own (Braintrust rows), by span id.
    init(
        project: String, traces: TracesData, extractor: LLMExtractor?, projectAttribute: String? = nil,
        trees: [SpanID: TreeIdentity] = [:]
    ) {
        var groups: [Group] = []
        var size = 0
        var count = 0
        for resourceSpans in traces.resourceSpans {
            let resource = ResourceRecord(resourceSpans)
            var groupProject = project
            if let projectAttribute, case .string(let named)? = resourceSpans.resource.attributes[key: projectAttribute],
                !named.isEmpty
            {
                groupProject = named
            }
            for scopeSpans in resourceSpans.scopeSpans where !scopeSpans.spans.isEmpty {
                let spans = scopeSpans.spans.map { SpanRecord($0, extractor: extractor, tree: trees.isEmpty ? nil : trees[$0.spanID]) }
                size += spans.reduce(0) { $0 + $1.encodedSize }
                count += spans.count
                groups.append(Group(project: groupProject, resource: resource, scope: ScopeRecord(scopeSpans), spans: spans))
            }
        }
        self.groups = groups
        self.encodedSize = size
        self.spanCount = count
    }
}
