import Foundation
import Testing
import SpindleCodec
@testable import SpindleExport
import SpindleModel
import SpindleStore
import SpindleTesting

/// A stored trace: root > child > grandchild, plus an orphan and an error.
func sampleDocument() async throws -> (TraceDocument, SpanStore, URL) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-export-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try SpanStore(path: directory.appendingPathComponent("x.db").path)
    let trace = TraceID(high: 0xabc, low: 0xdef)
    let base: UInt64 = 1_700_000_000_000_000_000
    func span(_ id: UInt64, _ parent: UInt64?, _ start: UInt64, _ end: UInt64, error: Bool = false) -> Span {
        Span(
            traceID: trace, spanID: SpanID(id), parentSpanID: parent.map(SpanID.init), name: "step-\(id) </script>",
            startTimeUnixNano: base + start * 1_000_000, endTimeUnixNano: base + end * 1_000_000,
            attributes: [Attribute("gen_ai.request.model", .string("gpt-4o-mini"))],
            status: SpanStatus(code: error ? .error : .ok, message: error ? "boom" : ""))
    }
    let traces = TracesData(resourceSpans: [
        ResourceSpans(
            resource: Resource(attributes: [Attribute("service.name", .string("svc"))]),
            scopeSpans: [
                ScopeSpans(spans: [
                    span(1, nil, 0, 100), span(2, 1, 10, 60), span(3, 2, 20, 30, error: true), span(4, 77, 50, 90),
                ])
            ])
    ])
    _ = try await store.write(traces)
    let document = try #require(try TraceDocument.load(rootSpanID: trace.hex, from: store.reader()))
    return (document, store, directory)
}

