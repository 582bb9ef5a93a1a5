import COTLP
public import SpindleModel

extension OTLPProtobuf {
    /// Encodes an `ExportTraceServiceRequest` that any OTLP receiver accepts.
    public static func encodeTraces(_ traces: TracesData) -> [UInt8] {
        let builder = CMessageBuilder()
        let request = builder.request(traces)
        return builder.pack(request, size: opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size) {
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack($0, $1)
        }
    }

    /// An `ExportTraceServiceResponse`: empty on full success, with `partial_success` when spans were rejected.
    public static func encodeResponse(rejectedSpans: Int64 = 0, errorMessage: String? = nil) -> [UInt8] {
        let builder = CMessageBuilder()
        let response = builder.alloc(Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse.self)
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__init(response)
        if rejectedSpans > 0 || errorMessage != nil {
            let partial = builder.alloc(Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess.self)
            opentelemetry__proto__collector__trace__v1__export_trace_partial_success__init(partial)
            partial.pointee.rejected_spans = rejectedSpans
            partial.pointee.error_message = builder.binary(errorMessage ?? "")
            response.pointee.partial_success = partial
        }
        return builder.pack(response, size: opentelemetry__proto__collector__trace__v1__export_trace_service_response__get_packed_size) {
            opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack($0, $1)
        }
    }

    /// A `google.rpc.Status` error body; with `retryAfterSeconds`, a `google.rpc.RetryInfo` detail.
    public static func encodeStatus(code: Int32, message: String, retryAfterSeconds: Int? = nil) -> [UInt8] {
        let builder = CMessageBuilder()
        let status = builder.alloc(Google__Rpc__Status.self)
        google__rpc__status__init(status)
        status.pointee.code = code
        status.pointee.message = builder.binary(message)
        if let retryAfterSeconds {
            let retry = builder.alloc(Google__Rpc__RetryInfo.self)
            google__rpc__retry_info__init(retry)
            let delay = builder.alloc(Google__Rpc__Duration.self)
            google__rpc__duration__init(delay)
            delay.pointee.seconds = Int64(retryAfterSeconds)
            retry.pointee.retry_delay = delay
            let retryBytes = builder.pack(retry, size: google__rpc__retry_info__get_packed_size) {
                google__rpc__retry_info__pack($0, $1)
            }
            let any = builder.alloc(Google__Rpc__Any.self)
            google__rpc__any__init(any)
            any.pointee.type_url = builder.binary("type.googleapis.com/google.rpc.RetryInfo")
            any.pointee.value = builder.binary(retryBytes)
            let details = builder.alloc(UnsafeMutablePointer<Google__Rpc__Any>?.self, count: 1)
            details[0] = any
            status.pointee.n_details = 1
            status.pointee.details = details
        }
        return builder.pack(status, size: google__rpc__status__get_packed_size) { google__rpc__status__pack($0, $1) }
    }

    /// Reads a `google.rpc.Status` body (for clients and tests).
    public static func decodeStatus(_ bytes: [UInt8]) -> (code: Int32, message: String)? {
        bytes.withUnsafeBufferPointer { buffer in
            guard let status = google__rpc__status__unpack(nil, buffer.count, buffer.baseAddress) else { return nil }
            defer { google__rpc__status__free_unpacked(status, nil) }
            return (status.pointee.code, string(status.pointee.message))
        }
    }

    /// Reads an `ExportTraceServiceResponse` (for clients and tests).
    public static func decodeResponse(_ bytes: [UInt8]) -> (rejectedSpans: Int64, errorMessage: String)? {
        bytes.withUnsafeBufferPointer { buffer in
            guard
                let response = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
                    nil, buffer.count, buffer.baseAddress)
            else { return nil }
            defer { opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(response, nil) }
            guard let partial = response.pointee.partial_success?.pointee else { return (0, "") }
            return (partial.rejected_spans, string(partial.error_message))
        }
    }
}

/// Builds protobuf-c structs from the model in one arena, packs them, and frees everything at once.
final class CMessageBuilder {
    private let arena: OpaquePointer
    private var allocator: ProtobufCAllocator

    init() {
        arena = spindle_arena_create(64 << 10)
        allocator = spindle_arena_allocator(arena)
    }

    deinit { spindle_arena_destroy(arena) }

