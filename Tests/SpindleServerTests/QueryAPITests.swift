import Foundation
import Testing
import SpindleCodec
import SpindleModel
import SpindleServer
import SpindleStore
import SpindleTesting

/// Spans of one trace, built by hand: `(id, parent, start offset ms, duration ms)`.
func trace(
    _ traceID: TraceID, service: String = "checkout", _ spans: [(UInt64, UInt64?, UInt64, UInt64)],
    errors: Set<UInt64> = [], attributes: [UInt64: [Attribute]] = [:], base: UInt64 = 1_700_000_000_000_000_000
) -> [UInt8] {
    let built = spans.map { id, parent, start, duration in
        Span(
            traceID: traceID, spanID: SpanID(id), parentSpanID: parent.map(SpanID.init), name: "op-\(id)",
            startTimeUnixNano: base + start * 1_000_000, endTimeUnixNano: base + (start + duration) * 1_000_000,
            attributes: attributes[id] ?? [], status: SpanStatus(code: errors.contains(id) ? .error : .ok))
    }
    return OTLPProtobuf.encodeTraces(
        TracesData(resourceSpans: [
            ResourceSpans(
                resource: Resource(attributes: [Attribute("service.name", .string(service))]),
                scopeSpans: [ScopeSpans(spans: built)])
        ]))
}

extension SpindleTestServer {
    func getJSON(_ path: String) async throws -> (status: Int, body: JSONValue) {
        let response = try await request("GET", path)
        return (response.status, try JSONValue.parse(response.body))
    }
}

@Suite struct QueryAPITests {
    let traceA = TraceID(high: 0xa, low: 1)

    @Test func treeWithLateParentAndOrphan() async throws {
        try await withServer { server in
            // Child and grandchild first; the root in a later request; span 4's parent never comes.
            #expect(try await server.postTraces(trace(traceA, [(2, 1, 10, 50), (3, 2, 20, 10), (4, 99, 30, 5)])).status == 200)
            var (status, body) = try await server.getJSON("/api/v1/traces/\(traceA.hex)")
            #expect(status == 200)
            #expect(body["summary"]?["orphan_count"] == .int(2))  // 2 (parent 1 not yet here) and 4
            #expect(body["summary"]?["root_name"] == .null)

            #expect(try await server.postTraces(trace(traceA, [(1, nil, 0, 100)])).status == 200)
            (status, body) = try await server.getJSON("/api/v1/traces/\(traceA.hex)")
            let summary = try #require(body["summary"])
            #expect(summary["span_count"] == .int(4))
            #expect(summary["orphan_count"] == .int(1))
            #expect(summary["root_name"] == .string("op-1"))
            #expect(summary["root_service"] == .string("checkout"))
            #expect(summary["duration_ms"] == .double(100))
            let tree = try #require(body["tree"]?.arrayValue)
            #expect(tree.map { $0["span_id"]?.stringValue } == [SpanID(1).hex, SpanID(4).hex])
            #expect(tree[0]["children"]?.arrayValue?.first?["children"]?.arrayValue?.first?["span_id"] == .string(SpanID(3).hex))
            #expect(tree[1]["missing_parent"] == .bool(true))
            let spans = try #require(body["spans"]?.arrayValue)
            #expect(spans.count == 4)
            let orphan = try #require(spans.first { $0["span_id"] == .string(SpanID(4).hex) })
            #expect(orphan["span_parents"] == .array([.string(SpanID(99).hex)]))
            #expect(orphan["missing_parent"] == .bool(true))
            #expect(orphan["root_span_id"] == .string(traceA.hex))
            #expect(orphan["resource"]?["attributes"]?["service.name"] == .string("checkout"))
        }
    }

