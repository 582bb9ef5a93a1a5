import SpindleModel

/// A pre-encoded HTTP request whose trace and span ids can be renewed before each send, so that a long
/// run stores new spans instead of replaying duplicates, at the cost of a few byte writes per id.
struct PatchableRequest: Sendable {
    private(set) var bytes: [UInt8]
    /// Where the body starts (after the HTTP head); gRPC sends only the body.
    let bodyOffset: Int
    var body: [UInt8] { Array(bytes[bodyOffset...]) }
    /// Where an id's first four bytes sit (protobuf: raw bytes; JSON: the first eight hex digits).
    private var binaryOffsets: [Int] = []
    private var hexOffsets: [Int] = []

    init(head: [UInt8], body: [UInt8], traces: TracesData, json: Bool) {
        bytes = head + body
        bodyOffset = head.count
        var ids = Set<UInt64>()
        for (_, _, span) in traces.flattened {
            ids.insert(span.traceID.high)
            ids.insert(span.spanID.value)
            if let parent = span.parentSpanID { ids.insert(parent.value) }
        }
        if json {
            let hexIDs = Set(ids.map { Array(SpanID($0).hex.utf8) })
            var index = head.count
            while index + 16 <= bytes.count {
                if bytes[index] == UInt8(ascii: "\""), index + 17 <= bytes.count,
                    hexIDs.contains(Array(bytes[(index + 1)..<(index + 17)]))
                {
                    hexOffsets.append(index + 1)
                    index += 17
                } else {
                    index += 1
                }
            }
        } else {
            bytes.withUnsafeBytes { raw in
                var index = head.count
                while index + 8 <= raw.count {
                    let value = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    if ids.contains(value) {
                        binaryOffsets.append(index)
                        index += 8
                    } else {
                        index += 1
                    }
                }
            }
        }
    }

    /// Rewrites the first four bytes of every id with `generation`.
    mutating func renew(generation: UInt32) {
        let big = withUnsafeBytes(of: generation.bigEndian) { Array($0) }
        for offset in binaryOffsets {
            bytes[offset] = big[0]
            bytes[offset + 1] = big[1]
            bytes[offset + 2] = big[2]
            bytes[offset + 3] = big[3]
        }
        if !hexOffsets.isEmpty {
            let digits = Array("0123456789abcdef".utf8)
            let hex = (0..<8).map { digits[Int((generation >> (28 - 4 * UInt32($0))) & 0xf)] }
            for offset in hexOffsets {
                for index in 0..<8 { bytes[offset + index] = hex[index] }
            }
        }
    }
}
