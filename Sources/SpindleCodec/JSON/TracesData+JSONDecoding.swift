import Foundation
public import SpindleModel

typealias JSONObject = [(key: String, value: JSONValue)]

/// OTLP JSON (the protobuf JSON mapping with OTLP's exceptions: hex ids, integer enums).
public enum OTLPJSON {}

extension OTLPJSON {
    /// Decodes an `ExportTraceServiceRequest` in OTLP JSON. Accepts lowerCamelCase and snake_case keys,
    /// enum names as well as numbers, 64-bit integers as strings or numbers; ignores unknown fields.
    public static func decodeTraces(_ bytes: some Collection<UInt8>, limits: DecodeLimits = .default) throws(OTLPDecodeError)
        -> DecodedTraces
    {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw OTLPDecodeError(.malformed, "request body is not valid JSON: \(error)")
        }
        var reader = JSONTraceReader(limits: limits)
        let traces = try reader.read(document)
        return DecodedTraces(traces: traces, rejections: reader.rejections)
    }

    /// Reads an attribute list stored by `appendAttributes` (the OTLP JSON `KeyValue` array).
    public static func decodeAttributes(_ bytes: some Collection<UInt8>) throws(OTLPDecodeError) -> [Attribute] {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch { throw OTLPDecodeError(.malformed, error.description) }
        return try JSONTraceReader(limits: DecodeLimits(maxAttributeDepth: 256)).attributes(document, at: "attributes")
    }

    public static func decodeEvents(_ bytes: some Collection<UInt8>) throws(OTLPDecodeError) -> [SpanEvent] {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch { throw OTLPDecodeError(.malformed, error.description) }
        let reader = JSONTraceReader(limits: DecodeLimits(maxAttributeDepth: 256))
        return try (document.arrayValue ?? []).enumerated().map { index, event throws(OTLPDecodeError) in
            try reader.event(event, at: "events[\(index)]")
        }
    }

    public static func decodeLinks(_ bytes: some Collection<UInt8>) throws(OTLPDecodeError) -> [SpanLink] {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch { throw OTLPDecodeError(.malformed, error.description) }
        let reader = JSONTraceReader(limits: DecodeLimits(maxAttributeDepth: 256))
        return try (document.arrayValue ?? []).enumerated().map { index, link throws(OTLPDecodeError) in
            try reader.link(link, at: "links[\(index)]")
        }
    }
}

/// Maps a parsed OTLP JSON document onto the model; errors name the offending path.
struct JSONTraceReader {
    let limits: DecodeLimits
    var rejections: [SpanRejection] = []

    init(limits: DecodeLimits) { self.limits = limits }

    mutating func read(_ document: JSONValue) throws(OTLPDecodeError) -> TracesData {
        guard let root = document.objectValue else {
            throw OTLPDecodeError(.malformed, "request body must be a JSON object with resourceSpans")
        }
        var data = TracesData()
        for (resourceIndex, item) in try array(root, "resourceSpans", "resource_spans", at: "").enumerated() {
            let path = "resourceSpans[\(resourceIndex)]"
            let object = try self.object(item, at: path)
            var resource = Resource()
            if let resourceValue = field(object, "resource") {
                let resourceObject = try self.object(resourceValue, at: path + ".resource")
                resource.attributes = try attributes(field(resourceObject, "attributes"), at: path + ".resource.attributes")
                resource.droppedAttributesCount = try uint32(
                    field(resourceObject, "droppedAttributesCount", "dropped_attributes_count"), at: path)
            }
            var scopes: [ScopeSpans] = []
            for (scopeIndex, scopeItem) in try array(object, "scopeSpans", "scope_spans", at: path).enumerated() {
                let scopePath = path + ".scopeSpans[\(scopeIndex)]"
                let scopeObject = try self.object(scopeItem, at: scopePath)
                var scope = InstrumentationScope()
                if let scopeValue = field(scopeObject, "scope") {
                    let inner = try self.object(scopeValue, at: scopePath + ".scope")
                    scope.name = try string(field(inner, "name"), at: scopePath + ".scope.name")
                    scope.version = try string(field(inner, "version"), at: scopePath + ".scope.version")
                    scope.attributes = try attributes(field(inner, "attributes"), at: scopePath + ".scope.attributes")
                    scope.droppedAttributesCount = try uint32(
                        field(inner, "droppedAttributesCount", "dropped_attributes_count"), at: scopePath + ".scope")
                }
                let spanItems = try array(scopeObject, "spans", at: scopePath)
                var spans: [Span] = []
                spans.reserveCapacity(spanItems.count)
                for (spanIndex, spanItem) in spanItems.enumerated() {
                    let spanPath = scopePath + ".spans[\(spanIndex)]"
                    if let span = try span(spanItem, at: spanPath) { spans.append(span) }
                }
                if !spans.isEmpty || spanItems.isEmpty {
                    scopes.append(
                        ScopeSpans(
                            scope: scope, spans: spans,
                            schemaURL: try string(field(scopeObject, "schemaUrl", "schema_url"), at: scopePath)))
                }
            }
            data.resourceSpans.append(
                ResourceSpans(
                    resource: resource, scopeSpans: scopes,
                    schemaURL: try string(field(object, "schemaUrl", "schema_url"), at: path)))
        }
        return data
    }

