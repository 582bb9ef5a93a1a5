import CompressNIO
import NIOCore
import Testing
import SpindleCodec

@Suite struct JoinableGzipTests {
    /// Inflated by zlib through CompressNIO, as an upstream would.
    func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        return Array(buffer: try buffer.decompress(with: .gzip()))
    }

    func part(_ bytes: [UInt8]) throws -> DeflatedPart {
        try #require(bytes.withUnsafeBytes { DeflatedPart(compressing: $0) })
    }

    @Test func joinedPartsInflateToTheirBytesConcatenated() throws {
        var random = SystemRandomNumberGenerator()
        for round in 0..<40 {
            // Compressible text, random bytes (stored blocks) and empty parts, 1 to 6 of them.
            let texts: [[UInt8]] = (0..<Int.random(in: 1...6, using: &random)).map { index in
                switch (round + index) % 3 {
                case 0: return Array(String(repeating: "span \(index) attribute value ", count: Int.random(in: 0...5000, using: &random)).utf8)
                case 1: return (0..<Int.random(in: 0...70_000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                default: return []
                }
            }
            let parts = try texts.map(part)
            #expect(try gunzip(DeflatedPart.gzip(joining: parts)) == texts.flatMap { $0 })
            for (text, part) in zip(texts, parts) {
                #expect(part.length == text.count)
                #expect(try gunzip(DeflatedPart.gzip(joining: [part])) == text)
            }
        }
    }

    @Test func anEmptyJoinIsAnEmptyMember() throws {
        #expect(try gunzip(DeflatedPart.gzip(joining: [DeflatedPart]())) == [])
    }

    @Test func compressibleBytesShrink() throws {
        let text = Array(String(repeating: "gen_ai.usage.input_tokens ", count: 4000).utf8)
        #expect(try part(text).deflated.count < text.count / 10)
    }
}
