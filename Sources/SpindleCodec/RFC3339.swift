/// RFC 3339 timestamps (`2026-11-25T10:00:00.123456789Z`, `…+01:00`), read and written by hand:
/// Foundation's ISO8601DateFormatter costs tens of microseconds a call (it took two thirds of a
/// Braintrust insert's time) and keeps only a Double's precision, while these are exact.
public enum RFC3339 {
    /// Nanoseconds since the Unix epoch (0 for earlier times), or nil when `text` is not RFC 3339.
    /// Accepts `T`, `t` or a space between date and time, `Z`/`z` or a `±HH:MM` offset, and up to
    /// nine fraction digits (further digits are read and dropped).
    public static func unixNanos(_ text: String) -> UInt64? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<width {
                let digit = Int(bytes[index + offset]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            index += width
            return value
        }
        func expect(_ allowed: UInt8...) -> Bool {
            guard index < bytes.count, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), expect(UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")),
            let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
            second <= 60  // a leap second is read as the next second's start, as most systems do
        else { return nil }
        var nanos = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, (48...57).contains(bytes[index]) {
                if digits < 9 { nanos = nanos * 10 + Int(bytes[index]) - 48 }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanos *= 10 }
        }
        var offsetSeconds = 0
        if expect(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
            offsetSeconds = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2), expect(UInt8(ascii: ":")), let minutes = number(2), hours < 24, minutes < 60
            else { return nil }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let seconds = daysFromEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
            - offsetSeconds
        guard seconds >= 0 else { return 0 }
        let (total, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? nil : total + UInt64(nanos)
    }

    /// `2026-11-25T10:00:00.123Z`: UTC, milliseconds (truncated), the form the vendor APIs and our JSON use.
    public static func string(unixNanos nanos: UInt64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        write(unixNanos: nanos, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `string(unixNanos:)`, appended to `bytes` as UTF-8.
    static func write(unixNanos nanos: UInt64, into bytes: inout [UInt8]) {
        let seconds = Int(nanos / 1_000_000_000)
        let milliseconds = Int(nanos % 1_000_000_000 / 1_000_000)
        let (year, month, day) = civilDate(daysFromEpoch: seconds / 86_400)
        let time = seconds % 86_400
        // Into a buffer of its own, then appended at once: cheaper than growing `bytes` a digit at a time.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { text in
            var end = 0
            func digits(_ value: Int, _ width: Int) {
                var value = value
                for position in stride(from: end + width - 1, through: end, by: -1) {
                    text[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
                    value /= 10
                }
                end += width
            }
            func byte(_ character: Unicode.Scalar) {
                text[end] = UInt8(ascii: character)
                end += 1
            }
            digits(year, 4)
            byte("-")
            digits(month, 2)
            byte("-")
            digits(day, 2)
            byte("T")
            digits(time / 3600, 2)
            byte(":")
            digits(time / 60 % 60, 2)
            byte(":")
            digits(time % 60, 2)
            byte(".")
            digits(milliseconds, 3)
            byte("Z")
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[..<end]))
        }
    }

    private static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar (negative before).
    private static func daysFromEpoch(year: Int, month: Int, day: Int) -> Int {
        // Count from a March-based year so that the leap day falls at the end of the year.
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01 (the inverse of `daysFromEpoch`, for days ≥ 0).
    private static func civilDate(daysFromEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * marchMonth + 2) / 5 + 1
        let month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension JSONWriter {
    /// A time as a JSON string in RFC 3339 (`RFC3339.string(unixNanos:)`), written in place.
    public mutating func time(unixNanos nanos: UInt64) {
        storage.append(UInt8(ascii: "\""))
        RFC3339.write(unixNanos: nanos, into: &storage)
        storage.append(UInt8(ascii: "\""))
    }
}