    @Test func spanWithItsAncestry() async throws {
        try await withServer { server in
            _ = try await server.postTraces(trace(traceA, [(1, nil, 0, 100), (2, 1, 10, 50), (3, 2, 20, 10)]))
            let (status, body) = try await server.getJSON("/api/v1/spans/\(SpanID(3).hex)")
            #expect(status == 200)
            #expect(body["span"]?["name"] == .string("op-3"))
            #expect(body["ancestry"]?.arrayValue?.map { $0["span_id"]?.stringValue } == [SpanID(1).hex, SpanID(2).hex])
            let direct = try await server.getJSON("/api/v1/spans/\(SpanID(3).hex)?root_span_id=\(traceA.hex)")
            #expect(direct.body["span"]?["name"] == .string("op-3"))
            #expect(try await server.getJSON("/api/v1/spans/00000000000000ff").status == 404)
            #expect(try await server.getJSON("/api/v1/traces/\(TraceID(high: 1, low: 2).hex)").status == 404)
        }
    }

    @Test func summariesAreKeptAcrossRequestsAndDuplicates() async throws {
        try await withServer { server in
            let first = trace(traceA, [(1, nil, 0, 100), (2, 1, 10, 50)], errors: [2])
            _ = try await server.postTraces(first)
            _ = try await server.postTraces(first)  // a retry: counted once
            _ = try await server.postTraces(trace(traceA, [(3, 1, 200, 50)], errors: [3]))
            let (_, body) = try await server.getJSON("/api/v1/traces")
            let summary = try #require(body["traces"]?.arrayValue?.first)
            #expect(summary["span_count"] == .int(3))
            #expect(summary["error_count"] == .int(2))
            #expect(summary["duration_ms"] == .double(250))
        }
    }

    @Test func listingFiltersAndPages() async throws {
        try await withServer { server in
            for index in 0..<25 {
                let id = TraceID(high: 0xb, low: UInt64(index + 1))
                let body = trace(
                    id, service: index % 2 == 0 ? "even" : "odd", [(1, nil, UInt64(index) * 1000, UInt64(index))],
                    errors: index % 5 == 0 ? [1] : [], attributes: [1: [Attribute("user.tier", .string(index < 3 ? "gold" : "free")), Attribute("n", .int(Int64(index)))]])
                #expect(try await server.postTraces(body).status == 200)
            }
            // Pages of 10, newest first, every trace exactly once.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let (status, body) = try await server.getJSON("/api/v1/traces?limit=10" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(status == 200)
                seen += body["traces"]?.arrayValue?.compactMap { $0["root_span_id"]?.stringValue } ?? []
                cursor = body["next_cursor"]?.stringValue
            } while cursor != nil
            #expect(seen == (0..<25).reversed().map { TraceID(high: 0xb, low: UInt64($0 + 1)).hex })

            func count(_ query: String) async throws -> Int {
                try await server.getJSON("/api/v1/traces?limit=100&" + query).body["traces"]?.arrayValue?.count ?? -1
            }
            #expect(try await count("status=error") == 5)
            #expect(try await count("service=even") == 13)
            #expect(try await count("name=op-1") == 25)
            #expect(try await count("min_duration_ms=20") == 5)
            #expect(try await count("attr=user.tier:gold") == 3)
            #expect(try await count("attr=n:7") == 1)
            #expect(try await count("since=1700000010000000000") == 15)
            #expect(try await count("until=1700000012000000000") == 12)
            #expect(try await count("since=1700000010000000000&until=1700000012000000000") == 2)
            #expect(try await server.request("GET", "/api/v1/traces?limit=0").status == 400)
            #expect(try await server.request("GET", "/api/v1/traces?since=yesterday").status == 400)
            #expect(try await server.request("GET", "/api/v1/traces?status=ok").status == 400)
        }
    }
}

@Suite struct TimeArgumentTests {
    @Test func parsesTheThreeForms() throws {
        #expect(try TimeArgument.parse("1700000000010000000", name: "since") == 1_700_000_000_010_000_000)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(try TimeArgument.parse("1h", name: "since", now: now) == 1_699_996_400_000_000_000)
        #expect(try TimeArgument.parse("2023-11-14T22:13:20Z", name: "since") == 1_700_000_000_000_000_000)
        #expect(throws: (any Error).self) { try TimeArgument.parse("yesterday", name: "since") }
    }
}
