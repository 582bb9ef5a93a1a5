import Foundation
import NIOCore
import SpindleCodec
import SpindleModel

/// The two encodings of OTLP/HTTP. A response always uses the request's encoding.
enum MessageEncoding: Sendable {
    case protobuf
    case json

    /// From a Content-Type header; parameters such as `; charset=utf-8` are ignored.
    init?(contentType: String?) {
        guard let contentType else { return nil }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        switch mediaType {
        case "application/x-protobuf", "application/protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }

    var contentType: String {
        switch self {
        case .protobuf: return "application/x-protobuf"
        case .json: return "application/json"
        }
    }

    /// Decodes straight from the request buffer, without copying it.
    func decode(_ body: ByteBuffer, limits: DecodeLimits) throws(OTLPDecodeError) -> DecodedTraces {
        let result = body.withUnsafeReadableBytes { bytes -> Result<DecodedTraces, OTLPDecodeError> in
            do throws(OTLPDecodeError) {
                switch self {
                case .protobuf: return .success(try OTLPProtobuf.decodeTraces(bytes, limits: limits))
                case .json: return .success(try OTLPJSON.decodeTraces(bytes, limits: limits))
                }
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    func response(rejectedSpans: Int64, errorMessage: String?) -> [UInt8] {
        switch self {
        case .protobuf: return OTLPProtobuf.encodeResponse(rejectedSpans: rejectedSpans, errorMessage: errorMessage)
        case .json: return OTLPJSON.encodeResponse(rejectedSpans: rejectedSpans, errorMessage: errorMessage)
        }
    }

    func status(code: GRPCStatusCode, message: String, retryAfterSeconds: Int? = nil) -> [UInt8] {
        switch self {
        case .protobuf:
            return OTLPProtobuf.encodeStatus(code: code.rawValue, message: message, retryAfterSeconds: retryAfterSeconds)
        case .json:
            return OTLPJSON.encodeStatus(code: code.rawValue, message: message, retryAfterSeconds: retryAfterSeconds)
        }
    }
}

/// The `google.rpc.Code` values Spindle uses in error bodies.
enum GRPCStatusCode: Int32 {
    case invalidArgument = 3
    case permissionDenied = 7
    case resourceExhausted = 8
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case unauthenticated = 16
}
