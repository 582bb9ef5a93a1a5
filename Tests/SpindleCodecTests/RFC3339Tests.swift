import Foundation
import Testing
import SpindleCodec

@Suite struct RFC3339Tests {
    @Test func agreesWithFoundationToTheSecond() {
        let formatter = ISO8601DateFormatter()
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            // Any second from 1970 to 2200, written with a random offset.
            let seconds = Int.random(in: 0..<7_258_118_400, using: &random)
            let offsetMinutes = [0, 60, -300, 330, 765, -720][Int.random(in: 0..<6, using: &random)]
            formatter.timeZone = TimeZone(secondsFromGMT: offsetMinutes * 60)
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(RFC3339.unixNanos(text) == UInt64(seconds) * 1_000_000_000, "\(text)")
        }
    }

    @Test func writtenTimesAgreeWithFoundationAndReadBack() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let millis = UInt64.random(in: 0..<7_258_118_400_000, using: &random)
            let nanos = millis * 1_000_000 + UInt64.random(in: 0..<1_000_000, using: &random)
            let text = RFC3339.string(unixNanos: nanos)
            #expect(text == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(millis) / 1000 + 0.0001)), "\(nanos)")
            #expect(RFC3339.unixNanos(text) == millis * 1_000_000)
        }
        #expect(RFC3339.string(unixNanos: 0) == "1970-01-01T00:00:00.000Z")
        var writer = JSONWriter()
        writer.raw("[")
        writer.time(unixNanos: 1_764_064_800_123_456_789)
        writer.raw("]")
        #expect(writer.string == #"["2025-11-25T10:00:00.123Z"]"#)
        #expect(RFC3339.string(unixNanos: 1_709_164_800_123_456_789) == "2024-02-29T00:00:00.123Z")
    }

    @Test func fractionsAreExactToTheNanosecond() {
        #expect(RFC3339.unixNanos("2026-11-25T10:00:00.123456789Z") == 1_795_600_800_123_456_789)
        #expect(RFC3339.unixNanos("2026-11-25T10:00:00.5Z") == 1_795_600_800_500_000_000)
        #expect(RFC3339.unixNanos("2026-11-25t10:00:00.1234567891234z") == 1_795_600_800_123_456_789)
        #expect(RFC3339.unixNanos("2026-11-25 11:00:00+01:00") == 1_795_600_800_000_000_000)
        #expect(RFC3339.unixNanos("2024-02-29T00:00:00Z") == 1_709_164_800_000_000_000)
        #expect(RFC3339.unixNanos("1960-01-01T00:00:00Z") == 0)  // before the epoch: 0, as before
    }

    @Test func secondsAreWrittenExactly() {
        func seconds(_ nanos: UInt64) -> String {
            var writer = JSONWriter()
            writer.seconds(unixNanos: nanos)
            return writer.string
        }
        #expect(seconds(1_700_000_000_020_000_000) == "1700000000.02")
        #expect(seconds(1_700_000_000_000_000_000) == "1700000000.0")
        #expect(seconds(1_700_000_000_123_456_789) == "1700000000.123456789")
        #expect(seconds(1) == "0.000000001")
        #expect(seconds(0) == "0.0")
        #expect(seconds(UInt64.max) == "18446744073.709551615")
        // Read back as a Double, a time to the microsecond keeps its microseconds (`Double(nanos) / 1e9`
        // rounds twice and is at times one unit off in its last digit).
        var random = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let micros = UInt64.random(in: 0..<4_000_000_000_000_000, using: &random)
            let text = seconds(micros * 1000)
            #expect(UInt64((Double(text)! * 1e6).rounded()) == micros, "\(text)")
        }
    }

    @Test(arguments: [
        "", "2026-11-25", "2026-11-25T10:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z",
        "2026-11-25T24:00:00Z", "2026-11-25T10:60:00Z", "2026-11-25T10:00:00.Z", "2026-11-25T10:00:00+0100",
        "2026-11-25T10:00:00Z junk", "26-11-25T10:00:00Z", "2026/11/25T10:00:00Z", "2026-11-25T10:00:00+01",
    ])
    func malformedTimesAreRejected(text: String) {
        #expect(RFC3339.unixNanos(text) == nil)
    }
}
