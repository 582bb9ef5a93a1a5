public import GRPCCore
import GRPCNIOTransportHTTP2
import SpindleGRPC

extension SpindleTestServer {
    /// Calls `TraceService/Export` on the test server's gRPC port with a raw request body.
    /// Returns the raw response, or the RPCError the server answered with (trailers included).
    public func grpcExport(
        _ body: [UInt8], gzip: Bool = false, metadata: Metadata = [:]
    ) async throws -> Result<[UInt8], RPCError> {
        guard let grpcPort else { throw SpindleTestError("start the test server with grpc: true") }
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(host: "127.0.0.1", port: grpcPort), transportSecurity: .plaintext,
            config: .defaults { config in config.compression.enabledAlgorithms = .all })
        return try await withGRPCClient(transport: transport) { client in
            var options = CallOptions.defaults
            options.compression = gzip ? .gzip : CompressionAlgorithm.none
            options.maxRequestMessageBytes = 256 << 20
            return try await client.unary(
                request: ClientRequest(message: body, metadata: metadata),
                descriptor: OTLPGRPCTraceService.export, serializer: RawBytesCoder(), deserializer: RawBytesCoder(),
                options: options
            ) { response in response.accepted.flatMap { $0.message } }
        }
    }
}
