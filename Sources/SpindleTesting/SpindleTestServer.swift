import AsyncHTTPClient
import NIOHTTP1
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SpindleGRPC
public import SpindleServer
public import SpindleStore

/// A real Spindle for tests and benchmarks: its own temporary database, the real HTTP server on an
/// ephemeral loopback port, and a client to talk to it. `stop()` shuts it down as `spindle serve` does.
public final class SpindleTestServer: Sendable {
    public let store: SpanStore
    public let port: Int
    /// The gRPC port, when the server was started with gRPC.
    public let grpcPort: Int?
    public let databasePath: String
    public let directory: URL
    private let group: ServiceGroup
    private let running: Task<Void, any Error>
    private let client: HTTPClient

    public static func start(
        storeOptions: StoreOptions = StoreOptions(), configuration: ServerConfiguration = ServerConfiguration(),
        grpc: Bool = false, logLevel: Logger.Level = .warning
    ) async throws -> SpindleTestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("spindle.db").path
        var logger = Logger(label: "spindle.test")
        logger.logLevel = logLevel
        let store = try SpanStore(path: path, options: storeOptions, logger: logger)
        var configuration = configuration
        configuration.http = ListenAddress(host: "127.0.0.1", port: 0)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = SpindleHTTPServer.makeApplication(
            store: store, configuration: configuration, logger: logger,
            onListening: { port in
                portContinuation.yield(port)
                portContinuation.finish()
            })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StoreService(store: store)), .init(service: application),
        ]
        let (grpcPorts, grpcContinuation) = AsyncStream.makeStream(of: Int.self)
        if grpc {
            services.append(
                .init(
                    service: OTLPGRPCServer(
                        store: store, address: ListenAddress(host: "127.0.0.1", port: 0),
                        maxMessageBytes: configuration.maxBodyBytes, logger: logger,
                        onListening: { port in
                            grpcContinuation.yield(port)
                            grpcContinuation.finish()
                        })))
        } else {
            grpcContinuation.finish()
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [], logger: logger))
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        var grpcIterator = grpcPorts.makeAsyncIterator()
        guard let port = await iterator.next() else {
            running.cancel()
            throw SpindleTestError("the server did not start")
        }
        let grpcPort = await grpcIterator.next()
        if grpc && grpcPort == nil {
            running.cancel()
            throw SpindleTestError("the gRPC listener did not start")
        }
        return SpindleTestServer(
            store: store, port: port, grpcPort: grpcPort, databasePath: path, directory: directory, group: group,
            running: running)
    }

    private init(
        store: SpanStore, port: Int, grpcPort: Int?, databasePath: String, directory: URL, group: ServiceGroup,
        running: Task<Void, any Error>
    ) {
        self.store = store
        self.port = port
        self.grpcPort = grpcPort
        self.databasePath = databasePath
        self.directory = directory
        self.group = group
        self.running = running
        client = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops the listener, commits what is queued, closes the database, removes the directory.
    public func stop() async throws {
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    public struct HTTPResult: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request and collects the whole response.
    public func request(
        _ method: String = "POST", _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []
    ) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(60))
        let collected = try await response.body.collect(upTo: 256 << 20)
        return HTTPResult(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: Array(collected.readableBytesView))
    }

    /// POSTs an OTLP body to `/v1/traces`.
    public func postTraces(
        _ body: [UInt8], contentType: String = "application/x-protobuf", headers: [(String, String)] = []
    ) async throws -> HTTPResult {
        try await request("POST", "/v1/traces", body: body, headers: [("Content-Type", contentType)] + headers)
    }
}

public struct SpindleTestError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
