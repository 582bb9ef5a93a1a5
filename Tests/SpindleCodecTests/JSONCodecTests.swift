import Foundation
import Testing
import SpindleCodec
import SpindleModel
import SpindleTesting

@Suite struct JSONCodecTests {
    @Test func everyFieldRoundTrips() throws {
        let traces = SampleTraces.everyField()
        let encoded = OTLPJSON.encodeTraces(traces)
        let decoded = try OTLPJSON.decodeTraces(encoded)
        #expect(decoded.rejections.isEmpty)
        #expect(decoded.traces == traces)
        // Same data, same bytes.
        #expect(OTLPJSON.encodeTraces(decoded.traces) == encoded)
    }

    @Test func specialDoublesRoundTrip() throws {
        var traces = SampleTraces.everyField()
        traces.resourceSpans[0].scopeSpans[0].spans[0].attributes = [
            Attribute("inf", .double(.infinity)), Attribute("-inf", .double(-.infinity)), Attribute("max", .double(.greatestFiniteMagnitude)),
            Attribute("neg0", .double(-0.0)),
        ]
        let decoded = try OTLPJSON.decodeTraces(OTLPJSON.encodeTraces(traces))
        #expect(decoded.traces == traces)
        let nan = try OTLPJSON.decodeAttributes(OTLPJSON.encodeAttributes([Attribute("nan", .double(.nan))]))
        guard case .double(let value) = nan[0].value else { Issue.record("not a double"); return }
        #expect(value.isNaN)
    }

    @Test func acceptsTheLiberalForms() throws {
        // Upper-case hex, snake_case keys, enum names, 64-bit numbers as numbers, unknown fields.
        let json = """
            {"resource_spans":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"svc"}}]},
             "scope_spans":[{"scope":{"name":"lib","unknownField":1},"spans":[{
               "trace_id":"5B8EFFF798038103D269B633813FC60C","span_id":"EEE19B7EC3C1B174","parent_span_id":"EEE19B7EC3C1B173",
               "name":"op","kind":"SPAN_KIND_CLIENT","start_time_unix_nano":1544712660000000000,
               "endTimeUnixNano":"1544712661000000000","whatever":{"nested":[1,2]},
               "attributes":[{"key":"i","value":{"intValue":9007199254740993}},{"key":"d","value":{"doubleValue":"2.5"}},
                             {"key":"b","value":{"bytesValue":"AAEC"}},{"key":"e","value":{}}],
               "status":{"code":"STATUS_CODE_ERROR","message":"bad"}}]}]}]}
            """
        let decoded = try OTLPJSON.decodeTraces(Data(json.utf8))
        let span = try #require(decoded.traces.resourceSpans.first?.scopeSpans.first?.spans.first)
        #expect(span.traceID.hex == "5b8efff798038103d269b633813fc60c")
        #expect(span.parentSpanID?.hex == "eee19b7ec3c1b173")
        #expect(span.kind == .client)
        #expect(span.startTimeUnixNano == 1_544_712_660_000_000_000)
        #expect(span.endTimeUnixNano == 1_544_712_661_000_000_000)
        #expect(span.attributes[key: "i"] == .int(9_007_199_254_740_993))
        #expect(span.attributes[key: "d"] == .double(2.5))
        #expect(span.attributes[key: "b"] == .bytes([0, 1, 2]))
        #expect(span.attributes[key: "e"] == .empty)
        #expect(span.status == SpanStatus(code: .error, message: "bad"))
        #expect(decoded.traces.resourceSpans[0].resource.serviceName == "svc")
    }