    func alloc<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        let raw = allocator.alloc(allocator.allocator_data, MemoryLayout<T>.stride * max(count, 1))!
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    func binary(_ value: String) -> ProtobufCBinaryData {
        var value = value
        return value.withUTF8 { binary(UnsafeRawBufferPointer($0)) }
    }

    func binary(_ value: [UInt8]) -> ProtobufCBinaryData {
        value.withUnsafeBytes { binary($0) }
    }

    private func binary(_ buffer: UnsafeRawBufferPointer) -> ProtobufCBinaryData {
        guard buffer.count > 0 else { return ProtobufCBinaryData(len: 0, data: nil) }
        let copy = alloc(UInt8.self, count: buffer.count)
        copy.update(from: buffer.bindMemory(to: UInt8.self).baseAddress!, count: buffer.count)
        return ProtobufCBinaryData(len: buffer.count, data: copy)
    }

    func pack<T>(
        _ message: UnsafeMutablePointer<T>, size: (UnsafePointer<T>) -> Int,
        pack: (UnsafePointer<T>, UnsafeMutablePointer<UInt8>) -> Int
    ) -> [UInt8] {
        let length = size(message)
        return [UInt8](unsafeUninitializedCapacity: max(length, 1)) { buffer, count in
            count = length == 0 ? 0 : pack(message, buffer.baseAddress!)
        }
    }

