import COTLP
public import SpindleModel

/// OTLP protobuf, decoded and encoded by the protobuf-c code generated from `Proto/`.
public enum OTLPProtobuf {}

extension OTLPProtobuf {
    /// Decodes an `ExportTraceServiceRequest` (or `TracesData`, which has the same layout).
    /// Spans with invalid ids are left out and listed in `rejections`.
    public static func decodeTraces(
        _ bytes: UnsafeRawBufferPointer, limits: DecodeLimits = .default
    ) throws(OTLPDecodeError) -> DecodedTraces {
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        switch spindle_check_trace_request(base, bytes.count, Int32(limits.maxAttributeDepth)) {
        case SPINDLE_WIRE_OK: break
        case SPINDLE_WIRE_TOO_DEEP:
            throw OTLPDecodeError(.tooDeep, "attribute values nest deeper than \(limits.maxAttributeDepth) levels")
        default:
            throw OTLPDecodeError(.malformed, "request is not a valid protobuf ExportTraceServiceRequest")
        }

        // Most requests fit in one arena block of about three times the wire size.
        guard let arena = spindle_arena_create(min(bytes.count * 3, 8 << 20)) else {
            throw OTLPDecodeError(.malformed, "out of memory while decoding")
        }
        defer { spindle_arena_destroy(arena) }
        var allocator = spindle_arena_allocator(arena)
        guard let request = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            &allocator, bytes.count, base)
        else {
            throw OTLPDecodeError(.malformed, "request is not a valid protobuf ExportTraceServiceRequest")
        }
        // No free_unpacked: the arena owns every allocation.
        var decoder = ProtobufTraceReader()
        let traces = decoder.read(request.pointee)
        return DecodedTraces(traces: traces, rejections: decoder.rejections)
    }

    public static func decodeTraces(_ bytes: [UInt8], limits: DecodeLimits = .default) throws(OTLPDecodeError)
        -> DecodedTraces
    {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(OTLPDecodeError) in try decodeTraces(buffer, limits: limits) }
        }
        return try result.get()
    }
}

typealias CExportRequest = Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
typealias CResourceSpans = Opentelemetry__Proto__Trace__V1__ResourceSpans
typealias CScopeSpans = Opentelemetry__Proto__Trace__V1__ScopeSpans
typealias CSpan = Opentelemetry__Proto__Trace__V1__Span
typealias CEvent = Opentelemetry__Proto__Trace__V1__Span__Event
typealias CLink = Opentelemetry__Proto__Trace__V1__Span__Link
typealias CKeyValue = Opentelemetry__Proto__Common__V1__KeyValue
typealias CAnyValue = Opentelemetry__Proto__Common__V1__AnyValue

/// Walks the protobuf-c structs of one request and builds the model.
struct ProtobufTraceReader {
    var rejections: [SpanRejection] = []

    mutating func read(_ request: CExportRequest) -> TracesData {
        var data = TracesData()
        data.resourceSpans.reserveCapacity(request.n_resource_spans)
        for resourceIndex in 0..<request.n_resource_spans {
            guard let resourceSpans = request.resource_spans[resourceIndex]?.pointee else { continue }
            var resource = Resource()
            if let cResource = resourceSpans.resource?.pointee {
                resource.attributes = attributes(cResource.attributes, cResource.n_attributes)
                resource.droppedAttributesCount = cResource.dropped_attributes_count
            }
            var scopes: [ScopeSpans] = []
            scopes.reserveCapacity(resourceSpans.n_scope_spans)
            for scopeIndex in 0..<resourceSpans.n_scope_spans {
                guard let scopeSpans = resourceSpans.scope_spans[scopeIndex]?.pointee else { continue }
                var scope = InstrumentationScope()
                if let cScope = scopeSpans.scope?.pointee {
                    scope.name = string(cScope.name)
                    scope.version = string(cScope.version)
                    scope.attributes = attributes(cScope.attributes, cScope.n_attributes)
                    scope.droppedAttributesCount = cScope.dropped_attributes_count
                }
                var spans: [Span] = []
                spans.reserveCapacity(scopeSpans.n_spans)
                for spanIndex in 0..<scopeSpans.n_spans {
                    guard let cSpan = scopeSpans.spans[spanIndex]?.pointee else { continue }
                    switch SpanIDRules.check(
                        traceID: raw(cSpan.trace_id), spanID: raw(cSpan.span_id), parentSpanID: raw(cSpan.parent_span_id))
                    {
                    case .valid(let traceID, let spanID, let parent):
                        spans.append(span(cSpan, traceID: traceID, spanID: spanID, parent: parent))
                    case .invalid(let reason):
                        rejections.append(
                            SpanRejection(
                                location: "resource_spans[\(resourceIndex)].scope_spans[\(scopeIndex)].spans[\(spanIndex)]",
                                spanName: string(cSpan.name), reason: reason))
                    }
                }
                // A scope whose spans were all rejected is dropped with them.
                if !spans.isEmpty || scopeSpans.n_spans == 0 {
                    scopes.append(ScopeSpans(scope: scope, spans: spans, schemaURL: string(scopeSpans.schema_url)))
                }
            }
            data.resourceSpans.append(
                ResourceSpans(resource: resource, scopeSpans: scopes, schemaURL: string(resourceSpans.schema_url)))
        }
        return data
    }

