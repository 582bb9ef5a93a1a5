/// Appends JSON text to a byte buffer. Small and allocation-light: it runs for every stored span.
public struct JSONWriter: Sendable {
    /// The text written so far. (Stored under another name so that the small writers below can be
    /// inlined into other modules: a call per comma showed up in profiles of large answers.)
    public var bytes: [UInt8] { storage }
    @usableFromInline var storage: [UInt8]

    public init(capacity: Int = 256) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Bytes written so far.
    public var count: Int { storage.count }

    @inlinable
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { storage.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func raw(_ byte: UInt8) { storage.append(byte) }

    @inlinable
    public mutating func rawBytes(_ other: [UInt8]) { storage.append(contentsOf: other) }

    /// Bytes that are already valid JSON text.
    @inlinable
    public mutating func rawBytes(_ other: UnsafeBufferPointer<UInt8>) { storage.append(contentsOf: other) }

    /// Text that is already valid JSON (or needs no escaping, like hex ids).
    public mutating func rawUTF8(_ text: String) { storage.append(contentsOf: text.utf8) }

    /// A quoted, escaped JSON string.
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string(utf8: $0) }
    }

    /// A quoted, escaped JSON string from its UTF-8 bytes.
    public mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        storage.append(UInt8(ascii: "\""))
        var start = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
            escape(byte)
            start = index + 1
        }
        storage.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        storage.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case 0x08: raw("\\b")
        case 0x0C: raw("\\f")
        default:
            raw("\\u00")
            storage.append(hexDigit(byte >> 4))
            storage.append(hexDigit(byte & 0xF))
        }
    }

    private func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// An object key followed by a colon.
    public mutating func key(_ name: StaticString) {
        storage.append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }

    public mutating func key(_ name: String) {
        string(name)
        storage.append(UInt8(ascii: ":"))
    }

    // Concrete overloads rather than one generic: across modules a generic integer writer runs through
    // protocol witnesses, which showed up at the top of profiles.
    public mutating func number(_ value: Int) { number(Int64(value)) }
    public mutating func number(_ value: Int32) { number(Int64(value)) }
    public mutating func number(_ value: UInt32) { number(UInt64(value)) }

    public mutating func number(_ value: Int64) {
        if value < 0 { storage.append(UInt8(ascii: "-")) }
        digits(value.magnitude)
    }

    public mutating func number(_ value: UInt64) { digits(value) }

    /// Decimal digits by hand: String(value) allocates, and this runs for every stored integer. Written
    /// backwards into a stack buffer, dividing by the constant 10 (which compiles to a multiplication).
    private mutating func digits(_ value: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var remainder = value
            var start = 20
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remainder % 10)
                remainder /= 10
            } while remainder > 0
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<20]))
        }
    }

    /// A time in nanoseconds since the epoch as a number of seconds, exactly (`1700000000.0201`, whole
    /// seconds as `1700000000.0`): what `number(Double(nanos) / 1e9)` says, without a Double's rounding
    /// or its text's allocation.
    public mutating func seconds(unixNanos nanos: UInt64) {
        digits(nanos / 1_000_000_000)
        var fraction = nanos % 1_000_000_000
        guard fraction > 0 else { return raw(".0") }
        var width = 9
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { text in
            text[0] = UInt8(ascii: ".")
            for position in stride(from: width, through: 1, by: -1) {
                text[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction % 10)
                fraction /= 10
            }
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: text[...width]))
        }
    }

    /// A 64-bit integer as a decimal string, as the protobuf JSON mapping writes int64/uint64/fixed64.
    public mutating func quotedNumber(_ value: Int64) {
        storage.append(UInt8(ascii: "\""))
        number(value)
        storage.append(UInt8(ascii: "\""))
    }

    public mutating func quotedNumber(_ value: UInt64) {
        storage.append(UInt8(ascii: "\""))
        number(value)
        storage.append(UInt8(ascii: "\""))
    }

    /// A double; NaN and the infinities as the strings the protobuf JSON mapping uses.
    public mutating func number(_ value: Double) {
        if value.isNaN {
            raw("\"NaN\"")
        } else if value.isInfinite {
            raw(value < 0 ? "\"-Infinity\"" : "\"Infinity\"")
        } else if value == 0 {
            raw(value.sign == .minus ? "-0.0" : "0.0")  // as `description` writes it, without its String
        } else {
            // Swift prints the shortest text that reads back to the same Double.
            storage.append(contentsOf: value.description.utf8)
        }
    }

    public mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }

    public mutating func null() { raw("null") }

    /// The value, or `null` when there is none.
    public mutating func string(orNull value: String?) {
        if let value { string(value) } else { null() }
    }

    public mutating func number(orNull value: Int?) {
        if let value { number(value) } else { null() }
    }

    public mutating func number(orNull value: Double?) {
        if let value { number(value) } else { null() }
    }

    /// Writes `value` as JSON.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .int(let int): number(int)
        case .uint(let uint): number(uint)
        case .double(let double): number(double)
        case .string(let text): string(text)
        case .array(let items):
            raw("[")
            for (index, item) in items.enumerated() {
                if index > 0 { raw(",") }
                self.value(item)
            }
            raw("]")
        case .object(let members):
            raw("{")
            for (index, member) in members.enumerated() {
                if index > 0 { raw(",") }
                key(member.key)
                self.value(member.value)
            }
            raw("}")
        }
    }
}
