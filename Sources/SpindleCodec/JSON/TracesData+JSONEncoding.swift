import Foundation
public import SpindleModel

extension OTLPJSON {
    /// An `ExportTraceServiceRequest` in OTLP JSON: hex ids, integer enums, 64-bit integers as strings,
    /// fields at their default value left out. The same data always gives the same bytes.
    public static func encodeTraces(_ traces: TracesData) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.traces(traces)
        return writer.bytes
    }

    /// An `ExportTraceServiceResponse`: `{}` on full success.
    public static func encodeResponse(rejectedSpans: Int64 = 0, errorMessage: String? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        if rejectedSpans > 0 || errorMessage != nil {
            writer.raw("{\"partialSuccess\":{\"rejectedSpans\":")
            writer.quotedNumber(rejectedSpans)
            writer.raw(",\"errorMessage\":")
            writer.string(errorMessage ?? "")
            writer.raw("}}")
        } else {
            writer.raw("{}")
        }
        return writer.bytes
    }

    /// A `google.rpc.Status` in JSON; with `retryAfterSeconds`, a `RetryInfo` detail.
    public static func encodeStatus(code: Int32, message: String, retryAfterSeconds: Int? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.raw("{\"code\":")
        writer.number(code)
        writer.raw(",\"message\":")
        writer.string(message)
        if let retryAfterSeconds {
            writer.raw(",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"")
            writer.number(retryAfterSeconds)
            writer.raw("s\"}]")
        }
        writer.raw("}")
        return writer.bytes
    }

    /// Attributes as the OTLP JSON `KeyValue` array, or with `compact`, as the store keeps them: see
    /// `JSONWriter.compactAttributes`. `decodeAttributes` reads both.
    public static func encodeAttributes(_ attributes: [Attribute], compact: Bool = false) -> [UInt8] {
        var writer = JSONWriter(capacity: 48 * attributes.count + 2)
        writer.attributes(attributes, compact: compact)
        return writer.bytes
    }

    public static func encodeEvents(_ events: [SpanEvent], compact: Bool = false) -> [UInt8] {
        var writer = JSONWriter(capacity: 128 * events.count + 2)
        writer.list(events) { $0.event($1, compact: compact) }
        return writer.bytes
    }

    public static func encodeLinks(_ links: [SpanLink], compact: Bool = false) -> [UInt8] {
        var writer = JSONWriter(capacity: 128 * links.count + 2)
        writer.list(links) { $0.link($1, compact: compact) }
        return writer.bytes
    }
}

extension JSONWriter {
    mutating func list<T>(_ items: [T], _ write: (inout JSONWriter, T) -> Void) {
        raw("[")
        for index in items.indices {
            if index > 0 { raw(",") }
            write(&self, items[index])
        }
        raw("]")
    }

    mutating func traces(_ traces: TracesData) {
        raw("{\"resourceSpans\":")
        list(traces.resourceSpans) { writer, resourceSpans in
            writer.raw("{\"resource\":{\"attributes\":")
            writer.attributes(resourceSpans.resource.attributes)
            if resourceSpans.resource.droppedAttributesCount > 0 {
                writer.raw(",\"droppedAttributesCount\":")
                writer.number(resourceSpans.resource.droppedAttributesCount)
            }
            writer.raw("},\"scopeSpans\":")
            writer.list(resourceSpans.scopeSpans) { writer, scopeSpans in
                writer.raw("{\"scope\":{")
                writer.scopeFields(scopeSpans.scope)
                writer.raw("},\"spans\":")
                writer.list(scopeSpans.spans) { $0.span($1) }
                writer.optionalString(",\"schemaUrl\":", scopeSpans.schemaURL)
                writer.raw("}")
            }
            writer.optionalString(",\"schemaUrl\":", resourceSpans.schemaURL)
            writer.raw("}")
        }
        raw("}")
    }

    mutating func scopeFields(_ scope: InstrumentationScope) {
        raw("\"name\":")
        string(scope.name)
        optionalString(",\"version\":", scope.version)
        if !scope.attributes.isEmpty {
            raw(",\"attributes\":")
            attributes(scope.attributes)
        }
        if scope.droppedAttributesCount > 0 {
            raw(",\"droppedAttributesCount\":")
            number(scope.droppedAttributesCount)
        }
    }

    mutating func span(_ span: Span) {
        raw("{\"traceId\":\"")
        rawUTF8(span.traceID.hex)
        raw("\",\"spanId\":\"")
        rawUTF8(span.spanID.hex)
        raw("\"")
        optionalString(",\"traceState\":", span.traceState)
        if let parent = span.parentSpanID {
            raw(",\"parentSpanId\":\"")
            rawUTF8(parent.hex)
            raw("\"")
        }
        if span.flags != 0 {
            raw(",\"flags\":")
            number(span.flags)
        }
        raw(",\"name\":")
        string(span.name)
        raw(",\"kind\":")
        number(span.kind.rawValue)
        raw(",\"startTimeUnixNano\":")
        quotedNumber(span.startTimeUnixNano)
        raw(",\"endTimeUnixNano\":")
        quotedNumber(span.endTimeUnixNano)
        if !span.attributes.isEmpty {
            raw(",\"attributes\":")
            attributes(span.attributes)
        }
        count(",\"droppedAttributesCount\":", span.droppedAttributesCount)
        if !span.events.isEmpty {
            raw(",\"events\":")
            list(span.events) { $0.event($1) }
        }
        count(",\"droppedEventsCount\":", span.droppedEventsCount)
        if !span.links.isEmpty {
            raw(",\"links\":")
            list(span.links) { $0.link($1) }
        }
        count(",\"droppedLinksCount\":", span.droppedLinksCount)
        if span.status != SpanStatus() {
            raw(",\"status\":{")
            var first = true
            if !span.status.message.isEmpty {
                raw("\"message\":")
                string(span.status.message)
                first = false
            }
            if span.status.code != .unset {
                raw(first ? "\"code\":" : ",\"code\":")
                number(span.status.code.rawValue)
            }
            raw("}")
        }
        raw("}")
    }

