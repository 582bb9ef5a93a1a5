import Foundation
import SpindleCodec
import SpindleModel

/// Typed lookups into one span's attributes (first value of a repeated key wins). Values arrive in
/// whatever type the instrumentation chose: numbers as strings, JSON as strings or as structured
/// `AnyValue`s; the accessors accept each form.
struct SpanAttributes {
    private var values: [String: AttributeValue] = [:]
    let attributes: [Attribute]

    init(_ attributes: [Attribute]) {
        self.attributes = attributes
        values.reserveCapacity(attributes.count)
        for attribute in attributes where values[attribute.key] == nil {
            values[attribute.key] = attribute.value
        }
    }

    subscript(key: String) -> AttributeValue? { values[key] }

    func string(_ key: String) -> String? { values[key].flatMap(Self.string) }
    func int(_ key: String) -> Int? { values[key].flatMap(Self.int) }
    func double(_ key: String) -> Double? { values[key].flatMap(Self.double) }
    func bool(_ key: String) -> Bool? {
        switch values[key] {
        case .bool(let flag): return flag
        case .string(let text): return Bool(text.lowercased())
        default: return nil
        }
    }

    /// A JSON value: a string holding JSON is parsed; structured values are converted; other strings are
    /// returned as JSON strings.
    func json(_ key: String) -> JSONValue? { values[key].map(Self.json) }

    /// The values of keys `prefix.<index>.<rest>`, grouped by index in ascending order:
    /// `llm.input_messages.0.message.role` → `[0: ["message.role": …]]`.
    func indexed(_ prefix: String) -> [(index: Int, fields: [String: AttributeValue])] {
        var groups: [Int: [String: AttributeValue]] = [:]
        for attribute in attributes where attribute.key.hasPrefix(prefix) {
            let rest = attribute.key.dropFirst(prefix.count)
            guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]) else { continue }
            let field = String(rest[rest.index(after: dot)...])
            if groups[index]?[field] == nil { groups[index, default: [:]][field] = attribute.value }
        }
        return groups.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// `(rest, value)` for every key `prefix<rest>`, in attribute order.
    func withPrefix(_ prefix: String) -> [(name: String, value: AttributeValue)] {
        attributes.compactMap { attribute in
            attribute.key.hasPrefix(prefix) && attribute.key.count > prefix.count
                ? (String(attribute.key.dropFirst(prefix.count)), attribute.value) : nil
        }
    }

    static func string(_ value: AttributeValue) -> String? {
        switch value {
        case .string(let text): return text
        case .int(let int): return String(int)
        case .double(let double): return String(double)
        case .bool(let flag): return String(flag)
        default: return nil
        }
    }

    static func int(_ value: AttributeValue) -> Int? {
        switch value {
        case .int(let int): return Int(exactly: int)
        case .double(let double): return double.isFinite && double == double.rounded() ? Int(exactly: double) : nil
        case .string(let text): return Int(text.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    static func double(_ value: AttributeValue) -> Double? {
        switch value {
        case .int(let int): return Double(int)
        case .double(let double): return double
        case .string(let text): return Double(text.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    static func json(_ value: AttributeValue) -> JSONValue {
        switch value {
        case .string(let text):
            // Only text that looks like a JSON document is parsed; prose stays a string.
            if let first = text.utf8.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }),
                first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
                let parsed = try? JSONValue.parse(text)
            {
                return parsed
            }
            return .string(text)
        case .bool(let flag): return .bool(flag)
        case .int(let int): return .int(int)
        case .double(let double): return .double(double)
        case .array(let values): return .array(values.map(json))
        case .kvlist(let attributes): return .object(attributes.map { ($0.key, json($0.value)) })
        case .bytes(let bytes): return .string(String(decoding: bytes, as: UTF8.self))
        case .empty: return .null
        }
    }
}

extension JSONValue {
    /// Scalars as text; arrays and objects as compact JSON.
    var text: String {
        switch self {
        case .string(let text): return text
        case .null: return ""
        default:
            var writer = JSONWriter()
            writer.value(self)
            return writer.string
        }
    }
}
