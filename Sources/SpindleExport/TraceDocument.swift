import Foundation
public import SpindleCodec
public import SpindleLLM
public import SpindleModel
public import SpindleStore
public import SpindleTree

/// One trace as read from the store: its spans, summary and tree. Every export format starts here.
public struct TraceDocument: Sendable {
    public var rootSpanID: String
    public var summary: TraceSummary
    public var spans: [StoredSpan]
    public var tree: TraceTree
    /// The LLM calls found in the spans, by span id.
    public var llmCalls: [String: StoredLLMCall]
    /// LLM totals of each tree node's subtree (the node and everything below it), by node index:
    /// computed on read, so they are right however late children arrived.
    public var subtreeTotals: [LLMTotals]

    public init(rootSpanID: String, summary: TraceSummary, spans: [StoredSpan], llmCalls: [String: StoredLLMCall] = [:]) {
        self.rootSpanID = rootSpanID
        self.summary = summary
        self.spans = spans
        self.llmCalls = llmCalls
        let tree = TraceTree(stored: spans)
        self.tree = tree
        self.summary.orphanCount = tree.orphanCount
        var totals = [LLMTotals](repeating: LLMTotals(), count: tree.nodes.count)
        if !llmCalls.isEmpty {
            // Children come after their parent in depth-first order: walking it backwards sums bottom-up.
            for node in tree.depthFirst.reversed() {
                if let call = llmCalls[spans[tree.nodes[node].span].treeSpanID] { totals[node].add(call) }
                for child in tree.nodes[node].children { totals[node] = totals[node] + totals[child] }
            }
        }
        subtreeTotals = totals
    }

    /// The stored figures of a tree node's LLM call, if its span is one.
    public func storedLLMCall(_ node: Int) -> StoredLLMCall? {
        llmCalls.isEmpty ? nil : llmCalls[spans[tree.nodes[node].span].treeSpanID]
    }

    /// A tree node's LLM call in full: read again from its span, with the stored figures.
    public func llmCall(_ node: Int) -> LLMCall? {
        guard let stored = storedLLMCall(node), let span = try? spans[tree.nodes[node].span].decodedSpan() else {
            return nil
        }
        return stored.call(from: span)
    }

    /// Reads a trace; nil when no span of it is stored. `.deferred` attributes suit callers that only
    /// write the tree JSON (the query API): the stored attribute JSON is copied instead of decoded.
    /// With `helpers`, a large trace is read in two halves at once (on a second reader borrowed from it).
    public static func load(
        rootSpanID: String, project: String? = nil, attributes: AttributeDecoding = .decoded, from reader: StoreReader,
        helpers: ReaderPool? = nil
    ) throws -> TraceDocument? {
        let rootSpanID = rootSpanID.lowercased()
        let spans = try reader.spans(rootSpanID: rootSpanID, project: project, attributes: attributes, helpers: helpers)
        guard let first = spans.first,
            let summary = try reader.traceSummary(
                rootSpanID: rootSpanID, project: project ?? first.project, countingOrphans: false)
        else { return nil }
        let llmCalls = try reader.llmCalls(rootSpanID: rootSpanID, project: project ?? first.project)
        return TraceDocument(rootSpanID: rootSpanID, summary: summary, spans: spans, llmCalls: llmCalls)
    }

    /// The stored span behind a tree node.
    public func span(_ node: Int) -> StoredSpan { spans[tree.nodes[node].span] }

    /// `{root_span_id, summary, spans: [flat span objects], tree: [nested nodes]}`: the query API's
    /// answer and the `tree-json` export.
    public var treeJSON: [UInt8] {
        var writer = JSONWriter(capacity: estimatedJSONBytes(0..<tree.nodes.count) + 4096)
        writeTreeJSON(into: &writer)
        return writer.bytes
    }

