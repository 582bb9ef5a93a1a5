import CompressNIO
import Foundation
import NIOCore
import Testing
import SpindleCodec
import SpindleModel
import SpindleServer
@testable import SpindleStore
import SpindleTesting

/// Runs `body` against a live Spindle on an ephemeral port, then stops it.
func withServer(
    storeOptions: StoreOptions = StoreOptions(), configuration: ServerConfiguration = ServerConfiguration(),
    grpc: Bool = false, _ body: (SpindleTestServer) async throws -> Void
) async throws {
    let server = try await SpindleTestServer.start(storeOptions: storeOptions, configuration: configuration, grpc: grpc)
    do {
        try await body(server)
    } catch {
        try await server.stop()
        throw error
    }
    try await server.stop()
}

func compress(_ bytes: [UInt8], _ algorithm: CompressionAlgorithm) throws -> [UInt8] {
    var buffer = ByteBuffer(bytes: bytes)
    let compressed = try buffer.compress(with: algorithm)
    return Array(compressed.readableBytesView)
}

@Suite struct OTLPHTTPReceiverTests {
    @Test func protobufRequestIsStoredBeforeTheAnswer() async throws {
        try await withServer { server in
            let traces = SampleTraces.everyField()
            let response = try await server.postTraces(OTLPProtobuf.encodeTraces(traces))
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/x-protobuf")
            #expect(response.body.isEmpty)  // an empty ExportTraceServiceResponse
            // Answered 200 means committed: a new connection sees it at once.
            let traceID = traces.resourceSpans[0].scopeSpans[0].spans[0].traceID
            #expect(try server.store.reader().traces(rootSpanID: traceID.hex) == traces)
        }
    }

