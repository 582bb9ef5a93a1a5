import Foundation
import SpindleCodec
import SpindleModel

/// Typed lookups into one span's attributes (first value of a repeated key wins). Values arrive in
/// whatever type the instrumentation chose: numbers as strings, JSON as strings or as structured
/// `AnyValue`s; the accessors accept each form.
struct SpanAttributes {
    let attributes: [Attribute]
    /// The key families present: a convention reader whose families are absent skips the span at once.
    let families: KeyFamilies
    /// For spans a convention reads, one word a key (`signature`), so that a lookup compares words and
    /// reads a key's bytes only when its word matches. Readers look up dozens of keys a span, most absent.
    private let signatures: [UInt64]

    init(_ attributes: [Attribute]) {
        self.attributes = attributes
        var families: KeyFamilies = []
        // One pass over the keys' bytes for both; the signatures are kept only for spans a convention reads.
        signatures = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: attributes.count) { words in
            // By index, not by element: iterating copies each attribute (two retains and releases).
            for index in attributes.indices {
                attributes[index].key.withBytes { key in
                    families.formUnion(KeyFamilies(key: key))
                    words[index] = Self.signature(key)
                }
            }
            return families.isEmpty ? [] : Array(words)
        }
        self.families = families
    }

    /// A key's length and its last six bytes in one word. Keys of one convention share long prefixes,
    /// and their ends tell them apart.
    static func signature(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let count = key.count
        guard count >= 8 else {
            var tail: UInt64 = 0
            for byte in key { tail = tail << 8 | UInt64(byte) }
            return UInt64(count) << 48 | tail & 0xFFFF_FFFF_FFFF
        }
        // The last eight bytes, little-endian: the last six are the high ones.
        let last = UnsafeRawPointer(key.baseAddress! + (count - 8)).loadUnaligned(as: UInt64.self)
        return UInt64(count) << 48 | UInt64(littleEndian: last) >> 16
    }

    /// The value of `key` (a literal: its bytes cost nothing to reach).
    subscript(key: StaticString) -> AttributeValue? {
        // Not `withUTF8Buffer`: its closure held on to this value's arrays (a retain and release each lookup).
        guard key.hasPointerRepresentation else { return value(forKey: key.description) }
        return value(forKeyBytes: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
    }

    /// The value of a key built at run time.
    func value(forKey key: String) -> AttributeValue? { key.withBytes(value(forKeyBytes:)) }

    /// Keys are matched byte for byte, as OTLP sends them (no Unicode normalization).
    private func value(forKeyBytes key: UnsafeBufferPointer<UInt8>) -> AttributeValue? {
        func matches(_ index: Int) -> Bool {
            attributes[index].key.withBytes { $0.count == key.count && (key.isEmpty || memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0) }
        }
        guard signatures.count == attributes.count else {
            // Spans no convention reads (message events): a plain search.
            for index in attributes.indices where matches(index) { return attributes[index].value }
            return nil
        }
        let wanted = Self.signature(key)
        for index in signatures.indices where signatures[index] == wanted && matches(index) { return attributes[index].value }
        return nil
    }

    func string(_ key: StaticString) -> String? { self[key].flatMap(Self.string) }
    func int(_ key: StaticString) -> Int? { self[key].flatMap(Self.int) }
    func double(_ key: StaticString) -> Double? { self[key].flatMap(Self.double) }
    func bool(_ key: StaticString) -> Bool? {
        switch self[key] {
        case .bool(let flag): return flag
        case .string(let text): return Bool(text.lowercased())
        default: return nil
        }
    }

    /// A JSON value: a string holding JSON is parsed; structured values are converted; other strings are
    /// returned as JSON strings.
    func json(_ key: StaticString) -> JSONValue? { self[key].map(Self.json) }

    /// The values of keys `prefix.<index>.<rest>`, grouped by index in ascending order:
    /// `llm.input_messages.0.message.role` → `[0: ["message.role": …]]`.
    func indexed(_ prefix: String) -> [(index: Int, fields: [String: AttributeValue])] {
        var groups: [Int: [String: AttributeValue]] = [:]
        for attribute in attributes {
            guard let rest = attribute.key.dropBytePrefix(prefix)?.utf8,
                let dot = rest.firstIndex(of: UInt8(ascii: ".")),
                let index = Int(decimal: rest[..<dot])
            else { continue }
            let field = String(Substring(rest[rest.index(after: dot)...]))
            if groups[index]?[field] == nil { groups[index, default: [:]][field] = attribute.value }
        }
        return groups.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// `(rest, value)` for every key `prefix<rest>` with a non-empty rest, in attribute order.
    func withPrefix(_ prefix: String) -> [(name: String, value: AttributeValue)] {
        attributes.compactMap { attribute in
            guard let rest = attribute.key.dropBytePrefix(prefix), !rest.isEmpty else { return nil }
            return (String(rest), attribute.value)
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

/// Attribute key families of the LLM conventions.
struct KeyFamilies: OptionSet {
    let rawValue: UInt16

    static let genAI = KeyFamilies(rawValue: 1 << 0)
    /// OpenLLMetry's indexed `gen_ai.prompt.<i>.…` and `gen_ai.completion.<i>.…`.
    static let genAIIndexed = KeyFamilies(rawValue: 1 << 1)
    static let llm = KeyFamilies(rawValue: 1 << 2)
    /// `openinference.*`, `input.value`, `output.value`, `prompt.id`, `annotations.*`.
    static let openInference = KeyFamilies(rawValue: 1 << 3)
    static let traceloop = KeyFamilies(rawValue: 1 << 4)
    static let braintrust = KeyFamilies(rawValue: 1 << 5)
    static let langfuse = KeyFamilies(rawValue: 1 << 6)

    init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The family of one key (empty for keys no convention reads).
    init(key: String) { self = key.withBytes(KeyFamilies.init(key:)) }

    /// The family of one key, from its UTF-8 bytes. Compares bytes, not characters: this runs for every
    /// attribute of every span.
    init(key bytes: UnsafeBufferPointer<UInt8>) {
        func starts(_ prefix: StaticString) -> Bool {
            let count = prefix.utf8CodeUnitCount
            return bytes.count >= count && memcmp(bytes.baseAddress!, prefix.utf8Start, count) == 0
        }
        guard let first = bytes.first else {
            self = []
            return
        }
        switch first {
        case UInt8(ascii: "g"):
            guard starts("gen_ai.") else {
                self = []
                return
            }
            for indexed: StaticString in ["gen_ai.prompt.", "gen_ai.completion."] where starts(indexed) {
                let next = indexed.utf8CodeUnitCount
                if next < bytes.count, bytes[next] >= UInt8(ascii: "0"), bytes[next] <= UInt8(ascii: "9") {
                    self = [.genAI, .genAIIndexed]
                    return
                }
            }
            self = .genAI
        case UInt8(ascii: "l"):
            self = starts("llm.") ? .llm : starts("langfuse.") ? .langfuse : []
        case UInt8(ascii: "o"):
            self = starts("openinference.") || starts("output.value") ? .openInference : []
        case UInt8(ascii: "i"):
            self = starts("input.value") ? .openInference : []
        case UInt8(ascii: "p"):
            self = starts("prompt.id") ? .openInference : []
        case UInt8(ascii: "a"):
            self = starts("annotations.") ? .openInference : []
        case UInt8(ascii: "t"):
            self = starts("traceloop.") ? .traceloop : []
        case UInt8(ascii: "b"):
            self = starts("braintrust.") ? .braintrust : []
        default:
            self = []
        }
    }
}

extension String {
    /// `body` on the string's UTF-8 bytes, without copying them (native strings) or after one copy (bridged).
    func withBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        utf8.withContiguousStorageIfAvailable(body) ?? Array(utf8).withUnsafeBufferPointer(body)
    }

    /// The text after `prefix`, or nil when it does not start with it: a byte comparison (attribute keys
    /// are matched exactly, without Unicode normalization), fast enough to run on every key of every span.
    func dropBytePrefix(_ prefix: String) -> Substring? {
        let matches = withBytes { bytes in
            prefix.withBytes { head in
                bytes.count >= head.count && (head.isEmpty || memcmp(bytes.baseAddress!, head.baseAddress!, head.count) == 0)
            }
        }
        guard matches else { return nil }
        return self[utf8.index(startIndex, offsetBy: prefix.utf8.count)...]
    }
}

extension Int {
    /// A non-negative decimal integer written in ASCII digits only.
    init?(decimal digits: Substring.UTF8View.SubSequence) {
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        self = value
    }
}