    @Test func invalidIDsAreRejectedOneByOne() throws {
        let json = """
            {"resourceSpans":[{"scopeSpans":[{"spans":[
              {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"good"},
              {"traceId":"5b8efff798038103","spanId":"eee19b7ec3c1b174","name":"short"},
              {"traceId":"00000000000000000000000000000000","spanId":"eee19b7ec3c1b174","name":"zero"},
              {"traceId":"not hex at all","spanId":"eee19b7ec3c1b174","name":"nothex"}
            ]}]}]}
            """
        let decoded = try OTLPJSON.decodeTraces(Data(json.utf8))
        #expect(decoded.traces.spanCount == 1)
        #expect(decoded.rejections.map(\.spanName) == ["short", "zero", "nothex"])
        #expect(decoded.rejections[0].reason == "trace_id has 8 bytes, expected 16")
        #expect(decoded.rejections[1].reason == "trace_id is all zeros")
        #expect(decoded.rejections[2].reason.contains("not a hex id"))
        let wrongType = try OTLPJSON.decodeTraces(Data(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":5}]}]}]}"#.utf8))
        #expect(wrongType.rejections.map(\.reason) == ["trace_id must be a string"])
        #expect(decoded.rejections[0].location == "resource_spans[0].scope_spans[0].spans[1]")
    }

    @Test(arguments: [
        ("{bad json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (#"{"resourceSpans":{}}"#, "resourceSpans must be an array"),
        (#"{"resourceSpans":[{"scopeSpans":[{"spans":[5]}]}]}"#, "spans[0] must be a JSON object"),
        (#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","startTimeUnixNano":"soon"}]}]}]}"#, "startTimeUnixNano"),
        (#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"key":"k","value":{"boolValue":"yes"}}]}]}]}]}"#, "boolValue"),
    ])
    func malformedJSONNamesTheProblem(json: String, expected: String) {
        let error = #expect(throws: OTLPDecodeError.self) { try OTLPJSON.decodeTraces(Data(json.utf8)) }
        #expect(error?.kind == .malformed)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    static func nested(_ depth: Int) -> String {
        let open = String(repeating: #"{"arrayValue":{"values":["#, count: depth - 1)
        let close = String(repeating: "]}}", count: depth - 1)
        return #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"key":"d","value":"#
            + open + "{}" + close + "}]}]}]}]}"
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let decoded = try OTLPJSON.decodeTraces(Data(Self.nested(64).utf8))
        #expect(decoded.traces.resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.depth == 64)
    }

    @Test func deeperNestingIsRejected() throws {
        let error = #expect(throws: OTLPDecodeError.self) { try OTLPJSON.decodeTraces(Data(Self.nested(65).utf8)) }
        #expect(error?.kind == .tooDeep)
    }

    @Test func absurdNestingFailsWithoutCrashing() throws {
        let error = #expect(throws: OTLPDecodeError.self) { try OTLPJSON.decodeTraces(Data(Self.nested(200_000).utf8)) }
        #expect(error != nil)
        let brackets = String(repeating: "[", count: 1_000_000)
        #expect(throws: OTLPDecodeError.self) { try OTLPJSON.decodeTraces(Data(brackets.utf8)) }
    }

    @Test func responsesAndStatuses() {
        #expect(String(decoding: OTLPJSON.encodeResponse(), as: UTF8.self) == "{}")
        #expect(
            String(decoding: OTLPJSON.encodeResponse(rejectedSpans: 1, errorMessage: "a \"b\""), as: UTF8.self)
                == #"{"partialSuccess":{"rejectedSpans":"1","errorMessage":"a \"b\""}}"#)
        #expect(
            String(decoding: OTLPJSON.encodeStatus(code: 14, message: "busy", retryAfterSeconds: 2), as: UTF8.self)
                == #"{"code":14,"message":"busy","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}"#)
    }

    @Test func protobufAndJSONAgree() throws {
        let traces = SampleTraces.llmHeavy(count: 20)
        let viaProtobuf = try OTLPProtobuf.decodeTraces(OTLPProtobuf.encodeTraces(traces)).traces
        let viaJSON = try OTLPJSON.decodeTraces(OTLPJSON.encodeTraces(traces)).traces
        #expect(viaProtobuf == traces)
        #expect(viaJSON == traces)
    }
}