    @Test func jsonRequestWithCharsetIsStored() async throws {
        try await withServer { server in
            let traces = SampleTraces.everyField()
            let response = try await server.postTraces(
                OTLPJSON.encodeTraces(traces), contentType: "application/json; charset=utf-8")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.text == "{}")
            let traceID = traces.resourceSpans[0].scopeSpans[0].spans[0].traceID
            #expect(try server.store.reader().traces(rootSpanID: traceID.hex) == traces)
        }
    }

    @Test func gzipAndDeflateBodiesAreAccepted() async throws {
        try await withServer { server in
            let body = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 100, seed: 3))
            let gzip = try await server.postTraces(try compress(body, .gzip()), headers: [("Content-Encoding", "gzip")])
            #expect(gzip.status == 200)
            let zlib = try await server.postTraces(
                OTLPProtobuf.encodeTraces(SampleTraces.small(count: 100, seed: 4)).compressed(.zlib()),
                headers: [("Content-Encoding", "deflate")])
            #expect(zlib.status == 200)
            let raw = try await server.postTraces(
                OTLPProtobuf.encodeTraces(SampleTraces.small(count: 100, seed: 5)).compressed(.deflate()),
                headers: [("Content-Encoding", "deflate")])
            #expect(raw.status == 200)
            #expect(try server.store.reader().stats().spans == 300)
            let corrupt = try await server.postTraces([1, 2, 3, 4], headers: [("Content-Encoding", "gzip")])
            #expect(corrupt.status == 400)
            let unknown = try await server.postTraces(body, headers: [("Content-Encoding", "br")])
            #expect(unknown.status == 415)
        }
    }

    @Test func partialSuccessNamesTheRejectedSpans() async throws {
        try await withServer { server in
            let json = """
                {"resourceSpans":[{"scopeSpans":[{"spans":[
                  {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"good"},
                  {"traceId":"5b8efff798038103","spanId":"eee19b7ec3c1b174","name":"short"}]}]}]}
                """
            let response = try await server.postTraces(Array(json.utf8), contentType: "application/json")
            #expect(response.status == 200)
            let body = try JSONValue.parse(response.body)
            #expect(body["partialSuccess"]?["rejectedSpans"] == .string("1"))
            let message = body["partialSuccess"]?["errorMessage"]?.stringValue ?? ""
            #expect(message.contains("short") && message.contains("trace_id has 8 bytes"))
            #expect(try server.store.reader().stats().spans == 1)

            // The same in protobuf: one span with an 8-byte trace id next to a good one.
            let good = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 1, seed: 8))
            let protobuf = try await server.postTraces(good + Self.requestWithShortTraceID)
            #expect(protobuf.status == 200)
            let partial = try #require(OTLPProtobuf.decodeResponse(protobuf.body))
            #expect(partial.rejectedSpans == 1)
            #expect(partial.errorMessage.contains("trace_id has 8 bytes"))
            #expect(try server.store.reader().stats().spans == 2)
        }
    }

    /// An ExportTraceServiceRequest (hand-encoded) whose one span has an 8-byte trace id. Concatenated
    /// protobuf messages merge, so appending it to a valid request adds one more ResourceSpans.
    static let requestWithShortTraceID: [UInt8] = {
        func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] { [number << 3 | 2, UInt8(payload.count)] + payload }
        let span = field(1, [1, 2, 3, 4, 5, 6, 7, 8]) + field(2, [1, 1, 1, 1, 1, 1, 1, 1]) + field(5, Array("short".utf8))
        return field(1, field(2, field(2, span)))
    }()

    @Test func undecodableRequestsGet400WithAStatusBody() async throws {
        try await withServer { server in
            let protobuf = try await server.postTraces(Array("definitely not protobuf".utf8))
            #expect(protobuf.status == 400)
            #expect(protobuf.header("Content-Type") == "application/x-protobuf")
            let status = try #require(OTLPProtobuf.decodeStatus(protobuf.body))
            #expect(status.code == 3)
            #expect(status.message.contains("not a valid protobuf"))

            let json = try await server.postTraces(Array("{oops".utf8), contentType: "application/json")
            #expect(json.status == 400)
            let body = try JSONValue.parse(json.body)
            #expect(body["code"] == .int(3))
            #expect(body["message"]?.stringValue?.contains("not valid JSON") == true)
        }
    }

    @Test func deepNestingGets400AndTheServerStaysUp() async throws {
        try await withServer { server in
            let open = String(repeating: #"{"arrayValue":{"values":["#, count: 100)
            let close = String(repeating: "]}}", count: 100)
            let json = #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"key":"d","value":"#
                + open + "{}" + close + "}]}]}]}]}"
            let response = try await server.postTraces(Array(json.utf8), contentType: "application/json")
            #expect(response.status == 400)
            #expect(response.text.contains("deeper than 64"))
            #expect(try await server.request("GET", "/healthz").status == 200)
        }
    }

    @Test func wrongMediaTypeAndMethod() async throws {
        try await withServer { server in
            let media = try await server.postTraces([1], contentType: "text/plain")
            #expect(media.status == 415)
            #expect(media.text.contains("application/x-protobuf"))
            let missing = try await server.request("POST", "/v1/traces", body: [1])
            #expect(missing.status == 415)
            for method in ["GET", "PUT", "DELETE", "PATCH"] {
                let response = try await server.request(method, "/v1/traces")
                #expect(response.status == 405)
                #expect(response.header("Allow") == "POST")
            }
        }
    }

    @Test func bodiesPastTheLimitGet413() async throws {
        try await withServer(configuration: ServerConfiguration(maxBodyBytes: 64 << 10)) { server in
            let big = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 1000))
            #expect(big.count > 64 << 10)
            let plain = try await server.postTraces(big)
            #expect(plain.status == 413)
            #expect(OTLPProtobuf.decodeStatus(plain.body)?.message.contains("larger than 65536 bytes") == true)

            // Small on the wire, large inflated: refused while inflating.
            let compressed = try compress(big, .gzip())
            #expect(compressed.count < 64 << 10)
            let inflated = try await server.postTraces(compressed, headers: [("Content-Encoding", "gzip")])
            #expect(inflated.status == 413)

            // A gzip bomb: 1 GiB of zeros would inflate from about 1 MiB; the server stops at the limit.
            let bomb = try compress([UInt8](repeating: 0, count: 32 << 20), .gzip())
            let bombed = try await server.postTraces(Array(bomb.prefix(60 << 10)), headers: [("Content-Encoding", "gzip")])
            #expect(bombed.status == 413)
            #expect(try server.store.reader().stats().spans == 0)
            #expect(try await server.request("GET", "/healthz").status == 200)
        }
    }

    @Test func resentSpansAreStoredOnce() async throws {
        try await withServer { server in
            let body = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 20))
            for _ in 0..<3 {
                let response = try await server.postTraces(body)
                #expect(response.status == 200)
            }
            #expect(try server.store.reader().stats().spans == 20)
        }
    }

    @Test func concurrentClientsAllLand() async throws {
        try await withServer { server in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<12 {
                    group.addTask {
                        var ok = 0
                        for request in 0..<5 {
                            let traces = SampleTraces.small(count: 40, seed: UInt64(client * 100 + request))
                            let body = client % 2 == 0 ? OTLPProtobuf.encodeTraces(traces) : OTLPJSON.encodeTraces(traces)
                            let response = try await server.postTraces(
                                body, contentType: client % 2 == 0 ? "application/x-protobuf" : "application/json")
                            if response.status == 200 { ok += 1 }
                        }
                        return ok
                    }
                }
                var ok = 0
                for try await count in group { ok += count }
                #expect(ok == 60)
            }
            #expect(try server.store.reader().stats().spans == 60 * 40)
        }
    }

    @Test func aFullWriteQueueAnswers503WithRetryAfter() async throws {
        try await withServer(storeOptions: StoreOptions(maxQueuedBytes: 100_000, retryAfterSeconds: 3)) { server in
            let release = server.store.holdWriter()
            let first = Task { try await server.postTraces(OTLPProtobuf.encodeTraces(SampleTraces.small(count: 300, seed: 1))) }
            while server.store.queuedBytes == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let rejected = try await server.postTraces(OTLPProtobuf.encodeTraces(SampleTraces.small(count: 300, seed: 2)))
            #expect(rejected.status == 503)
            #expect(rejected.header("Retry-After") == "3")
            #expect(OTLPProtobuf.decodeStatus(rejected.body)?.code == 14)
            let json = try await server.postTraces(
                OTLPJSON.encodeTraces(SampleTraces.small(count: 300, seed: 3)), contentType: "application/json")
            #expect(json.status == 503)
            #expect(json.text.contains("RetryInfo"))
            release()
            #expect(try await first.value.status == 200)
            #expect(try server.store.reader().stats().spans == 300)
        }
    }

    @Test func projectHeaderScopesTheData() async throws {
        try await withServer { server in
            let body = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 3))
            let response = try await server.postTraces(body, headers: [("x-spindle-project", "team-a")])
            #expect(response.status == 200)
            #expect(try server.store.reader().integer("SELECT count(*) FROM spans WHERE project = 'team-a'") == 3)
        }
    }
}

extension Array where Element == UInt8 {
    func compressed(_ algorithm: CompressionAlgorithm) throws -> [UInt8] { try compress(self, algorithm) }
}