    public func writeTreeJSON(into writer: inout JSONWriter) {
        writeTreeJSON(into: &writer, threads: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// - Parameter threads: how many threads may write span objects at once (the tests compare 1 and more).
    func writeTreeJSON(into writer: inout JSONWriter, threads: Int) {
        writer.raw("{\"root_span_id\":")
        writer.string(rootSpanID)
        writer.raw(",\"summary\":")
        SpanJSON.summary(summary, into: &writer)
        writer.raw(",\"spans\":[")
        let count = tree.nodes.count
        guard count >= Self.parallelRenderingThreshold, threads > 1 else {
            writeSpanObjects(0..<count, into: &writer)
            writer.raw("],\"tree\":")
            SpanJSON.tree(self, into: &writer)
            writer.raw("}")
            return
        }
        // A large trace is megabytes of text: its span objects are written in slices on every core,
        // with the nested tree as one more task, then joined in order.
        let slices = min(threads, 8)
        let pieces = RenderedPieces(count: slices + 1)
        defer { pieces.release() }
        DispatchQueue.concurrentPerform(iterations: slices + 1) { task in
            if task == slices {
                var tree = JSONWriter(capacity: 192 * count)
                SpanJSON.tree(self, into: &tree)
                pieces.store(tree.bytes, at: task)
            } else {
                let range = (task * count / slices)..<((task + 1) * count / slices)
                var slice = JSONWriter(capacity: estimatedJSONBytes(range))
                writeSpanObjects(range, into: &slice)
                pieces.store(slice.bytes, at: task)
            }
        }
        var wroteAny = false
        for slice in 0..<slices where !pieces[slice].isEmpty {
            if wroteAny { writer.raw(",") }
            writer.rawBytes(pieces[slice])
            wroteAny = true
        }
        writer.raw("],\"tree\":")
        writer.rawBytes(pieces[slices])
        writer.raw("}")
    }

    /// Below this many spans the answer is written on one thread (measured: splitting pays off from a
    /// few thousand spans on).
    static let parallelRenderingThreshold = 2048

    /// The flat span objects of tree nodes `range`, comma-separated.
    private func writeSpanObjects(_ range: Range<Int>, into writer: inout JSONWriter) {
        let shared = SpanJSON.SharedParts()
        spans.withUnsafeBufferPointer { spans in  // borrowed in place: a copied span retains all it holds
            for index in range {
                if index > range.lowerBound { writer.raw(",") }
                SpanJSON.span(
                    spans[tree.nodes[index].span], node: tree.nodes[index], into: &writer, shared: shared,
                    llm: SpanJSON.LLMParts(call: llmCall(index), subtree: subtreeTotals[index]))
            }
        }
    }

    /// Room for the span objects of nodes `range`, from their stored attributes, so that a buffer of
    /// megabytes is not copied while it grows.
    private func estimatedJSONBytes(_ range: Range<Int>) -> Int {
        spans.withUnsafeBufferPointer { spans in
            range.reduce(0) { $0 + 960 + (spans[tree.nodes[$1].span].storedAttributes?.count ?? 256) }
        }
    }

    /// The trace as OTLP data, grouped by resource and scope (for `otlp-json` and `otlp-proto`).
    public var tracesData: TracesData {
        get throws { StoreReader.group(try decodedSpans) }
    }

    /// The spans with their attributes decoded (they may have been loaded `.deferred`).
    public var decodedSpans: [StoredSpan] {
        get throws {
            try spans.map { stored in
                var decoded = stored
                decoded.span = try stored.decodedSpan()
                decoded.storedAttributes = nil
                return decoded
            }
        }
    }
}

/// Slots that parallel tasks fill, one each; read after they have all finished.
private final class RenderedPieces: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<[UInt8]>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: [])
    }

    func store(_ bytes: [UInt8], at index: Int) { slots[index] = bytes }

    subscript(index: Int) -> [UInt8] { slots[index] }

    func release() {
        slots.deinitialize()
        slots.deallocate()
    }
}
