public import Logging
public import SpindleCodec
import SpindleModel
public import SpindleMetrics
public import SpindleStore

/// The step both OTLP receivers share once a request is decoded: store the spans, log what happened,
/// and say how the request ended in terms each protocol maps onto its own statuses.
public struct OTLPIngest: Sendable {
    public enum Outcome: Sendable {
        /// Committed. `rejected` spans were invalid and left out (partial success).
        case stored(WriteResult, rejected: Int, message: String?)
        /// The client should retry after the delay (HTTP 503, gRPC UNAVAILABLE).
        case retryLater(seconds: Int, message: String)
        /// Storage failed (HTTP 500, gRPC INTERNAL).
        case failed(message: String)
    }

    let store: SpanStore
    let logger: Logger
    let metrics: SpindleMetrics?

    public init(store: SpanStore, logger: Logger, metrics: SpindleMetrics? = nil) {
        self.store = store
        self.logger = logger
        self.metrics = metrics
    }

    /// Whether receivers should keep requests' protobuf bytes (`DecodedTraces.keep(asReceived:)`) for forwarding.
    public var keepsRequestsAsReceived: Bool { store.keepsRequestBodies }

    /// The resource attribute that names a project when the request does not.
    public static let projectAttribute = "spindle.project"

    /// - Parameter project: the project the request named or was authorized for; nil lets each resource's
    ///   `spindle.project` attribute decide, else `default`.
    public func ingest(_ decoded: DecodedTraces, project: String?, transport: String) async -> Outcome {
        let receiver = "otlp-\(transport)"
        metrics?.received(decoded.traces.spanCount + decoded.rejections.count, via: receiver)
        if !decoded.rejections.isEmpty { metrics?.rejected(decoded.rejections.count, via: receiver) }
        let result: WriteResult
        do throws(StoreError) {
            result = try await store.write(
                decoded.traces, project: project ?? "default", projectAttribute: project == nil ? Self.projectAttribute : nil,
                forwardBody: decoded.asReceived)
        } catch {
            metrics?.rejected(decoded.traces.spanCount, via: receiver)
            switch error {
            case .overloaded(let seconds):
                return .retryLater(seconds: seconds, message: "Spindle's write queue is full; retry in \(seconds)s")
            case .closed:
                return .retryLater(seconds: 1, message: "Spindle is shutting down")
            case .sqlite(let failure):
                logger.error("could not store spans", metadata: ["error": "\(failure)", "protocol": "\(transport)"])
                return .failed(message: "could not store spans: \(failure.message)")
            }
        }
        logger.debug(
            "stored spans",
            metadata: [
                "stored": "\(result.stored)", "duplicates": "\(result.duplicates)",
                "rejected": "\(decoded.rejections.count)", "project": "\(project ?? "(by resource)")", "protocol": "\(transport)",
            ])
        if let first = decoded.rejections.first {
            logger.info(
                "partial success",
                metadata: ["rejected": "\(decoded.rejections.count)", "first": "\(first)", "protocol": "\(transport)"])
        }
        return .stored(result, rejected: decoded.rejections.count, message: decoded.partialSuccessMessage)
    }
}