    private mutating func span(_ value: JSONValue, at path: String) throws(OTLPDecodeError) -> Span? {
        let object = try self.object(value, at: path)
        let name = try string(field(object, "name"), at: path + ".name")
        // An unreadable id rejects this span only, like a wrong-length one.
        let ids: SpanIDRules.Outcome
        do {
            ids = SpanIDRules.check(
                traceID: try id(field(object, "traceId", "trace_id"), at: "trace_id"),
                spanID: try id(field(object, "spanId", "span_id"), at: "span_id"),
                parentSpanID: try id(field(object, "parentSpanId", "parent_span_id"), at: "parent_span_id"))
        } catch {
            ids = .invalid(reason: error.message)
        }
        guard case .valid(let traceID, let spanID, let parent) = ids else {
            if case .invalid(let reason) = ids {
                rejections.append(
                    SpanRejection(location: snakeCasePath(path), spanName: name, reason: reason))
            }
            return nil
        }
        var status = SpanStatus()
        if let statusValue = field(object, "status") {
            let statusObject = try self.object(statusValue, at: path + ".status")
            status.message = try string(field(statusObject, "message"), at: path + ".status.message")
            status.code = StatusCode(
                rawValue: try enumValue(field(statusObject, "code"), at: path + ".status.code", names: StatusCode.init(name:)))
        }
        let events = try array(object, "events", at: path).enumerated().map { index, item throws(OTLPDecodeError) in
            try event(item, at: path + ".events[\(index)]")
        }
        let links = try array(object, "links", at: path).enumerated().map { index, item throws(OTLPDecodeError) in
            try link(item, at: path + ".links[\(index)]")
        }
        return Span(
            traceID: traceID, spanID: spanID,
            traceState: try string(field(object, "traceState", "trace_state"), at: path + ".traceState"),
            parentSpanID: parent, flags: try uint32(field(object, "flags"), at: path + ".flags"), name: name,
            kind: SpanKind(rawValue: try enumValue(field(object, "kind"), at: path + ".kind", names: SpanKind.init(name:))),
            startTimeUnixNano: try uint64(field(object, "startTimeUnixNano", "start_time_unix_nano"), at: path + ".startTimeUnixNano"),
            endTimeUnixNano: try uint64(field(object, "endTimeUnixNano", "end_time_unix_nano"), at: path + ".endTimeUnixNano"),
            attributes: try attributes(field(object, "attributes"), at: path + ".attributes"),
            droppedAttributesCount: try uint32(field(object, "droppedAttributesCount", "dropped_attributes_count"), at: path + ".droppedAttributesCount"),
            events: events,
            droppedEventsCount: try uint32(field(object, "droppedEventsCount", "dropped_events_count"), at: path + ".droppedEventsCount"),
            links: links,
            droppedLinksCount: try uint32(field(object, "droppedLinksCount", "dropped_links_count"), at: path + ".droppedLinksCount"),
            status: status)
    }

    func event(_ value: JSONValue, at path: String) throws(OTLPDecodeError) -> SpanEvent {
        let object = try self.object(value, at: path)
        return SpanEvent(
            timeUnixNano: try uint64(field(object, "timeUnixNano", "time_unix_nano"), at: path + ".timeUnixNano"),
            name: try string(field(object, "name"), at: path + ".name"),
            attributes: try attributes(field(object, "attributes"), at: path + ".attributes"),
            droppedAttributesCount: try uint32(field(object, "droppedAttributesCount", "dropped_attributes_count"), at: path + ".droppedAttributesCount"))
    }

    func link(_ value: JSONValue, at path: String) throws(OTLPDecodeError) -> SpanLink {
        let object = try self.object(value, at: path)
        let traceBytes = try id(field(object, "traceId", "trace_id"), at: path + ".traceId") ?? []
        let spanBytes = try id(field(object, "spanId", "span_id"), at: path + ".spanId") ?? []
        return SpanLink(
            traceID: TraceID(bytes: traceBytes) ?? TraceID(high: 0, low: 0), spanID: SpanID(bytes: spanBytes) ?? SpanID(0),
            traceState: try string(field(object, "traceState", "trace_state"), at: path + ".traceState"),
            attributes: try attributes(field(object, "attributes"), at: path + ".attributes"),
            droppedAttributesCount: try uint32(field(object, "droppedAttributesCount", "dropped_attributes_count"), at: path + ".droppedAttributesCount"),
            flags: try uint32(field(object, "flags"), at: path + ".flags"))
    }

