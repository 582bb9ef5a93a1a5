import Testing
import SpindleModel

@Suite struct IdentifierTests {
    @Test func traceIDHexRoundTrip() throws {
        let id = try #require(TraceID(hex: "5B8EFFF798038103D269B633813FC60C"))
        #expect(id.hex == "5b8efff798038103d269b633813fc60c")
        #expect(id.bytes == [0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c])
        #expect(TraceID(bytes: id.bytes) == id)
    }

    @Test func spanIDHexRoundTrip() throws {
        let id = try #require(SpanID(hex: "eee19b7ec3c1b174"))
        #expect(id.value == 0xeee1_9b7e_c3c1_b174)
        #expect(SpanID(bytes: id.bytes) == id)
        #expect(SpanID(1).hex == "0000000000000001")
    }

    @Test(arguments: ["", "abc", "5b8efff798038103d269b633813fc60", "5b8efff798038103d269b633813fc60g", "5b8efff798038103d269b633813fc60c00"])
    func invalidTraceHexIsRejected(_ text: String) {
        #expect(TraceID(hex: text) == nil)
    }

    @Test func wrongByteCountsAreRejected() {
        #expect(TraceID(bytes: [UInt8](repeating: 1, count: 8)) == nil)
        #expect(SpanID(bytes: [UInt8](repeating: 1, count: 16)) == nil)
        #expect(TraceID(high: 0, low: 0).isZero)
    }

    @Test func enumsKeepUnknownValuesAndParseNames() {
        #expect(SpanKind(name: "SPAN_KIND_CLIENT") == .client)
        #expect(SpanKind(name: "server") == .server)
        #expect(SpanKind(name: "nope") == nil)
        #expect(SpanKind(rawValue: 42).protoName == nil)
        #expect(StatusCode(name: "STATUS_CODE_ERROR") == .error)
    }

    @Test func attributeDepth() {
        #expect(AttributeValue.string("x").depth == 1)
        #expect(AttributeValue.array([.kvlist([Attribute("a", .array([]))])]).depth == 3)
    }
}