    mutating func event(_ event: SpanEvent, compact: Bool = false) {
        raw("{\"timeUnixNano\":")
        quotedNumber(event.timeUnixNano)
        raw(",\"name\":")
        string(event.name)
        if !event.attributes.isEmpty {
            raw(",\"attributes\":")
            attributes(event.attributes, compact: compact)
        }
        count(",\"droppedAttributesCount\":", event.droppedAttributesCount)
        raw("}")
    }

    mutating func link(_ link: SpanLink, compact: Bool = false) {
        raw("{\"traceId\":\"")
        rawUTF8(link.traceID.hex)
        raw("\",\"spanId\":\"")
        rawUTF8(link.spanID.hex)
        raw("\"")
        optionalString(",\"traceState\":", link.traceState)
        if !link.attributes.isEmpty {
            raw(",\"attributes\":")
            attributes(link.attributes, compact: compact)
        }
        count(",\"droppedAttributesCount\":", link.droppedAttributesCount)
        if link.flags != 0 {
            raw(",\"flags\":")
            number(link.flags)
        }
        raw("}")
    }

    mutating func attributes(_ attributes: [Attribute], compact: Bool) {
        if compact { compactAttributes(attributes) } else { self.attributes(attributes) }
    }

    /// The store's form of an attribute list: a JSON object of plain values,
    /// `{"http.route":"/x","http.status_code":200,"ratio":0.5,"ok":true,"tags":["a","b"]}`, so that SQL's
    /// JSON functions read it directly and it is about half the size of the OTLP form. Nothing is lost:
    /// an integer is written without a fraction and a double always with one (or an exponent), and what
    /// plain JSON cannot say is written as the OTLP `AnyValue` object: `{"doubleValue":"NaN"}`,
    /// `{"bytesValue":"AAE="}`, `{"kvlistValue":{"values":{...}}}`, `{}` for an empty value. A list
    /// with a repeated key is written in the OTLP array form instead, which keeps every entry in order.
    mutating func compactAttributes(_ attributes: [Attribute]) {
        guard attributes.hasUniqueKeys else {
            self.attributes(attributes)
            return
        }
        raw("{")
        for index in attributes.indices {
            if index > 0 { raw(",") }
            key(attributes[index].key)
            compactValue(attributes[index].value)
        }
        raw("}")
    }

    mutating func compactValue(_ value: AttributeValue) {
        switch value {
        case .string(let text): string(text)
        case .bool(let flag): bool(flag)
        case .int(let int): number(int)
        case .double(let double) where double.isFinite:
            // Swift's shortest form of a finite double always has a '.' or an exponent ("3.0", "1e+16").
            number(double)
        case .array(let values):
            raw("[")
            for index in values.indices {
                if index > 0 { raw(",") }
                compactValue(values[index])
            }
            raw("]")
        case .kvlist(let attributes):
            raw("{\"kvlistValue\":{\"values\":")
            compactAttributes(attributes)
            raw("}}")
        case .double, .bytes, .empty:
            anyValue(value)
        }
    }

    mutating func attributes(_ attributes: [Attribute]) {
        raw("[")
        for index in attributes.indices {
            if index > 0 { raw(",") }
            raw("{\"key\":")
            string(attributes[index].key)
            raw(",\"value\":")
            anyValue(attributes[index].value)
            raw("}")
        }
        raw("]")
    }

    mutating func anyValue(_ value: AttributeValue) {
        switch value {
        case .string(let text):
            raw("{\"stringValue\":")
            string(text)
        case .bool(let flag):
            raw("{\"boolValue\":")
            bool(flag)
        case .int(let int):
            raw("{\"intValue\":")
            quotedNumber(int)
        case .double(let double):
            raw("{\"doubleValue\":")
            number(double)
        case .array(let values):
            raw("{\"arrayValue\":{\"values\":[")
            for index in values.indices {
                if index > 0 { raw(",") }
                anyValue(values[index])
            }
            raw("]}")
        case .kvlist(let attributes):
            raw("{\"kvlistValue\":{\"values\":")
            self.attributes(attributes)
            raw("}")
        case .bytes(let data):
            raw("{\"bytesValue\":")
            string(Data(data).base64EncodedString())
        case .empty:
            raw("{")
        }
        raw("}")
    }

    private mutating func optionalString(_ prefix: StaticString, _ value: String) {
        guard !value.isEmpty else { return }
        raw(prefix)
        string(value)
    }

    private mutating func count(_ prefix: StaticString, _ value: UInt32) {
        guard value > 0 else { return }
        raw(prefix)
        number(value)
    }

}
