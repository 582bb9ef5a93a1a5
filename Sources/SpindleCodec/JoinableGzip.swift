import CZlib

/// Compressed bytes that join with others into one gzip member without compressing again.
///
/// Each part is raw deflate data (RFC 1951) that ends on a sync flush: byte-aligned and without a final
/// block, with no back-reference before its own start. Parts laid end to end behind a gzip header, then a
/// final empty block and a trailer with the combined CRC-32 and length, make one ordinary gzip member
/// (RFC 1952) that inflates to the parts' bytes concatenated. For OTLP protobuf that is one request with
/// all their spans. (pigz joins the blocks it compresses in parallel the same way.)
public struct DeflatedPart: Sendable, Hashable {
    public var deflated: [UInt8]
    /// CRC-32 (gzip's) of the uncompressed bytes.
    public var crc: UInt32
    /// Uncompressed length.
    public var length: Int

    public init(deflated: [UInt8], crc: UInt32, length: Int) {
        self.deflated = deflated
        self.crc = crc
        self.length = length
    }

    /// Compresses `bytes` at zlib's fastest level: forwarding runs beside ingest, so CPU counts more than
    /// the last bytes saved. Nil only if zlib fails (out of memory).
    public init?(compressing bytes: UnsafeRawBufferPointer) {
        var stream = z_stream()
        guard spindle_deflate_init_raw(&stream, Z_BEST_SPEED) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        // Room for an eighth of the input (OTLP requests compress 4-12 times), grown while zlib needs more:
        // a buffer the input's size was zeroed for nothing and held until the request was stored.
        var output = [UInt8](repeating: 0, count: bytes.count / 8 + 256)
        var written = 0
        var status = Z_OK
        let input = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.next_in = input
        stream.avail_in = uInt(bytes.count)
        repeat {
            if written == output.count { output += [UInt8](repeating: 0, count: output.count / 2 + 64) }
            status = output.withUnsafeMutableBytes { raw -> Int32 in
                stream.next_out = raw.baseAddress!.assumingMemoryBound(to: Bytef.self) + written
                stream.avail_out = uInt(raw.count - written)
                let status = deflate(&stream, Z_SYNC_FLUSH)
                written = raw.count - Int(stream.avail_out)
                return status
            }
            guard status == Z_OK || status == Z_BUF_ERROR else { return nil }
            // Done when all input is in and the flush fit (zlib left room in the output).
        } while stream.avail_in > 0 || stream.avail_out == 0
        self.init(
            deflated: Array(output[..<written]), crc: UInt32(crc32(0, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count))),
            length: bytes.count)
    }

    /// One gzip member holding `parts` in order.
    public static func gzip(joining parts: some Collection<DeflatedPart>) -> [UInt8] {
        var crc: uLong = 0
        var length = 0
        var member: [UInt8] = []
        member.reserveCapacity(parts.reduce(20) { $0 + $1.deflated.count })
        // ID1 ID2, CM = deflate, no flags, no time, XFL 0, OS 255 (unknown).
        member += [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]
        for part in parts {
            member += part.deflated
            crc = crc32_combine(crc, uLong(part.crc), off_t(part.length))
            length += part.length
        }
        // A final block with fixed codes and only its end: BFINAL 1, BTYPE 01, then code 256 (seven 0 bits).
        member += [0x03, 0x00]
        for shift in stride(from: 0, to: 32, by: 8) { member.append(UInt8(truncatingIfNeeded: UInt32(crc) >> shift)) }
        let size = UInt32(truncatingIfNeeded: length)  // ISIZE: the length modulo 2^32
        for shift in stride(from: 0, to: 32, by: 8) { member.append(UInt8(truncatingIfNeeded: size >> shift)) }
        return member
    }
}
