import SpindleModel

/// A pre-encoded HTTP request whose trace and span ids can be renewed before each send, so that a long
/// run stores new spans instead of replaying duplicates, at the cost of a few byte writes per id. In
/// protobuf requests the span start and end times move forward too, as real traffic's do (replaying the
/// same hundred timestamps piles every insert of a time index onto the same few hundred positions).
struct PatchableRequest: Sendable {
    private(set) var bytes: [UInt8]
    /// Where the body starts (after the HTTP head); gRPC sends only the body.
    let bodyOffset: Int
    var body: [UInt8] { Array(bytes[bodyOffset...]) }
    /// Where an id's first four bytes sit (protobuf: raw bytes; JSON: the first eight hex digits).
    private var binaryOffsets: [Int] = []
    private var hexOffsets: [Int] = []
    /// Where each span start/end time (protobuf fixed64, little-endian) sits, with its original value.
    private var timeOffsets: [(offset: Int, value: UInt64)] = []

    init(head: [UInt8], body: [UInt8], traces: TracesData, json: Bool) {
        bytes = head + body
        bodyOffset = head.count
        var ids = Set<UInt64>()
        var times = Set<UInt64>()
        for (_, _, span) in traces.flattened {
            times.insert(span.startTimeUnixNano)
            times.insert(span.endTimeUnixNano)
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
                    let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    // Span start (field 7) and end (field 8) times: fixed64 after tags 0x39 and 0x41.
                    if times.contains(UInt64(littleEndian: word)), raw[index - 1] == 0x39 || raw[index - 1] == 0x41 {
                        timeOffsets.append((index, UInt64(littleEndian: word)))
                        index += 8
                    } else if ids.contains(UInt64(bigEndian: word)) {
                        binaryOffsets.append(index)
                        index += 8
                    } else {
                        index += 1
                    }
                }
            }
        }
    }

    /// Rewrites the first four bytes of every id with `generation`, and moves span times `generation`
    /// sends' worth of time (its low 24 bits, a second each: a request spans up to a second) forward.
    mutating func renew(generation: UInt32) {
        let shift = UInt64(generation & 0xFF_FFFF) * 1_000_000_000
        for (offset, value) in timeOffsets {
            withUnsafeBytes(of: (value &+ shift).littleEndian) { moved in
                for index in 0..<8 { bytes[offset + index] = moved[index] }
            }
        }
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
