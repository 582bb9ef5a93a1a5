import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import SpindleCodec
import SpindleModel
import SpindleMetrics
import SpindleStore

/// An error answered by the vendor-compatible endpoints: `{"error":{"message", "field"?}}`.
struct VendorError: Error {
    var status: HTTPResponse.Status
    var message: String
    var field: String?
    var retryAfter: Int?

    static func invalid(_ field: String, _ message: String) -> VendorError {
        VendorError(status: .badRequest, message: "\(field): \(message)", field: field)
    }

    var response: Response {
        var writer = JSONWriter()
        writer.raw("{\"error\":{\"message\":")
        writer.string(message)
        if let field {
            writer.raw(",\"field\":")
            writer.string(field)
        }
        writer.raw("}}")
        var response = VendorResponse.json(status, writer.bytes)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}

enum VendorResponse {
    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// What the vendor endpoints share: reading a JSON body within the size limit, and storing the spans a
/// request became, whole or not at all (one request is one transaction).
struct VendorIngest: Sendable {
    let store: SpanStore
    let maxBodyBytes: Int
    var metrics: SpindleMetrics? = nil

    /// The request's JSON body (gzip and deflate accepted). Too large: 413; not JSON: 400.
    func body(_ request: Request) async throws(VendorError) -> JSONValue {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw tooLarge
        }
        guard let encoding = ContentEncoding(header: request.headers[.contentEncoding]) else {
            throw VendorError(
                status: .unsupportedMediaType,
                message: "unsupported Content-Encoding \"\(request.headers[.contentEncoding] ?? "")\"; send gzip, deflate or none")
        }
        let raw: ByteBuffer
        do {
            raw = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            throw VendorError(status: .badRequest, message: "could not read the request body: \(error)")
        }
        let inflated: ByteBuffer
        do throws(ContentEncoding.Failure) {
            inflated = try encoding.decode(raw, limit: maxBodyBytes)
        } catch {
            switch error {
            case .tooLarge: throw tooLarge
            case .corrupt(let reason): throw VendorError(status: .badRequest, message: "could not decompress the body: \(reason)")
            }
        }
        do {
            return try JSONValue.parse(inflated.readableBytesView, maxDepth: 64)
        } catch {
            throw VendorError(status: .badRequest, message: "the body is not valid JSON: \(error)")
        }
    }

    private var tooLarge: VendorError {
        VendorError(
            status: .contentTooLarge,
            message: "request body is larger than \(maxBodyBytes) bytes (spindle serve --max-body)")
    }

    /// Stores the spans; returns once they are committed.
    func store(_ traces: TracesData, project: String, updates: [RowUpdate] = []) async throws(VendorError) {
        metrics?.received(traces.spanCount + updates.count, via: "vendor-api")
        do throws(StoreError) {
            _ = try await store.write(traces, project: project, updates: updates)
        } catch {
            switch error {
            case .overloaded(let seconds):
                throw VendorError(
                    status: .tooManyRequests, message: "Spindle's write queue is full; retry in \(seconds)s",
                    retryAfter: seconds)
            case .closed:
                throw VendorError(status: .serviceUnavailable, message: "Spindle is shutting down", retryAfter: 1)
            case .sqlite(let failure):
                throw VendorError(status: .internalServerError, message: "could not store: \(failure.message)")
            }
        }
    }
}

/// Typed reads of a JSON object with errors that name the field (`logs[3].latencyMs`).
struct FieldReader {
    let object: [(key: String, value: JSONValue)]
    let path: String

    init(_ value: JSONValue, path: String) throws(VendorError) {
        guard case .object(let members) = value else {
            throw VendorError.invalid(path.isEmpty ? "body" : path, "must be a JSON object")
        }
        object = members
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value, treating JSON null as absent.
    func value(_ key: String) -> JSONValue? {
        guard let value = object.first(where: { $0.key == key })?.value, value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws(VendorError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw VendorError.invalid(name(key), "must be a string") }
        return text
    }

    func requiredString(_ key: String) throws(VendorError) -> String {
        guard let text = try string(key) else { throw VendorError.invalid(name(key), "is required") }
        return text
    }

    func number(_ key: String) throws(VendorError) -> Double? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int, .uint, .double: return value.doubleValue
        default: throw VendorError.invalid(name(key), "must be a number")
        }
    }

    func object(_ key: String) throws(VendorError) -> FieldReader? {
        guard let value = value(key) else { return nil }
        return try FieldReader(value, path: name(key))
    }

    func array(_ key: String) throws(VendorError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw VendorError.invalid(name(key), "must be an array") }
        return items
    }

    /// An object whose values are all numbers (scores).
    func numbers(_ key: String) throws(VendorError) -> [(name: String, value: Double)] {
        guard let reader = try object(key) else { return [] }
        return try reader.object.map { member throws(VendorError) in
            guard let number = member.value.doubleValue, member.value.stringValue == nil else {
                throw VendorError.invalid(reader.name(member.key), "must be a number")
            }
            return (member.key, number)
        }
    }

    func uuid(_ key: String) throws(VendorError) -> UUID {
        let text = try requiredString(key)
        guard let uuid = UUID(uuidString: text) else { throw VendorError.invalid(name(key), "must be a UUID") }
        return uuid
    }

    /// An RFC 3339 time.
    func time(_ key: String) throws(VendorError) -> UInt64? {
        guard let text = try string(key) else { return nil }
        guard let nanos = RFC3339.unixNanos(text) else {
            throw VendorError.invalid(name(key), "must be an RFC 3339 time like 2026-11-25T10:00:00Z")
        }
        return nanos
    }
}
