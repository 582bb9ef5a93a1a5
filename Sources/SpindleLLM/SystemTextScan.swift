import Foundation
import SpindleCodec
import Synchronization

/// The system instructions inside a JSON message list, found without building the whole list: ingest
/// needs only them (to identify an unnamed prompt), and the user's text around them can be long.
/// Only the system (or developer) messages are parsed; everything else is skipped byte by byte.
enum SystemTextScan {
    /// The text of the system messages in `json` (OTel parts or OpenAI shape), nil when there are none.
    /// Returns `.failure` when the text is not a JSON array of objects, so the caller can parse it fully.
    static func systemText(in json: String) -> Result<String?, ScanError> {
        var json = json
        return json.withUTF8 { bytes in
            var scanner = Scanner(bytes: bytes)
            return Result { () throws(ScanError) in try scanner.systemText() }
        }
    }

    struct ScanError: Error {}

    /// System message JSON → its text, for the messages seen most recently.
    static let known = Mutex<[RawKey: String]>([:])
    /// The last system message found and its text: calls of one prompt come in runs, and comparing bytes
    /// costs far less than hashing them for the dictionary.
    static let last = Mutex<(raw: [UInt8], text: String)>(([], ""))

    /// Bytes hashed in one go (an array of bytes hashes byte by byte, which costs more than the parse).
    struct RawKey: Hashable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func systemText() throws(ScanError) -> String? {
            skipWhitespace()
            try expect(UInt8(ascii: "["))
            var texts: [String] = []
            skipWhitespace()
            if peek == UInt8(ascii: "]") { return nil }
            while true {
                skipWhitespace()
                if let text = try message() { texts.append(text) }
                skipWhitespace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                } else {
                    try expect(UInt8(ascii: "]"))
                    break
                }
            }
            let joined = texts.filter { !$0.isEmpty }.joined(separator: "\n")
            return joined.isEmpty ? nil : joined
        }

        /// One message object: its text when it is a system message, else nil (skipped).
        private mutating func message() throws(ScanError) -> String? {
            let start = index
            try expect(UInt8(ascii: "{"))
            var isSystem = false
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return nil
            }
            while true {
                skipWhitespace()
                let key = try stringRange()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                if equals(key, "role") {
                    let value = try stringRange()
                    isSystem = equals(value, "system") || equals(value, "developer")
                } else {
                    try skipValue()
                }
                skipWhitespace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                } else {
                    try expect(UInt8(ascii: "}"))
                    break
                }
            }
            guard isSystem else { return nil }
            // Only now build the message, with the full parser, from its own bytes; the same system
            // message comes with every call of a prompt, so its text is remembered.
            let message = UnsafeBufferPointer(rebasing: bytes[start..<index])
            let repeated = SystemTextScan.last.withLock { last -> String? in
                guard last.raw.count == message.count,
                    last.raw.withUnsafeBufferPointer({ memcmp($0.baseAddress!, message.baseAddress!, message.count) }) == 0
                else { return nil }
                return last.text
            }
            if let repeated { return repeated }
            let raw = RawKey(bytes: Array(message))
            if let known = SystemTextScan.known.withLock({ $0[raw] }) {
                SystemTextScan.last.withLock { $0 = (raw.bytes, known) }
                return known
            }
            guard let value = try? JSONValue.parse(raw.bytes), let parsed = MessageParsing.message(value, defaultRole: "system")
            else { throw ScanError() }
            SystemTextScan.known.withLock { known in
                if known.count >= 1024 { known.removeAll() }  // senders may vary it without end
                known[raw] = parsed.text
            }
            SystemTextScan.last.withLock { $0 = (raw.bytes, parsed.text) }
            return parsed.text
        }

        private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func expect(_ byte: UInt8) throws(ScanError) {
            guard peek == byte else { throw ScanError() }
            index += 1
        }

        private mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        private func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
            range.count == text.utf8CodeUnitCount
                && range.indices.allSatisfy { bytes[range.lowerBound + $0 - range.lowerBound] == text.utf8Start[$0 - range.lowerBound] }
        }

        /// The bytes of a string's content (escapes left as they are), after its closing quote.
        private mutating func stringRange() throws(ScanError) -> Range<Int> {
            try expect(UInt8(ascii: "\""))
            let start = index
            let base = bytes.baseAddress!
            while index < bytes.count {
                // memchr to the next quote; it closes the string unless an odd run of backslashes precedes it.
                guard let found = memchr(base + index, Int32(UInt8(ascii: "\"")), bytes.count - index) else { break }
                let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                var backslashes = 0
                while quote - backslashes - 1 >= start, bytes[quote - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
                index = quote + 1
                if backslashes % 2 == 0 { return start..<quote }
            }
            throw ScanError()
        }

        /// Skips one value of any kind, nesting tracked by a counter (no recursion).
        private mutating func skipValue() throws(ScanError) {
            var depth = 0
            repeat {
                skipWhitespace()
                guard let byte = peek else { throw ScanError() }
                switch byte {
                case UInt8(ascii: "\""):
                    _ = try stringRange()
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    index += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    index += 1
                    guard depth >= 0 else { throw ScanError() }
                case UInt8(ascii: ","), UInt8(ascii: ":"):
                    guard depth > 0 else { throw ScanError() }
                    index += 1
                default:
                    // Numbers and literals: up to the next delimiter.
                    while let next = peek, next != UInt8(ascii: ","), next != UInt8(ascii: "}"), next != UInt8(ascii: "]"),
                        next != 0x20, next != 0x0A, next != 0x0D, next != 0x09
                    {
                        index += 1
                    }
                }
            } while depth > 0
        }
    }
}
