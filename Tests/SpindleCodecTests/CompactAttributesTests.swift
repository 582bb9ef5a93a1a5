import Testing
import SpindleCodec
import SpindleModel
import SpindleTesting

@Suite struct CompactAttributesTests {
    func compact(_ attributes: [Attribute]) -> String {
        String(decoding: OTLPJSON.encodeAttributes(attributes, compact: true), as: UTF8.self)
    }

    @Test func plainValuesArePlainJSON() {
        let text = compact([
            Attribute("http.route", .string("/x")), Attribute("code", .int(200)), Attribute("ratio", .double(0.5)),
            Attribute("whole", .double(3)), Attribute("ok", .bool(true)), Attribute("tags", .array([.string("a"), .int(1)])),
        ])
        #expect(text == #"{"http.route":"/x","code":200,"ratio":0.5,"whole":3.0,"ok":true,"tags":["a",1]}"#)
    }

    @Test func whatJSONCannotSayIsTagged() {
        let text = compact([
            Attribute("nan", .double(.nan)), Attribute("bytes", .bytes([0, 1])), Attribute("none", .empty),
            Attribute("map", .kvlist([Attribute("inner", .int(1))])),
        ])
        #expect(
            text
                == #"{"nan":{"doubleValue":"NaN"},"bytes":{"bytesValue":"AAE="},"none":{},"map":{"kvlistValue":{"values":{"inner":1}}}}"#
        )
    }

    @Test func repeatedKeysFallBackToTheOTLPForm() throws {
        let attributes = [Attribute("k", .int(1)), Attribute("k", .int(2))]
        #expect(compact(attributes).hasPrefix(#"[{"key":"k","value":{"intValue":"1"}}"#))
        #expect(try OTLPJSON.decodeAttributes(OTLPJSON.encodeAttributes(attributes, compact: true)) == attributes)
    }

    @Test func everySampleAttributeRoundTrips() throws {
        for (_, _, span) in SampleTraces.everyField().flattened {
            let stored = OTLPJSON.encodeAttributes(span.attributes, compact: true)
            #expect(try OTLPJSON.decodeAttributes(stored) == span.attributes)
            let events = OTLPJSON.encodeEvents(span.events, compact: true)
            #expect(try OTLPJSON.decodeEvents(events) == span.events)
            let links = OTLPJSON.encodeLinks(span.links, compact: true)
            #expect(try OTLPJSON.decodeLinks(links) == span.links)
        }
    }

    @Test func compactIsSmallerForTypicalSpans() {
        let span = SampleTraces.small(count: 1).resourceSpans[0].scopeSpans[0].spans[0]
        let otlp = OTLPJSON.encodeAttributes(span.attributes).count
        let compact = OTLPJSON.encodeAttributes(span.attributes, compact: true).count
        #expect(Double(compact) < 0.7 * Double(otlp))
    }
}
