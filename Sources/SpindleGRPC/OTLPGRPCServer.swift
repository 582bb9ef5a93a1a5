import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
public import ServiceLifecycle
public import SpindleServer
public import SpindleStore
public import SpindleMetrics

/// The gRPC listener as a Service: serves until graceful shutdown, then lets open calls finish.
public struct OTLPGRPCServer: Service {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let address: ListenAddress
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void

    /// - Parameter maxMessageBytes: the largest request message, after decompression; past it the call
    ///   fails with RESOURCE_EXHAUSTED. gRPC libraries default to 4 MiB, which real batches exceed.
    ///   The transport itself stops reading at twice that (plus 1 MiB) and resets the stream, so a
    ///   grossly oversized message is never buffered; between the two the client gets a proper status.
    public init(
        store: SpanStore, address: ListenAddress, maxMessageBytes: Int, logger: Logger,
        authenticator: Authenticator? = nil, metrics: SpindleMetrics? = nil,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        let transport = HTTP2ServerTransport.Posix(
            address: address.host.contains(":")
                ? .ipv6(host: address.host, port: address.port) : .ipv4(host: address.host, port: address.port),
            transportSecurity: .plaintext,
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = Self.transportLimit(for: maxMessageBytes)
                config.compression.enabledAlgorithms = .all
            })
        server = GRPCServer(
            transport: transport,
            services: [
                OTLPGRPCTraceService(
                    store: store, maxMessageBytes: maxMessageBytes, logger: logger, authenticator: authenticator,
                    metrics: metrics)
            ])
        self.address = address
        self.logger = logger
        self.onListening = onListening
    }

    static func transportLimit(for maxMessageBytes: Int) -> Int {
        let (doubled, overflow) = maxMessageBytes.multipliedReportingOverflow(by: 2)
        return overflow ? Int.max : doubled + (1 << 20)
    }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await server.serve()
                } onGracefulShutdown: {
                    server.beginGracefulShutdown()
                }
            }
            if let bound = try await server.listeningAddress, let port = bound.ipv4?.port ?? bound.ipv6?.port {
                logger.info("OTLP/gRPC listening", metadata: ["address": "\(address.host):\(port)"])
                await onListening(port)
            }
        }
    }
}
