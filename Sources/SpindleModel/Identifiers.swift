/// A 16-byte OTLP trace id. Never all zeros (the codecs reject such spans).
public struct TraceID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The first eight bytes, big-endian.
    public var high: UInt64
    /// The last eight bytes, big-endian.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads exactly 16 bytes; nil for any other length.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 16 else { return nil }
        self.init(
            high: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)),
            low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    public init?(bytes: [UInt8]) {
        guard let id = bytes.withUnsafeBytes({ TraceID(bytes: $0) }) else { return nil }
        self = id
    }

    /// Parses 32 hex digits, either case.
    @inlinable  // specialized in the caller: through a generic StringProtocol each digit costs a call
    public init?(hex: some StringProtocol) {
        // Digit by digit, without copying the text: stored spans parse three ids each as they are read.
        var high: UInt64 = 0
        var low: UInt64 = 0
        var count = 0
        for digit in hex.utf8 {
            guard count < 32, let nibble = hexValue(digit) else { return nil }
            if count < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
            count += 1
        }
        guard count == 32 else { return nil }
        self.init(high: high, low: low)
    }

    public var isZero: Bool { high == 0 && low == 0 }
    public var bytes: [UInt8] { bigEndianBytes(high) + bigEndianBytes(low) }
    /// 32 lowercase hex digits: the form used in OTLP JSON and as Spindle's `root_span_id`.
    public var hex: String { hexString(high) + hexString(low) }
    public var description: String { hex }

    public static func < (lhs: TraceID, rhs: TraceID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// An 8-byte OTLP span id. Never all zeros.
public struct SpanID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The eight bytes, big-endian.
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Reads exactly 8 bytes; nil for any other length.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 8 else { return nil }
        self.init(UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)))
    }

    public init?(bytes: [UInt8]) {
        guard let id = bytes.withUnsafeBytes({ SpanID(bytes: $0) }) else { return nil }
        self = id
    }

    /// Parses 16 hex digits, either case.
    @inlinable
    public init?(hex: some StringProtocol) {
        var value: UInt64 = 0
        var count = 0
        for digit in hex.utf8 {
            guard count < 16, let nibble = hexValue(digit) else { return nil }
            value = value << 4 | UInt64(nibble)
            count += 1
        }
        guard count == 16 else { return nil }
        self.init(value)
    }

    public var isZero: Bool { value == 0 }
    public var bytes: [UInt8] { bigEndianBytes(value) }
    /// 16 lowercase hex digits: the form used in OTLP JSON and as Spindle's `span_id`.
    public var hex: String { hexString(value) }
    public var description: String { hex }

    public static func < (lhs: SpanID, rhs: SpanID) -> Bool { lhs.value < rhs.value }
}

private func bigEndianBytes(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
}

private let hexDigits = Array("0123456789abcdef".utf8)

private func hexString(_ value: UInt64) -> String {
    String(unsafeUninitializedCapacity: 16) { buffer in
        for index in 0..<16 {
            buffer[index] = hexDigits[Int((value >> (60 - 4 * UInt64(index))) & 0xf)]
        }
        return 16
    }
}

private func parseHex64(_ digits: ArraySlice<UInt8>) -> UInt64? {
    var value: UInt64 = 0
    for digit in digits {
        guard let nibble = hexValue(digit) else { return nil }
        value = value << 4 | UInt64(nibble)
    }
    return value
}

/// The value of one hex digit (either case), or nil.
@inlinable
public func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
    default: return nil
    }
}
