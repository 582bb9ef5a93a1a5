/// Hand-built protobuf wire bytes, for inputs the encoder would never produce (hostile or broken).
enum Wire {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
        return bytes
    }

    /// A length-delimited field.
    static func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
        varint(UInt64(number << 3 | 2)) + varint(UInt64(payload.count)) + payload
    }

    static func request(spanFields: [UInt8]) -> [UInt8] {
        field(1, field(2, field(2, spanFields)))
    }

    static let traceID = [UInt8](repeating: 0xab, count: 16)
    static let spanID = [UInt8](repeating: 0xcd, count: 8)

    /// A request whose one span has an attribute nested `depth` AnyValue levels deep, built without
    /// recursion so that very deep inputs are cheap to make.
    static func nestedAttributeRequest(depth: Int) -> [UInt8] {
        // Sizes from the inside out: level k is AnyValue{array_value(5): ArrayValue{values(1): level k-1}}.
        var anyValueSizes = [0]  // the innermost AnyValue is empty
        var arraySizes = [0]
        for level in 1..<max(depth, 1) {
            let inner = anyValueSizes[level - 1]
            let array = 1 + varint(UInt64(inner)).count + inner
            arraySizes.append(array)
            anyValueSizes.append(1 + varint(UInt64(array)).count + array)
        }
        var value: [UInt8] = []
        value.reserveCapacity(anyValueSizes.last! + 16)
        for level in stride(from: anyValueSizes.count - 1, through: 1, by: -1) {
            value += [0x2a] + varint(UInt64(arraySizes[level]))
            value += [0x0a] + varint(UInt64(anyValueSizes[level - 1]))
        }
        let keyValue = field(1, Array("deep".utf8)) + field(2, value)
        return request(spanFields: field(1, traceID) + field(2, spanID) + field(5, Array("s".utf8)) + field(9, keyValue))
    }
}