    // MARK: attributes

    /// An attribute list in either form: the OTLP `KeyValue` array, or the compact object that the store
    /// writes (see `JSONWriter.compactAttributes`).
    func attributes(_ value: JSONValue?, at path: String, depth: Int = 0) throws(OTLPDecodeError) -> [Attribute] {
        switch value {
        case nil, .null?:
            return []
        case .array(let items)?:
            var result: [Attribute] = []
            result.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                let object = try self.object(item, at: "\(path)[\(index)]")
                let key = try string(field(object, "key"), at: "\(path)[\(index)].key")
                result.append(
                    Attribute(key: key, value: try anyValue(field(object, "value"), at: "\(path)[\(index)].value", depth: depth + 1)))
            }
            return result
        case .object(let members)?:
            var result: [Attribute] = []
            result.reserveCapacity(members.count)
            for member in members {
                result.append(Attribute(key: member.key, value: try anyValue(member.value, at: "\(path).\(member.key)", depth: depth + 1)))
            }
            return result
        default:
            throw OTLPDecodeError(.malformed, "\(path) must be an array")
        }
    }

    /// An OTLP `AnyValue` object (`{"stringValue": ...}` and friends); a bare JSON scalar or array is taken
    /// as the value it obviously is (the compact form).
    private func anyValue(_ value: JSONValue?, at path: String, depth: Int) throws(OTLPDecodeError) -> AttributeValue {
        guard depth <= limits.maxAttributeDepth else {
            throw OTLPDecodeError(.tooDeep, "attribute values nest deeper than \(limits.maxAttributeDepth) levels at \(path)")
        }
        switch value {
        case nil, .null?: return .empty
        case .string(let text)?: return .string(text)
        case .bool(let flag)?: return .bool(flag)
        case .int(let int)?: return .int(int)
        case .uint?: throw OTLPDecodeError(.malformed, "\(path) does not fit in a 64-bit integer")
        case .double(let double)?: return .double(double)
        case .array(let items)?: return .array(try values(items, at: path, depth: depth))
        case .object(let object)?:
            if let string = field(object, "stringValue", "string_value") {
                return .string(try self.string(string, at: path + ".stringValue"))
            }
            if let bool = field(object, "boolValue", "bool_value") {
                guard case .bool(let flag) = bool else { throw OTLPDecodeError(.malformed, "\(path).boolValue must be true or false") }
                return .bool(flag)
            }
            if let int = field(object, "intValue", "int_value") { return .int(try int64(int, at: path + ".intValue")) }
            if let double = field(object, "doubleValue", "double_value") {
                return .double(try self.double(double, at: path + ".doubleValue"))
            }
            if let array = field(object, "arrayValue", "array_value") {
                let inner = try self.object(array, at: path + ".arrayValue")
                guard let values = field(inner, "values"), values != .null else { return .array([]) }
                guard case .array(let items) = values else {
                    throw OTLPDecodeError(.malformed, "\(path).arrayValue.values must be an array")
                }
                return .array(try self.values(items, at: path + ".arrayValue.values", depth: depth))
            }
            if let kvlist = field(object, "kvlistValue", "kvlist_value") {
                let inner = try self.object(kvlist, at: path + ".kvlistValue")
                return .kvlist(try attributes(field(inner, "values"), at: path + ".kvlistValue.values", depth: depth))
            }
            if let bytes = field(object, "bytesValue", "bytes_value") {
                let text = try string(bytes, at: path + ".bytesValue")
                guard let data = Data(base64Encoded: text) ?? Data(base64Encoded: base64URLToStandard(text)) else {
                    throw OTLPDecodeError(.malformed, "\(path).bytesValue is not valid base64")
                }
                return .bytes([UInt8](data))
            }
            return .empty
        }
    }

    private func values(_ items: [JSONValue], at path: String, depth: Int) throws(OTLPDecodeError) -> [AttributeValue] {
        var result: [AttributeValue] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            result.append(try anyValue(item, at: "\(path)[\(index)]", depth: depth + 1))
        }
        return result
    }

    // MARK: scalars

    private func field(_ object: JSONObject, _ camel: String, _ snake: String? = nil) -> JSONValue? {
        for member in object where member.key == camel || member.key == snake { return member.value }
        return nil
    }

    private func object(_ value: JSONValue, at path: String) throws(OTLPDecodeError) -> JSONObject {
        guard case .object(let object) = value else {
            throw OTLPDecodeError(.malformed, "\(path.isEmpty ? "value" : path) must be a JSON object")
        }
        return object
    }

    private func array(_ object: JSONObject, _ camel: String, _ snake: String? = nil, at path: String)
        throws(OTLPDecodeError) -> [JSONValue]
    {
        guard let value = field(object, camel, snake), value != .null else { return [] }
        guard case .array(let items) = value else {
            throw OTLPDecodeError(.malformed, "\(path.isEmpty ? "" : path + ".")\(camel) must be an array")
        }
        return items
    }

    private func string(_ value: JSONValue?, at path: String) throws(OTLPDecodeError) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let string)?: return string
        default: throw OTLPDecodeError(.malformed, "\(path) must be a string")
        }
    }

    /// Hex (OTLP's rule), tolerating base64 from senders that use the generic protobuf JSON mapping.
    /// nil when absent or empty.
    private func id(_ value: JSONValue?, at path: String) throws(OTLPDecodeError) -> [UInt8]? {
        let text = try string(value, at: path)
        if text.isEmpty { return nil }
        if let bytes = hexBytes(text) { return bytes }
        if text.count % 4 == 0, text.hasSuffix("="), let data = Data(base64Encoded: text) { return [UInt8](data) }
        throw OTLPDecodeError(.malformed, "\(path) is not a hex id: \"\(text.prefix(80))\"")
    }

    private func uint64(_ value: JSONValue?, at path: String) throws(OTLPDecodeError) -> UInt64 {
        switch value {
        case nil, .null?: return 0
        case .int(let int)? where int >= 0: return UInt64(int)
        case .uint(let uint)?: return uint
        case .double(let double)? where double >= 0 && double < 1.8446744073709552e19 && double.rounded() == double:
            return UInt64(double)
        case .string(let text)?:
            if let parsed = UInt64(text) { return parsed }
        default: break
        }
        throw OTLPDecodeError(.malformed, "\(path) must be an unsigned 64-bit integer (number or decimal string)")
    }

    private func uint32(_ value: JSONValue?, at path: String) throws(OTLPDecodeError) -> UInt32 {
        let wide = try uint64(value, at: path)
        guard let narrow = UInt32(exactly: wide) else { throw OTLPDecodeError(.malformed, "\(path) does not fit in 32 bits") }
        return narrow
    }

    private func int64(_ value: JSONValue?, at path: String) throws(OTLPDecodeError) -> Int64 {
        switch value {
        case nil, .null?: return 0
        case .int(let int)?: return int
        case .uint(let uint)? where uint <= UInt64(Int64.max): return Int64(uint)
        case .double(let double)? where double.rounded() == double && abs(double) < 9.2e18: return Int64(double)
        case .string(let text)?:
            if let parsed = Int64(text) { return parsed }
        default: break
        }
        throw OTLPDecodeError(.malformed, "\(path) must be a 64-bit integer (number or decimal string)")
    }

    private func double(_ value: JSONValue?, at path: String) throws(OTLPDecodeError) -> Double {
        switch value {
        case nil, .null?: return 0
        case .int(let int)?: return Double(int)
        case .uint(let uint)?: return Double(uint)
        case .double(let double)?: return double
        case .string(let text)?:
            switch text {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default: if let parsed = Double(text) { return parsed }
            }
        default: break
        }
        throw OTLPDecodeError(.malformed, "\(path) must be a number")
    }

    private func enumValue(_ value: JSONValue?, at path: String, names: (String) -> (some RawRepresentable<Int32>)?)
        throws(OTLPDecodeError) -> Int32
    {
        switch value {
        case nil, .null?: return 0
        case .int(let int)?:
            if let narrow = Int32(exactly: int) { return narrow }
        case .string(let text)?:
            if let named = names(text) { return named.rawValue }
            if let number = Int32(text) { return number }
        default: break
        }
        throw OTLPDecodeError(.malformed, "\(path) must be an enum number or name")
    }

    private func snakeCasePath(_ path: String) -> String {
        path.replacingOccurrences(of: "resourceSpans", with: "resource_spans")
            .replacingOccurrences(of: "scopeSpans", with: "scope_spans")
    }
}

func hexBytes(_ text: String) -> [UInt8]? {
    let utf8 = Array(text.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    var result = [UInt8]()
    result.reserveCapacity(utf8.count / 2)
    var index = 0
    while index < utf8.count {
        guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
        result.append(high << 4 | low)
        index += 2
    }
    return result
}

func base64URLToStandard(_ text: String) -> String {
    var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while standard.count % 4 != 0 { standard += "=" }
    return standard
}
