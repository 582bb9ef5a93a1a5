import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import SpindleCodec
import SpindleModel
public import SpindleMetrics
public import SpindleStore

/// `POST /v1/traces`: OTLP/HTTP in protobuf or JSON, answered only once the spans are committed.
public struct OTLPHTTPReceiver: Sendable {
    let ingest: OTLPIngest
    let configuration: ServerConfiguration
    let logger: Logger

    public init(store: SpanStore, configuration: ServerConfiguration, logger: Logger, metrics: SpindleMetrics? = nil) {
        self.ingest = OTLPIngest(store: store, logger: logger, metrics: metrics)
        self.configuration = configuration
        self.logger = logger
    }

    func handle(_ request: Request) async -> Response {
        guard let encoding = MessageEncoding(contentType: request.headers[.contentType]) else {
            // No encoding to answer in: JSON is the readable choice.
            return error(
                .unsupportedMediaType, .json, .invalidArgument,
                "unsupported Content-Type \"\(request.headers[.contentType] ?? "")\"; "
                    + "send application/x-protobuf or application/json")
        }
        guard let contentEncoding = ContentEncoding(header: request.headers[.contentEncoding]) else {
            return error(
                .unsupportedMediaType, encoding, .invalidArgument,
                "unsupported Content-Encoding \"\(request.headers[.contentEncoding] ?? "")\"; send gzip, deflate or none")
        }
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            return tooLarge(encoding, limit)
        }

        let body: ByteBuffer
        do {
            // The compressed body is never larger than what it inflates to, so the same limit applies.
            body = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            return tooLarge(encoding, limit)
        } catch {
            return self.error(.badRequest, encoding, .invalidArgument, "could not read the request body: \(error)")
        }

        let inflated: ByteBuffer
        do throws(ContentEncoding.Failure) {
            inflated = try contentEncoding.decode(body, limit: limit)
        } catch {
            switch error {
            case .tooLarge: return tooLarge(encoding, limit)
            case .corrupt(let reason):
                return self.error(.badRequest, encoding, .invalidArgument, "could not decompress the body: \(reason)")
            }
        }

        var decoded: DecodedTraces
        do {
            decoded = try encoding.decode(inflated, limits: configuration.decodeLimits)
            if encoding == .protobuf && ingest.keepsRequestsAsReceived {
                inflated.withUnsafeReadableBytes { decoded.keep(asReceived: $0) }
            }
        } catch {
            logger.debug("rejected undecodable request", metadata: ["error": "\(error.message)"])
            return self.error(.badRequest, encoding, .invalidArgument, error.message)
        }

        // Authorized (or, auth off, named by the header); else the resource attribute, else `default`.
        let project = request.headers[AuthMiddleware.projectHeader] ?? request.headers[Self.projectHeader]
        switch await ingest.ingest(decoded, project: project, transport: "http") {
        case .stored(_, let rejected, let message):
            return respond(.ok, encoding, encoding.response(rejectedSpans: Int64(rejected), errorMessage: message))
        case .retryLater(let seconds, let message):
            return self.error(.serviceUnavailable, encoding, .unavailable, message, retryAfter: seconds)
        case .failed(let message):
            return self.error(.internalServerError, encoding, .internal, message)
        }
    }

    static let projectHeader = HTTPField.Name("x-spindle-project")!

    private func tooLarge(_ encoding: MessageEncoding, _ limit: Int) -> Response {
        error(
            .contentTooLarge, encoding, .resourceExhausted,
            "request body is larger than \(limit) bytes after decompression (spindle serve --max-body)")
    }

    private func error(
        _ status: HTTPResponse.Status, _ encoding: MessageEncoding, _ code: GRPCStatusCode, _ message: String,
        retryAfter: Int? = nil
    ) -> Response {
        var response = respond(status, encoding, encoding.status(code: code, message: message, retryAfterSeconds: retryAfter))
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    private func respond(_ status: HTTPResponse.Status, _ encoding: MessageEncoding, _ body: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: encoding.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
