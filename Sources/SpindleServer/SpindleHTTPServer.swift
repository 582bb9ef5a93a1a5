import Foundation
public import Hummingbird
public import Logging
import NIOCore
import NIOPosix
public import SpindleMetrics
public import SpindleStore

/// Builds the HTTP application: OTLP/HTTP on `/v1/traces` and `/healthz`.
public enum SpindleHTTPServer {
    /// - Parameter onListening: called with the bound port once the listener is up (port 0 picks one).
    /// - Parameter authenticator: who may write and read which project; nil: auth off.
    public static func makeApplication(
        store: SpanStore, configuration: ServerConfiguration, logger: Logger, authenticator: Authenticator? = nil,
        metrics: SpindleMetrics? = nil, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        // Always installed: with auth off it still clears the authorized-project header a client might send.
        let authenticator = authenticator ?? (try! Authenticator(mode: .open, databasePath: store.path))
        router.add(middleware: AuthMiddleware(authenticator: authenticator))
        let metrics = metrics ?? SpindleMetrics()
        let receiver = OTLPHTTPReceiver(store: store, configuration: configuration, logger: logger, metrics: metrics)
        router.post("/v1/traces") { request, _ in await receiver.handle(request) }
        for method in [HTTPRequest.Method.get, .put, .delete, .patch, .head, .options] {
            router.on("/v1/traces", method: method) { _, _ in
                Response(
                    status: .methodNotAllowed,
                    headers: [.allow: "POST", .contentType: "application/json"],
                    body: ResponseBody(
                        byteBuffer: ByteBuffer(
                            string: #"{"code":12,"message":"use POST for /v1/traces"}"#)))
            }
        }
        QueryAPI(store: store).register(on: router)
        VendorAPIs(store: store, maxBodyBytes: configuration.maxBodyBytes, metrics: metrics).register(on: router)
        // Prometheus text format; the store's figures are read at scrape time.
        let readers = ReaderPool(store: store, capacity: 1)
        router.get("/metrics") { _, _ in
            metrics.storedTotal(store.writeTotals.stored)
            metrics.outbox(pendingBytes: store.outboxPendingBytes)
            if store.options.recordsOutbox,
                let statuses = try? await NIOThreadPool.singleton.runIfActive({ try readers.withReader { try $0.exporterStatuses() } })
            {
                for status in statuses { metrics.outbox(pendingSpans: status.pendingSpans, exporter: status.exporter) }
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        // Routes exist only once the store is open; the listener is up when this can answer.
        router.get("/healthz") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.http.host, port: configuration.http.port), serverName: "Spindle"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.http.port
                logger.info("OTLP/HTTP listening", metadata: ["address": "\(configuration.http.host):\(port)"])
                await onListening(port)
            },
            logger: logger)
    }
}
