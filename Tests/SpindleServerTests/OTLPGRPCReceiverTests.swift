import Foundation
import GRPCCore
import Testing
import SpindleCodec
import SpindleModel
import SpindleServer
@testable import SpindleStore
import SpindleTesting

func withGRPCServer(
    storeOptions: StoreOptions = StoreOptions(), configuration: ServerConfiguration = ServerConfiguration(),
    _ body: (SpindleTestServer) async throws -> Void
) async throws {
    try await withServer(storeOptions: storeOptions, configuration: configuration, grpc: true, body)
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

@Suite struct OTLPGRPCReceiverTests {
    @Test func exportIsStoredBeforeTheAnswer() async throws {
        try await withGRPCServer { server in
            let traces = SampleTraces.everyField()
            let response = try await server.grpcExport(OTLPProtobuf.encodeTraces(traces)).get()
            #expect(response.isEmpty)
            let traceID = traces.resourceSpans[0].scopeSpans[0].spans[0].traceID
            #expect(try server.store.reader().traces(rootSpanID: traceID.hex) == traces)
        }
    }

    @Test func gzipMessagesAreAccepted() async throws {
        try await withGRPCServer { server in
            let body = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 200))
            _ = try await server.grpcExport(body, gzip: true).get()
            #expect(try server.store.reader().stats().spans == 200)
        }
    }

    @Test func partialSuccessListsTheRejectedSpan() async throws {
        try await withGRPCServer { server in
            let body = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 1)) + OTLPHTTPReceiverTests.requestWithShortTraceID
            let response = try await server.grpcExport(body).get()
            let partial = try #require(OTLPProtobuf.decodeResponse(response))
            #expect(partial.rejectedSpans == 1)
            #expect(partial.errorMessage.contains("trace_id has 8 bytes"))
            #expect(try server.store.reader().stats().spans == 1)
        }
    }

    @Test func undecodableRequestsAreInvalidArgument() async throws {
        try await withGRPCServer { server in
            let garbage = try await server.grpcExport(Array("not protobuf at all".utf8))
            #expect(garbage.failure?.code == .invalidArgument)
            let deep = try await server.grpcExport(Self.nested(depth: 100))
            #expect(deep.failure?.code == .invalidArgument)
            #expect(deep.failure?.message.contains("deeper than 64") == true)
            #expect(try server.store.reader().stats().spans == 0)
        }
    }

    @Test func messagesPastTheLimitAreResourceExhausted() async throws {
        try await withGRPCServer(configuration: ServerConfiguration(maxBodyBytes: 256 << 10)) { server in
            let big = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 1000))
            #expect(big.count > 256 << 10)
            let plain = try await server.grpcExport(big)
            #expect(plain.failure?.code == .resourceExhausted)
            #expect(plain.failure?.message.contains("larger than 262144") == true)
            // Small compressed, large inflated.
            let compressed = try await server.grpcExport(big, gzip: true)
            #expect(compressed.failure?.code == .resourceExhausted)
            // Far past the limit the transport stops reading and resets the stream; the server stays up.
            let huge = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 6000))
            let reset = try await server.grpcExport(huge)
            #expect(reset.failure != nil)
            _ = try await server.grpcExport(OTLPProtobuf.encodeTraces(SampleTraces.small(count: 10))).get()
            #expect(try server.store.reader().stats().spans == 10)
        }
    }

    @Test func aFullWriteQueueIsUnavailableWithRetryInfo() async throws {
        try await withGRPCServer(storeOptions: StoreOptions(maxQueuedBytes: 100_000, retryAfterSeconds: 4)) { server in
            let release = server.store.holdWriter()
            let first = Task { try await server.grpcExport(OTLPProtobuf.encodeTraces(SampleTraces.small(count: 300, seed: 1))) }
            while server.store.queuedBytes == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let rejected = try await server.grpcExport(OTLPProtobuf.encodeTraces(SampleTraces.small(count: 300, seed: 2)))
            let error = try #require(rejected.failure)
            #expect(error.code == .unavailable)
            let details = error.metadata[binaryValues: "grpc-status-details-bin"].first(where: { _ in true })
            let status = try #require(details.flatMap { OTLPProtobuf.decodeStatus($0) })
            #expect(status.code == 14)
            #expect(Array("type.googleapis.com/google.rpc.RetryInfo".utf8).isSubsequence(of: try #require(details)))
            release()
            _ = try await first.value.get()
            #expect(try server.store.reader().stats().spans == 300)
        }
    }

    @Test func httpAndGRPCClientsAtOnceShareOneStore() async throws {
        try await withGRPCServer { server in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<8 {
                    group.addTask {
                        for request in 0..<4 {
                            let body = OTLPProtobuf.encodeTraces(SampleTraces.small(count: 50, seed: UInt64(client * 10 + request)))
                            if client % 2 == 0 {
                                _ = try await server.grpcExport(body).get()
                            } else {
                                let response = try await server.postTraces(body)
                                #expect(response.status == 200)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try server.store.reader().stats().spans == 8 * 4 * 50)
        }
    }

    @Test func projectMetadataScopesTheData() async throws {
        try await withGRPCServer { server in
            _ = try await server.grpcExport(
                OTLPProtobuf.encodeTraces(SampleTraces.small(count: 2)), metadata: ["x-spindle-project": "team-b"]
            ).get()
            #expect(try server.store.reader().integer("SELECT count(*) FROM spans WHERE project = 'team-b'") == 2)
        }
    }

    /// A request whose one attribute nests `depth` array levels, encoded by our own encoder.
    static func nested(depth: Int) -> [UInt8] {
        var value = AttributeValue.empty
        for _ in 1..<depth { value = .array([value]) }
        var traces = SampleTraces.small(count: 1)
        traces.resourceSpans[0].scopeSpans[0].spans[0].attributes = [Attribute("deep", value)]
        return OTLPProtobuf.encodeTraces(traces)
    }
}

extension Array where Element: Equatable {
    func isSubsequence(of other: [Element]) -> Bool {
        guard count <= other.count else { return false }
        return (0...(other.count - count)).contains { Array(other[$0..<($0 + count)]) == self }
    }
}
