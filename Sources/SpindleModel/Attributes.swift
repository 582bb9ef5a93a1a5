/// An OTLP `AnyValue`: every kind a span, resource or scope attribute can hold.
/// Not `indirect`: the nested cases recurse through arrays, which are already on the heap, so scalar
/// values need no allocation of their own.
public enum AttributeValue: Hashable, Sendable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case array([AttributeValue])
    case kvlist([Attribute])
    case bytes([UInt8])
    /// No value set: valid in OTLP, and kept as such.
    case empty

    /// How many `AnyValue` levels this value spans (a scalar is 1).
    public var depth: Int {
        switch self {
        case .array(let values): return 1 + (values.map(\.depth).max() ?? 0)
        case .kvlist(let attributes): return 1 + (attributes.map(\.value.depth).max() ?? 0)
        default: return 1
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

/// A key and its value. Order is kept as received; keys are not required to be unique.
public struct Attribute: Hashable, Sendable {
    public var key: String
    public var value: AttributeValue

    public init(key: String, value: AttributeValue) {
        self.key = key
        self.value = value
    }

    public init(_ key: String, _ value: AttributeValue) {
        self.init(key: key, value: value)
    }
}

extension Array where Element == Attribute {
    /// Whether no key appears twice (OTLP asks senders for unique keys; not all comply).
    public var hasUniqueKeys: Bool {
        let attributes = self
        guard attributes.count > 1 else { return true }
        guard attributes.count <= 32 else { return Set(attributes.map(\.key)).count == attributes.count }
        // Compare cheap fingerprints first; strings only when two fingerprints match.
        var fingerprints: [UInt64] = []
        fingerprints.reserveCapacity(attributes.count)
        for attribute in attributes {
            var key = attribute.key
            // Length and the first and last eight bytes: enough to tell attribute keys apart cheaply.
            let fingerprint = key.withUTF8 { utf8 -> UInt64 in
                let raw = UnsafeRawBufferPointer(utf8)
                guard raw.count >= 8 else {
                    var small: UInt64 = UInt64(raw.count) << 56
                    for (offset, byte) in raw.enumerated() { small |= UInt64(byte) << (8 * UInt64(offset)) }
                    return small
                }
                let head = raw.loadUnaligned(as: UInt64.self)
                let tail = raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self)
                return head ^ (tail << 1 | tail >> 63) ^ (UInt64(raw.count) << 56)
            }
            for (index, earlier) in fingerprints.enumerated()
            where earlier == fingerprint && attributes[index].key == attribute.key {
                return false
            }
            fingerprints.append(fingerprint)
        }
        return true
    }

    /// The first value under `key`.
    public subscript(key key: String) -> AttributeValue? {
        first { $0.key == key }?.value
    }
}