@Suite struct ExportTests {
    @Test func terminalWaterfall() async throws {
        let (document, store, directory) = try await sampleDocument()
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        let text = TerminalTree.render(document, color: false)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].contains("4 spans") && lines[0].contains("1 errors") && lines[0].contains("1 orphans"))
        #expect(lines[1].hasPrefix("step-1"))
        #expect(lines[2].hasPrefix("└─ step-2"))
        #expect(lines[3].hasPrefix("   └─ step-3"))
        #expect(lines[3].contains("✗ boom"))
        #expect(lines[4].contains("⚠ missing parent 000000000000004d"))
        #expect(lines[1].contains("100.0 ms") && lines[1].contains("gen_ai.request.model=gpt-4o-mini"))
        #expect(!text.contains("\u{1B}["))
        #expect(TerminalTree.render(document, color: true).contains("\u{1B}[31m"))
    }

    @Test func otlpExportsRoundTrip() async throws {
        let (document, store, directory) = try await sampleDocument()
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        let data = try document.tracesData
        let json = OTLPJSON.encodeTraces(data)
        #expect(try OTLPJSON.decodeTraces(json).traces == data)
        let proto = OTLPProtobuf.encodeTraces(data)
        #expect(try OTLPProtobuf.decodeTraces(proto).traces == data)
        #expect(data.spanCount == 4)
    }

    @Test func braintrustEventsCarryTheTree() async throws {
        let (document, store, directory) = try await sampleDocument()
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        let body = try JSONValue.parse(BraintrustExport.encode([document]))
        let events = try #require(body["events"]?.arrayValue)
        #expect(events.count == 4)
        let grandchild = try #require(events.first { $0["span_id"] == .string(SpanID(3).hex) })
        #expect(grandchild["root_span_id"] == .string(document.rootSpanID))
        #expect(grandchild["span_parents"] == .array([.string(SpanID(2).hex)]))
        #expect(grandchild["error"] == .string("boom"))
        #expect(grandchild["metrics"]?["start"] == .double(1_700_000_000.02))
        #expect(grandchild["metadata"]?["gen_ai.request.model"] == .string("gpt-4o-mini"))
        // A span naming a model is an LLM call: Braintrust's llm type, the model in metadata, no messages
        // to show and no token metrics invented.
        #expect(grandchild["span_attributes"]?["type"] == .string("llm"))
        #expect(grandchild["metadata"]?["model"] == .string("gpt-4o-mini"))
        #expect(grandchild["input"] == .array([]))
        #expect(grandchild["metrics"]?["prompt_tokens"] == nil)
    }

    @Test func perfettoEventsNestByDepth() async throws {
        let (document, store, directory) = try await sampleDocument()
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        let body = try JSONValue.parse(PerfettoExport.encode([document]))
        let events = try #require(body["traceEvents"]?.arrayValue)
        let complete = events.filter { $0["ph"] == .string("X") }
        #expect(complete.count == 4)
        let grandchild = try #require(complete.first { $0["args"]?["span_id"] == .string(SpanID(3).hex) })
        #expect(grandchild["tid"] == .int(3))
        #expect(grandchild["dur"] == .double(10_000.0))
        #expect(events.contains { $0["name"] == .string("thread_name") })
    }

    @Test func htmlIsSelfContainedAndEmbedsTheTrace() async throws {
        let (document, store, directory) = try await sampleDocument()
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        let page = String(decoding: HTMLExport.encode([document]), as: UTF8.self)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(!page.contains("src=\"http") && !page.contains("href=\"http"))
        // The span name "</script>" must not end the data block early.
        #expect(page.contains(#"step-1 <\/script>"#))
        #expect(page.components(separatedBy: "</script>").count == 3)
        #expect(page.contains(document.rootSpanID))
    }

    @Test func deferredAttributesGiveTheSameJSON() async throws {
        let (document, store, directory) = try await sampleDocument()
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        let deferred = try #require(
            try TraceDocument.load(rootSpanID: document.rootSpanID, attributes: .deferred, from: store.reader()))
        #expect(deferred.spans.allSatisfy { $0.storedAttributes != nil && $0.span.attributes.isEmpty })
        #expect(deferred.treeJSON == document.treeJSON)
        #expect(try deferred.tracesData == document.tracesData)
    }

    @Test func braintrustRowsFromStoredAttributesEqualRowsFromDecodedOnes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SpanStore(path: directory.appendingPathComponent("x.db").path)
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        // Plain attributes (copied as stored) and every reason to decode them: tagged values, kvlists,
        // repeated keys, a Braintrust row id, keys the resource's would shadow, and none at all.
        let attributeSets: [[Attribute]] = [
            [Attribute("s", .string("quote \" backslash \\ \u{1} é")), Attribute("i", .int(-7)), Attribute("d", .double(2.5)),
             Attribute("b", .bool(true)), Attribute("a", .array([.int(1), .string("x")]))],
            [Attribute("whole", .double(3)), Attribute("nan", .double(.nan))],
            [Attribute("bytes", .bytes([1, 2])), Attribute("empty", .empty)],
            [Attribute("m", .kvlist([Attribute("x", .bool(true))]))],
            [Attribute("k", .int(1)), Attribute("k", .int(2))],
            [Attribute("braintrust.id", .string("row-9")), Attribute("n", .int(1))],
            [Attribute("resource.service.name", .string("shadow"))],
            [Attribute("value", .string("resource.x"))],
            [],
        ]
        let spans = attributeSets.enumerated().map { index, attributes in
            Span(
                traceID: TraceID(high: 1, low: 2), spanID: SpanID(UInt64(index + 1)), parentSpanID: index == 0 ? nil : SpanID(1),
                name: "s\(index)", startTimeUnixNano: 1_000 + UInt64(index), endTimeUnixNano: 2_000, attributes: attributes,
                status: index == 2 ? SpanStatus(code: .error, message: "boom") : SpanStatus())
        }
        let resources = [
            Resource(attributes: [Attribute("service.name", .string("svc")), Attribute("host", .kvlist([Attribute("n", .int(1))]))]),
            Resource(),
        ]
        let resourceSpans = resources.enumerated().map { index, resource -> ResourceSpans in
            let mine = spans.indices.filter { $0 % 2 == index }.map { spans[$0] }
            return ResourceSpans(resource: resource, scopeSpans: [ScopeSpans(spans: mine)])
        }
        _ = try await store.write(TracesData(resourceSpans: resourceSpans))
        // Rows with tree ids of their own (escapes and several parents), one failed without a message.
        let treeSpans = [
            Span(
                traceID: TraceID(high: 3, low: 4), spanID: SpanID(20), parentSpanID: SpanID(21), name: "tree row",
                startTimeUnixNano: 5_000, endTimeUnixNano: 6_000, attributes: [Attribute("n", .int(1))],
                status: SpanStatus(code: .error, message: "")),
            Span(traceID: TraceID(high: 3, low: 4), spanID: SpanID(22), name: "tree root", startTimeUnixNano: 4_000, endTimeUnixNano: 7_000),
        ]
        _ = try await store.write(
            TracesData(resourceSpans: [ResourceSpans(resource: resources[0], scopeSpans: [ScopeSpans(spans: treeSpans)])]),
            trees: [
                SpanID(20): TreeIdentity(rootSpanID: "root \"r\"", spanID: "row\\20", parents: ["p1", "p \"2\""]),
                SpanID(22): TreeIdentity(rootSpanID: "root \"r\"", spanID: "root \"r\"", parents: []),
            ])
        let reader = try store.reader()
        let rows = Int64.min...Int64.max
        let spanCount = attributeSets.count + treeSpans.count
        var decoded: [(StoredSpan, Int64)] = []
        try reader.forEachSpan(rows: rows) { decoded.append(($0, $1)) }
        var deferred: [(StoredSpan, Int64)] = []
        try reader.forEachSpan(rows: rows, attributes: .deferred) { deferred.append(($0, $1)) }
        #expect(decoded.count == spanCount && deferred.count == spanCount)
        // The copying path is taken for some: plain, no row id, nothing shadowed.
        let plainOnes = deferred.filter { stored, _ in
            SpanJSON.isPlainObject(stored.storedAttributes!) && !stored.span.name.hasSuffix("5") && !stored.span.name.hasSuffix("6")
        }
        #expect(plainOnes.count >= 3)
        var parts = BraintrustExport.ResourceParts()  // shared, as a batch shares it
        for ((plain, _), (stored, _)) in zip(decoded, deferred) {
            #expect(stored.storedAttributes != nil)
            var expected = JSONWriter()
            BraintrustExport.row(plain, call: nil, into: &expected)
            var actual = JSONWriter()
            BraintrustExport.row(stored, call: nil, resources: &parts, into: &actual)
            #expect(actual.string == expected.string)
        }
        // Rows written straight from their columns, where they can be, are the same rows again; rows read
        // in summary read the rest when asked.
        for columns in [StoredSpanRow.Columns.all, .summary] {
            var fromColumns: [String?] = []
            var columnParts = BraintrustExport.ResourceParts()
            var reread: [StoredSpan] = []
            try reader.forEachSpanRow(rows: rows, columns: columns) { row in
                var writer = JSONWriter()
                fromColumns.append(try BraintrustExport.row(columns: row, resources: &columnParts, into: &writer) ? writer.string : nil)
                reread.append(try row.read().span)
            }
            #expect(fromColumns.count == spanCount)
            #expect(fromColumns.compactMap { $0 }.count == plainOnes.count)
            #expect(reread.map { "\($0)" } == decoded.map { "\($0.0)" })  // as text: one attribute is NaN
            for ((plain, _), written) in zip(decoded, fromColumns) {
                guard let written else { continue }
                var expected = JSONWriter()
                BraintrustExport.row(plain, call: nil, into: &expected)
                #expect(written == expected.string, "\(plain.span.name)")
            }
        }
    }

    @Test func keysARowCannotCopyAreFound() {
        func copyable(_ text: String) -> Bool {
            SpanJSON.isPlainObject(Array(text.utf8), rejectsKey: BraintrustExport.needsDecodedAttributes)
        }
        #expect(copyable(#"{"a":1,"b":"braintrust.id","r":"resource.x"}"#))  // values are not keys
        #expect(!copyable(#"{"a":1,"braintrust.id":"x"}"#))
        #expect(copyable(#"{"braintrust.idx":1,"braintrust":2,"resource":3}"#))
        #expect(!copyable(#"{"resource.service.name":"x"}"#))
        #expect(copyable(#"{"a":"\"resource.x\":1"}"#))  // inside a string
        #expect(!copyable(#"{"a":{"resource.x":1}}"#))  // nested: not plain anyway
        #expect(copyable("{}"))
    }

    @Test func storedAttributesNeedingRewriteAreRewritten() {
        func plain(_ attributes: [Attribute]) -> String {
            var writer = JSONWriter()
            SpanJSON.storedAttributes(OTLPJSON.encodeAttributes(attributes, compact: true), into: &writer)
            return writer.string
        }
        #expect(plain([Attribute("a", .string("{not an object}")), Attribute("n", .int(1))]) == #"{"a":"{not an object}","n":1}"#)
        #expect(plain([Attribute("b", .bytes([1])), Attribute("e", .empty)]) == #"{"b":"AQ==","e":null}"#)
        #expect(plain([Attribute("m", .kvlist([Attribute("x", .double(.nan))]))]) == #"{"m":{"x":"NaN"}}"#)
        #expect(plain([Attribute("k", .int(1)), Attribute("k", .int(2))]) == #"{"k":1}"#)
    }

    /// A root, a chain, a fan-out and orphans (`count` spans), with start times that tie.
    func storeLargeTrace(_ count: Int) async throws -> (TraceID, SpanStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SpanStore(path: directory.appendingPathComponent("x.db").path)
        let trace = TraceID(high: 7, low: 9)
        let spans = (0..<count).map { id -> Span in
            let parent: UInt64? = id == 0 ? nil : id % 7 == 0 ? 100_000 + UInt64(id) : UInt64(id / 2)
            return Span(
                traceID: trace, spanID: SpanID(UInt64(id) &* 0x9E37_79B9_7F4A_7C15 | 1), parentSpanID: parent.map { SpanID($0 &* 0x9E37_79B9_7F4A_7C15 | 1) },
                name: "s\(id)", startTimeUnixNano: 1_000 + UInt64(id % 13), endTimeUnixNano: 2_000,
                attributes: [Attribute("n", .int(Int64(id))), Attribute("m", .kvlist([Attribute("x", .bool(true))]))])
        }
        _ = try await store.write(TracesData(resourceSpans: [ResourceSpans(scopeSpans: [ScopeSpans(spans: spans)])]))
        return (trace, store, directory)
    }

    @Test func largeTracesReadInTwoHalvesGiveTheSameSpans() async throws {
        let (trace, store, directory) = try await storeLargeTrace(5000)
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        let whole = try store.reader().spans(rootSpanID: trace.hex)
        let halves = try store.reader().spans(rootSpanID: trace.hex, helpers: ReaderPool(store: store))
        #expect(whole.count == 5000)
        #expect(whole.count >= StoreReader.splitReadThreshold)
        #expect(halves == whole)
        let starts = whole.map { ($0.span.startTimeUnixNano, $0.treeSpanID) }
        #expect(zip(starts, starts.dropFirst()).allSatisfy { $0 < $1 })  // by start time, then span id
    }

    @Test func largeTracesWrittenOnSeveralThreadsGiveTheSameJSON() async throws {
        let (trace, store, directory) = try await storeLargeTrace(3001)  // above the threshold for splitting
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        let document = try #require(
            try TraceDocument.load(rootSpanID: trace.hex, attributes: .deferred, from: store.reader()))
        #expect(document.spans.count > TraceDocument.parallelRenderingThreshold)
        var single = JSONWriter()
        document.writeTreeJSON(into: &single, threads: 1)
        for threads in [2, 3, 8] {
            var split = JSONWriter()
            document.writeTreeJSON(into: &split, threads: threads)
            #expect(split.bytes == single.bytes, "\(threads) threads")
        }
        let body = try JSONValue.parse(single.bytes)
        #expect(body["spans"]?.arrayValue?.count == 3001)
    }

    @Test func plainObjectsAreToldApartFromNestedOnes() {
        // The reference: a byte-by-byte walk that tracks strings and escapes.
        func reference(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            guard bytes.first == UInt8(ascii: "{") else { return false }
            var inString = false
            var index = 1
            while index < bytes.count {
                switch (inString, bytes[index]) {
                case (true, UInt8(ascii: "\\")): index += 1
                case (true, UInt8(ascii: "\"")), (false, UInt8(ascii: "\"")): inString.toggle()
                case (false, UInt8(ascii: "{")): return false
                default: break
                }
                index += 1
            }
            return true
        }
        var cases = [
            #"{"a":1}"#, #"{"a":{"i":"1"}}"#, #"{"route":"/items/{id}","n":2}"#, #"{"q":"say \"{\"","b":true}"#,
            #"{"q":"ends in backslash \\","m":{"k":1}}"#, #"{"q":"\\\"{"}"#, #"{"unterminated":"{"#, "[1]", "",
        ]
        let alphabet = Array(#"{}"\a:,"#)
        for _ in 0..<2000 { cases.append("{" + String((0..<Int.random(in: 0..<24)).map { _ in alphabet.randomElement()! })) }
        for text in cases {
            #expect(SpanJSON.isPlainObject(Array(text.utf8)) == reference(text), "\(text)")
        }
    }

    @Test func treeJSONIsTheQueryAPIShape() async throws {
        let (document, store, directory) = try await sampleDocument()
        defer { store.close(); try? FileManager.default.removeItem(at: directory) }
        let body = try JSONValue.parse(document.treeJSON)
        #expect(body["root_span_id"] == .string(document.rootSpanID))
        #expect(body["spans"]?.arrayValue?.count == 4)
        #expect(body["tree"]?.arrayValue?.count == 2)
        #expect(body["summary"]?["orphan_count"] == .int(1))
    }
}
