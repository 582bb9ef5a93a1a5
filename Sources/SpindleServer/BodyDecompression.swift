import Foundation
import CompressNIO
import NIOCore

/// `Content-Encoding` of a request body.
enum ContentEncoding: Sendable {
    case identity
    case gzip
    case deflate

    /// nil for an encoding Spindle does not accept.
    init?(header: String?) {
        switch header?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil, "", "identity": self = .identity
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .deflate
        default: return nil
        }
    }

    enum Failure: Error {
        case tooLarge
        case corrupt(String)
    }

    /// Inflates `body`, stopping as soon as the output would pass `limit`, so a small gzip bomb never
    /// becomes a large buffer.
    func decode(_ body: ByteBuffer, limit: Int) throws(Failure) -> ByteBuffer {
        switch self {
        case .identity:
            guard body.readableBytes <= limit else { throw .tooLarge }
            return body
        case .gzip:
            return try inflate(body, algorithm: .gzip(), limit: limit)
        case .deflate:
            // HTTP's "deflate" is the zlib format; some clients send raw deflate, so accept both.
            do {
                return try inflate(body, algorithm: .zlib(), limit: limit)
            } catch .corrupt {
                return try inflate(body, algorithm: .deflate(), limit: limit)
            }
        }
    }

    private func inflate(_ body: ByteBuffer, algorithm: CompressionAlgorithm, limit: Int) throws(Failure) -> ByteBuffer {
        var input = body
        do {
            // maxSize bounds the output buffer; passing it is reported as bufferOverflow.
            return try input.decompress(with: algorithm, maxSize: limit)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw .tooLarge
        } catch {
            throw .corrupt("\(error)")
        }
    }
}