    private func list<Value, Element>(
        _ values: [Value], _ make: (Int) -> UnsafeMutablePointer<Element>
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<Element>?>? {
        guard !values.isEmpty else { return nil }
        let pointers = alloc(UnsafeMutablePointer<Element>?.self, count: values.count)
        for index in values.indices { pointers[index] = make(index) }
        return pointers
    }

    func request(_ traces: TracesData) -> UnsafeMutablePointer<CExportRequest> {
        let request = alloc(CExportRequest.self)
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(request)
        request.pointee.n_resource_spans = traces.resourceSpans.count
        request.pointee.resource_spans = list(traces.resourceSpans) { resourceSpans(traces.resourceSpans[$0]) }
        return request
    }

    private func resourceSpans(_ value: ResourceSpans) -> UnsafeMutablePointer<CResourceSpans> {
        let message = alloc(CResourceSpans.self)
        opentelemetry__proto__trace__v1__resource_spans__init(message)
        let resource = alloc(Opentelemetry__Proto__Resource__V1__Resource.self)
        opentelemetry__proto__resource__v1__resource__init(resource)
        (resource.pointee.n_attributes, resource.pointee.attributes) = attributes(value.resource.attributes)
        resource.pointee.dropped_attributes_count = value.resource.droppedAttributesCount
        message.pointee.resource = resource
        message.pointee.n_scope_spans = value.scopeSpans.count
        message.pointee.scope_spans = list(value.scopeSpans) { scopeSpans(value.scopeSpans[$0]) }
        message.pointee.schema_url = binary(value.schemaURL)
        return message
    }

    private func scopeSpans(_ value: ScopeSpans) -> UnsafeMutablePointer<CScopeSpans> {
        let message = alloc(CScopeSpans.self)
        opentelemetry__proto__trace__v1__scope_spans__init(message)
        let scope = alloc(Opentelemetry__Proto__Common__V1__InstrumentationScope.self)
        opentelemetry__proto__common__v1__instrumentation_scope__init(scope)
        scope.pointee.name = binary(value.scope.name)
        scope.pointee.version = binary(value.scope.version)
        (scope.pointee.n_attributes, scope.pointee.attributes) = attributes(value.scope.attributes)
        scope.pointee.dropped_attributes_count = value.scope.droppedAttributesCount
        message.pointee.scope = scope
        message.pointee.n_spans = value.spans.count
        message.pointee.spans = list(value.spans) { span(value.spans[$0]) }
        message.pointee.schema_url = binary(value.schemaURL)
        return message
    }

    private func span(_ value: Span) -> UnsafeMutablePointer<CSpan> {
        let message = alloc(CSpan.self)
        opentelemetry__proto__trace__v1__span__init(message)
        message.pointee.trace_id = binary(value.traceID.bytes)
        message.pointee.span_id = binary(value.spanID.bytes)
        message.pointee.trace_state = binary(value.traceState)
        if let parent = value.parentSpanID { message.pointee.parent_span_id = binary(parent.bytes) }
        message.pointee.flags = value.flags
        message.pointee.name = binary(value.name)
        message.pointee.kind = value.kind.rawValue
        message.pointee.start_time_unix_nano = value.startTimeUnixNano
        message.pointee.end_time_unix_nano = value.endTimeUnixNano
        (message.pointee.n_attributes, message.pointee.attributes) = attributes(value.attributes)
        message.pointee.dropped_attributes_count = value.droppedAttributesCount
        message.pointee.n_events = value.events.count
        message.pointee.events = list(value.events) { index in
            let event = alloc(CEvent.self)
            opentelemetry__proto__trace__v1__span__event__init(event)
            let source = value.events[index]
            event.pointee.time_unix_nano = source.timeUnixNano
            event.pointee.name = binary(source.name)
            (event.pointee.n_attributes, event.pointee.attributes) = attributes(source.attributes)
            event.pointee.dropped_attributes_count = source.droppedAttributesCount
            return event
        }
        message.pointee.dropped_events_count = value.droppedEventsCount
        message.pointee.n_links = value.links.count
        message.pointee.links = list(value.links) { index in
            let link = alloc(CLink.self)
            opentelemetry__proto__trace__v1__span__link__init(link)
            let source = value.links[index]
            link.pointee.trace_id = binary(source.traceID.bytes)
            link.pointee.span_id = binary(source.spanID.bytes)
            link.pointee.trace_state = binary(source.traceState)
            (link.pointee.n_attributes, link.pointee.attributes) = attributes(source.attributes)
            link.pointee.dropped_attributes_count = source.droppedAttributesCount
            link.pointee.flags = source.flags
            return link
        }
        message.pointee.dropped_links_count = value.droppedLinksCount
        if value.status != SpanStatus() {
            let status = alloc(Opentelemetry__Proto__Trace__V1__Status.self)
            opentelemetry__proto__trace__v1__status__init(status)
            status.pointee.code = value.status.code.rawValue
            status.pointee.message = binary(value.status.message)
            message.pointee.status = status
        }
        return message
    }

    private func attributes(_ values: [Attribute]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CKeyValue>?>?) {
        (values.count, list(values) { keyValue(values[$0]) })
    }

    private func keyValue(_ attribute: Attribute) -> UnsafeMutablePointer<CKeyValue> {
        let message = alloc(CKeyValue.self)
        opentelemetry__proto__common__v1__key_value__init(message)
        message.pointee.key = binary(attribute.key)
        message.pointee.value = anyValue(attribute.value)
        return message
    }

    private func anyValue(_ value: AttributeValue) -> UnsafeMutablePointer<CAnyValue> {
        let message = alloc(CAnyValue.self)
        opentelemetry__proto__common__v1__any_value__init(message)
        func setCase(_ raw: UInt32) {
            message.pointee.value_case = Opentelemetry__Proto__Common__V1__AnyValue__ValueCase(rawValue: raw)
        }
        switch value {
        case .string(let string):
            setCase(1)
            message.pointee.string_value = binary(string)
        case .bool(let bool):
            setCase(2)
            message.pointee.bool_value = bool ? 1 : 0
        case .int(let int):
            setCase(3)
            message.pointee.int_value = int
        case .double(let double):
            setCase(4)
            message.pointee.double_value = double
        case .array(let values):
            setCase(5)
            let array = alloc(Opentelemetry__Proto__Common__V1__ArrayValue.self)
            opentelemetry__proto__common__v1__array_value__init(array)
            array.pointee.n_values = values.count
            array.pointee.values = list(values) { anyValue(values[$0]) }
            message.pointee.array_value = array
        case .kvlist(let attributes):
            setCase(6)
            let kvlist = alloc(Opentelemetry__Proto__Common__V1__KeyValueList.self)
            opentelemetry__proto__common__v1__key_value_list__init(kvlist)
            (kvlist.pointee.n_values, kvlist.pointee.values) = self.attributes(attributes)
            message.pointee.kvlist_value = kvlist
        case .bytes(let bytes):
            setCase(7)
            message.pointee.bytes_value = binary(bytes)
        case .empty:
            setCase(0)
        }
        return message
    }
}