    private func span(_ c: CSpan, traceID: TraceID, spanID: SpanID, parent: SpanID?) -> Span {
        var events: [SpanEvent] = []
        events.reserveCapacity(c.n_events)
        for index in 0..<c.n_events {
            guard let event = c.events[index]?.pointee else { continue }
            events.append(
                SpanEvent(
                    timeUnixNano: event.time_unix_nano, name: string(event.name),
                    attributes: attributes(event.attributes, event.n_attributes),
                    droppedAttributesCount: event.dropped_attributes_count))
        }
        var links: [SpanLink] = []
        links.reserveCapacity(c.n_links)
        for index in 0..<c.n_links {
            guard let link = c.links[index]?.pointee else { continue }
            // A link to an invalid span context carries no information a receiver could follow; OTLP
            // senders do not produce them. Keep what can be kept: zero ids stand for "unknown".
            let linkTrace = TraceID(bytes: raw(link.trace_id)) ?? TraceID(high: 0, low: 0)
            let linkSpan = SpanID(bytes: raw(link.span_id)) ?? SpanID(0)
            links.append(
                SpanLink(
                    traceID: linkTrace, spanID: linkSpan, traceState: string(link.trace_state),
                    attributes: attributes(link.attributes, link.n_attributes),
                    droppedAttributesCount: link.dropped_attributes_count, flags: link.flags))
        }
        var status = SpanStatus()
        if let cStatus = c.status?.pointee {
            status = SpanStatus(code: StatusCode(rawValue: cStatus.code), message: string(cStatus.message))
        }
        return Span(
            traceID: traceID, spanID: spanID, traceState: string(c.trace_state), parentSpanID: parent, flags: c.flags,
            name: string(c.name), kind: SpanKind(rawValue: c.kind), startTimeUnixNano: c.start_time_unix_nano,
            endTimeUnixNano: c.end_time_unix_nano, attributes: attributes(c.attributes, c.n_attributes),
            droppedAttributesCount: c.dropped_attributes_count, events: events,
            droppedEventsCount: c.dropped_events_count, links: links, droppedLinksCount: c.dropped_links_count,
            status: status)
    }

    private func attributes(_ list: UnsafeMutablePointer<UnsafeMutablePointer<CKeyValue>?>?, _ count: Int) -> [Attribute] {
        guard let list, count > 0 else { return [] }
        var result: [Attribute] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            guard let keyValue = list[index]?.pointee else { continue }
            result.append(Attribute(key: string(keyValue.key), value: value(keyValue.value)))
        }
        return result
    }

    // Depth is bounded by spindle_check_trace_request before unpacking, so recursion here is safe.
    private func value(_ pointer: UnsafeMutablePointer<CAnyValue>?) -> AttributeValue {
        guard let any = pointer?.pointee else { return .empty }
        switch any.value_case.rawValue {
        case 1: return .string(string(any.string_value))
        case 2: return .bool(any.bool_value != 0)
        case 3: return .int(any.int_value)
        case 4: return .double(any.double_value)
        case 5:
            guard let array = any.array_value?.pointee else { return .array([]) }
            return .array((0..<array.n_values).map { value(array.values[$0]) })
        case 6:
            guard let list = any.kvlist_value?.pointee else { return .kvlist([]) }
            return .kvlist(attributes(list.values, list.n_values))
        case 7: return .bytes(bytes(any.bytes_value) ?? [])
        default: return .empty
        }
    }
}

/// protobuf-c `bytes` as a Swift String; invalid UTF-8 is repaired with U+FFFD (our one policy).
@inline(__always)
func string(_ data: ProtobufCBinaryData) -> String {
    guard data.len > 0, let pointer = data.data else { return "" }
    return String(decoding: UnsafeBufferPointer(start: pointer, count: data.len), as: UTF8.self)
}

@inline(__always)
func raw(_ data: ProtobufCBinaryData) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: data.data, count: data.len)
}

@inline(__always)
func bytes(_ data: ProtobufCBinaryData) -> [UInt8]? {
    guard data.len > 0, let pointer = data.data else { return nil }
    return Array(UnsafeBufferPointer(start: pointer, count: data.len))
}
