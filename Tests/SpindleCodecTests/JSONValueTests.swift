import Testing
import SpindleCodec

@Suite struct JSONValueTests {
    @Test func numbersKeepTheKindTheirTextHas() throws {
        let value = try JSONValue.parse(#"[3, 3.0, 3e0, -0, 9223372036854775807, 18446744073709551615, 1e400, -12.5e-3]"#)
        #expect(
            value
                == .array([
                    .int(3), .double(3), .double(3), .int(0), .int(.max), .uint(.max), .double(.infinity), .double(-0.0125),
                ]))
    }

    @Test func objectsKeepOrderAndDuplicates() throws {
        let value = try JSONValue.parse(#"{"b":1,"a":2,"b":3}"#)
        #expect(value.objectValue?.map(\.key) == ["b", "a", "b"])
        #expect(value["b"] == .int(1))
    }

    @Test func stringsDecodeEscapes() throws {
        let value = try JSONValue.parse(#"["a\"b\\c\/d\n\t\u00e9\ud83d\ude00", "\ud800x"]"#)
        #expect(value == .array([.string("a\"b\\c/d\n\té😀"), .string("\u{FFFD}x")]))
    }

    @Test func writerAndParserAgree() throws {
        let document = JSONValue.object([
            (key: "s", value: .string("quote \" backslash \\ control \u{1} é")), (key: "n", value: .null),
            (key: "list", value: .array([.bool(true), .int(-5), .double(0.1), .uint(UInt64.max)])),
        ])
        var writer = JSONWriter()
        writer.value(document)
        #expect(try JSONValue.parse(writer.bytes) == document)
    }

    @Test func numbersAreWrittenAsSwiftPrintsThem() {
        var values: [UInt64] = [0, 1, 9, 10, 99, 100, 1_700_000_000_000_000_000, UInt64.max, UInt64(Int64.max)]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<1000 { values.append(random.next() >> UInt64.random(in: 0..<64, using: &random)) }
        for value in values {
            var writer = JSONWriter()
            writer.number(value)
            writer.raw(",")
            writer.number(-Int64(truncatingIfNeeded: value >> 1))
            writer.raw(",")
            writer.quotedNumber(value)
            #expect(writer.string == "\(value),\(-Int64(truncatingIfNeeded: value >> 1)),\"\(value)\"")
        }
        for double in [0.0, -0.0, 2.5, 1e-7, 123456.789, -1e300] {
            var writer = JSONWriter()
            writer.number(double)
            #expect(writer.string == double.description)
        }
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("{", "expected a string key"), (#"{"a" 1}"#, "expected ':'"),
        ("[1,]", "unexpected character"), ("[1 2]", "expected ',' or ']'"), (#""abc"#, "unterminated string"),
        ("tru", "unexpected end of input"), ("01x", "unexpected text after"), ("-", "invalid number"),
        ("1.", "invalid number"), ("\"\u{1}\"", "control character"), ("[] []", "unexpected text after"),
    ])
    func malformedInputSaysWhereAndWhy(text: String, message: String) {
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        #expect(error?.message.contains(message) == true, "\(error?.description ?? "no error")")
    }

    @Test func depthIsBounded() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 100_000)) }
        #expect(throws: Never.self) { try JSONValue.parse(String(repeating: "[", count: 512) + String(repeating: "]", count: 512)) }
    }
}
