public import GRPCCore
import Logging
import SpindleCodec
import SpindleModel
public import SpindleMetrics
public import SpindleStore
public import SpindleServer

/// `opentelemetry.proto.collector.trace.v1.TraceService/Export` over gRPC. Messages travel as raw bytes
/// and are decoded by the same protobuf-c codec as OTLP/HTTP; the answer comes after the SQLite commit.
public struct OTLPGRPCTraceService: RegistrableRPCService {
    /// `opentelemetry.proto.collector.trace.v1.TraceService/Export`, for clients too.
    public static let export = MethodDescriptor(
        fullyQualifiedService: "opentelemetry.proto.collector.trace.v1.TraceService", method: "Export")

    let ingest: OTLPIngest
    let limits: DecodeLimits
    let maxMessageBytes: Int
    let logger: Logger
    let authenticator: Authenticator?

    public init(
        store: SpanStore, limits: DecodeLimits = .default, maxMessageBytes: Int, logger: Logger,
        authenticator: Authenticator? = nil, metrics: SpindleMetrics? = nil
    ) {
        self.ingest = OTLPIngest(store: store, logger: logger, metrics: metrics)
        self.authenticator = authenticator
        self.limits = limits
        self.maxMessageBytes = maxMessageBytes
        self.logger = logger
    }

    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.export,
            deserializer: OTLPRequestDeserializer(limits: limits, maxMessageBytes: maxMessageBytes, keepsBytes: ingest.keepsRequestsAsReceived),
            serializer: RawBytesCoder()
        ) { request, _ in
            let single = try await ServerRequest(stream: request)
            let response = try await export(single.message, metadata: single.metadata)
            return StreamingServerResponse(single: ServerResponse(message: response))
        }
    }

    private func export(_ decoding: Result<DecodedTraces, RPCError>, metadata: Metadata) async throws(RPCError)
        -> [UInt8]
    {
        let decoded: DecodedTraces
        switch decoding {
        case .success(let value): decoded = value
        case .failure(let error):
            logger.debug("rejected gRPC request", metadata: ["code": "\(error.code)", "error": "\(error.message)"])
            throw error
        }
        // Auth as over HTTP: the key's project, or (auth off) the one named, else the resource attribute.
        var project = metadata[stringValues: "x-spindle-project"].first(where: { _ in true })
        if let authenticator {
            let authorization = metadata[stringValues: "authorization"].first(where: { _ in true })
            switch authenticator.authorize(authorization: authorization, project: project) {
            case .allow(let allowed, _): project = allowed
            case .unauthenticated(let message): throw RPCError(code: .unauthenticated, message: message)
            case .forbidden(let message): throw RPCError(code: .permissionDenied, message: message)
            case .rateLimited(let seconds):
                throw RPCError(code: .resourceExhausted, message: "rate limit exceeded; retry in \(seconds)s")
            }
        }
        switch await ingest.ingest(decoded, project: project, transport: "grpc") {
        case .stored(_, let rejected, let message):
            return OTLPProtobuf.encodeResponse(rejectedSpans: Int64(rejected), errorMessage: message)
        case .retryLater(let seconds, let message):
            throw Self.unavailable(message, retryAfterSeconds: seconds)
        case .failed(let message):
            throw RPCError(code: .internalError, message: message)
        }
    }

    /// UNAVAILABLE with a `google.rpc.RetryInfo` in `grpc-status-details-bin`, which OTLP exporters
    /// read to know how long to wait.
    static func unavailable(_ message: String, retryAfterSeconds: Int) -> RPCError {
        var metadata = Metadata()
        metadata.addBinary(
            OTLPProtobuf.encodeStatus(code: 14, message: message, retryAfterSeconds: retryAfterSeconds),
            forKey: "grpc-status-details-bin")
        return RPCError(code: .unavailable, message: message, metadata: metadata)
    }
}

/// Messages as the bytes they are, both ways: Spindle's responses are already encoded by protobuf-c,
/// and clients (tests, benchmarks) send pre-encoded requests.
public struct RawBytesCoder: MessageSerializer, MessageDeserializer {
    public init() {}

    public func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }

    public func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// Decodes the (already decompressed) request in place. A failure travels to the handler as the
/// status to answer with: RESOURCE_EXHAUSTED past the size limit, INVALID_ARGUMENT when undecodable.
struct OTLPRequestDeserializer: MessageDeserializer {
    let limits: DecodeLimits
    let maxMessageBytes: Int
    /// Keep the message's bytes in `DecodedTraces.asReceived` (to forward it as received).
    var keepsBytes = false

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws
        -> Result<DecodedTraces, RPCError>
    {
        guard serializedMessageBytes.count <= maxMessageBytes else {
            return .failure(
                RPCError(
                    code: .resourceExhausted,
                    message:
                        "message is \(serializedMessageBytes.count) bytes, larger than \(maxMessageBytes) (spindle serve --max-body)"
                ))
        }
        return serializedMessageBytes.withUnsafeBytes { raw in
            do throws(OTLPDecodeError) {
                var decoded = try OTLPProtobuf.decodeTraces(raw, limits: limits)
                if keepsBytes { decoded.keep(asReceived: raw) }
                return .success(decoded)
            } catch {
                return .failure(RPCError(code: .invalidArgument, message: error.message))
            }
        }
    }
}
