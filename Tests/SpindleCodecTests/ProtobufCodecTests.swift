import Testing
import SpindleCodec
import SpindleModel
import SpindleTesting

@Suite struct ProtobufCodecTests {
    @Test func everyFieldRoundTrips() throws {
        let traces = SampleTraces.everyField()
        let decoded = try OTLPProtobuf.decodeTraces(OTLPProtobuf.encodeTraces(traces))
        #expect(decoded.rejections.isEmpty)
        #expect(decoded.traces == traces)
    }

    @Test func emptyBodyIsAnEmptyRequest() throws {
        let decoded = try OTLPProtobuf.decodeTraces([UInt8]())
        #expect(decoded.traces.spanCount == 0)
        #expect(decoded.rejections.isEmpty)
    }

    @Test func invalidIDsAreRejectedOneByOne() throws {
        let good = Wire.field(1, Wire.traceID) + Wire.field(2, Wire.spanID) + Wire.field(5, Array("good".utf8))
        let cases: [([UInt8], String)] = [
            (Wire.field(1, [1, 2, 3, 4, 5, 6, 7, 8]) + Wire.field(2, Wire.spanID), "trace_id has 8 bytes, expected 16"),
            (Wire.field(1, [UInt8](repeating: 0, count: 16)) + Wire.field(2, Wire.spanID), "trace_id is all zeros"),
            (Wire.field(2, Wire.spanID), "trace_id is missing"),
            (Wire.field(1, Wire.traceID) + Wire.field(2, [1, 2, 3]), "span_id has 3 bytes, expected 8"),
            (Wire.field(1, Wire.traceID) + Wire.field(2, [UInt8](repeating: 0, count: 8)), "span_id is all zeros"),
            (Wire.field(1, Wire.traceID) + Wire.field(2, Wire.spanID) + Wire.field(4, [1]), "parent_span_id has 1 bytes"),
        ]
        for (bad, reason) in cases {
            let spans = Wire.field(2, good) + Wire.field(2, bad + Wire.field(5, Array("bad".utf8)))
            let decoded = try OTLPProtobuf.decodeTraces(Wire.field(1, Wire.field(2, spans)))
            #expect(decoded.traces.spanCount == 1)
            #expect(decoded.traces.resourceSpans[0].scopeSpans[0].spans[0].name == "good")
            #expect(decoded.rejections.count == 1)
            #expect(decoded.rejections[0].reason.hasPrefix(reason))
            #expect(decoded.rejections[0].location == "resource_spans[0].scope_spans[0].spans[1]")
            #expect(decoded.partialSuccessMessage?.contains("rejected 1 of 2 spans") == true)
        }
    }

    @Test func allZeroParentMeansRoot() throws {
        let span = Wire.field(1, Wire.traceID) + Wire.field(2, Wire.spanID) + Wire.field(4, [UInt8](repeating: 0, count: 8))
        let decoded = try OTLPProtobuf.decodeTraces(Wire.request(spanFields: span))
        #expect(decoded.traces.resourceSpans[0].scopeSpans[0].spans[0].parentSpanID == nil)
    }

    @Test func truncatedInputIsMalformed() throws {
        let full = OTLPProtobuf.encodeTraces(SampleTraces.everyField())
        for cut in [1, 7, full.count / 2, full.count - 1] {
            #expect(throws: OTLPDecodeError.self) { try OTLPProtobuf.decodeTraces(Array(full.prefix(cut))) }
        }
    }

    @Test func garbageIsMalformed() throws {
        var generator = SplitMix(seed: 99)
        for length in [1, 5, 64, 1000] {
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) } + [0xff]
            do {
                _ = try OTLPProtobuf.decodeTraces(garbage)
                // Random bytes can happen to be valid protobuf; what matters is that nothing crashes.
            } catch {
                #expect(error.kind == .malformed)
            }
        }
        let error = #expect(throws: OTLPDecodeError.self) { try OTLPProtobuf.decodeTraces(Array("not protobuf at all".utf8)) }
        #expect(error?.kind == .malformed)
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let decoded = try OTLPProtobuf.decodeTraces(Wire.nestedAttributeRequest(depth: 64))
        let value = try #require(decoded.traces.resourceSpans.first?.scopeSpans.first?.spans.first?.attributes.first?.value)
        #expect(value.depth == 64)
    }

    @Test(arguments: [65, 10_000, 1_000_000])
    func deeperNestingIsRejected(depth: Int) throws {
        let error = #expect(throws: OTLPDecodeError.self) {
            try OTLPProtobuf.decodeTraces(Wire.nestedAttributeRequest(depth: depth))
        }
        #expect(error?.kind == .tooDeep)
    }

    @Test func responsesAndStatusesDecode() throws {
        #expect(OTLPProtobuf.encodeResponse().isEmpty)
        let partial = try #require(OTLPProtobuf.decodeResponse(OTLPProtobuf.encodeResponse(rejectedSpans: 2, errorMessage: "why")))
        #expect(partial.rejectedSpans == 2)
        #expect(partial.errorMessage == "why")
        let status = try #require(OTLPProtobuf.decodeStatus(OTLPProtobuf.encodeStatus(code: 14, message: "busy", retryAfterSeconds: 3)))
        #expect(status.code == 14)
        #expect(status.message == "busy")
    }

    @Test func invalidUTF8IsRepaired() throws {
        let span = Wire.field(1, Wire.traceID) + Wire.field(2, Wire.spanID) + Wire.field(5, [0x61, 0xff, 0x62])
        let decoded = try OTLPProtobuf.decodeTraces(Wire.request(spanFields: span))
        #expect(decoded.traces.resourceSpans[0].scopeSpans[0].spans[0].name == "a\u{FFFD}b")
    }
}
