public import SpindleModel

/// What a receiver gets out of one OTLP request: the spans it can store, and the ones it must reject.
public struct DecodedTraces: Sendable {
    public var traces: TracesData
    public var rejections: [SpanRejection]
    /// The request's protobuf bytes, compressed, when the receiver keeps them to forward as received.
    public private(set) var asReceived: DeflatedPart?

    /// Keeps the request's protobuf bytes (compressed) to forward as received, unless a span was rejected:
    /// then the stored rows say less than the request, and forwarding reads them from the store.
    public mutating func keep(asReceived protobuf: UnsafeRawBufferPointer) {
        guard rejections.isEmpty else { return }
        asReceived = DeflatedPart(compressing: protobuf)
    }

    public init(traces: TracesData, rejections: [SpanRejection] = []) {
        self.traces = traces
        self.rejections = rejections
    }

    /// The `error_message` of an OTLP partial success: how many, which and why (the first few in full).
    public var partialSuccessMessage: String? {
        guard !rejections.isEmpty else { return nil }
        let shown = rejections.prefix(10).map(\.description).joined(separator: "; ")
        let more = rejections.count > 10 ? "; and \(rejections.count - 10) more" : ""
        return "rejected \(rejections.count) of \(rejections.count + traces.spanCount) spans: \(shown)\(more)"
    }
}

/// A span that was left out of a request, with enough detail for the sender to find it.
public struct SpanRejection: Sendable, Hashable, CustomStringConvertible {
    /// `resource_spans[0].scope_spans[1].spans[3]`
    public var location: String
    public var spanName: String
    public var reason: String

    public var description: String { "\(location) (name \"\(spanName)\"): \(reason)" }
}

/// The id rules of OTLP, shared by both codecs: trace ids are 16 bytes, span ids 8, neither all zero;
/// a parent span id is empty (root) or 8 bytes. Returns the reason a span is invalid, or the ids.
enum SpanIDRules {
    enum Outcome {
        case valid(TraceID, SpanID, parent: SpanID?)
        case invalid(reason: String)
    }

    /// Empty buffers stand for absent ids.
    static func check(traceID: UnsafeRawBufferPointer, spanID: UnsafeRawBufferPointer, parentSpanID: UnsafeRawBufferPointer)
        -> Outcome
    {
        guard !traceID.isEmpty else { return .invalid(reason: "trace_id is missing") }
        guard let trace = TraceID(bytes: traceID) else {
            return .invalid(reason: "trace_id has \(traceID.count) bytes, expected 16")
        }
        guard !trace.isZero else { return .invalid(reason: "trace_id is all zeros") }
        guard !spanID.isEmpty else { return .invalid(reason: "span_id is missing") }
        guard let span = SpanID(bytes: spanID) else {
            return .invalid(reason: "span_id has \(spanID.count) bytes, expected 8")
        }
        guard !span.isZero else { return .invalid(reason: "span_id is all zeros") }
        var parent: SpanID?
        if !parentSpanID.isEmpty {
            guard let parsed = SpanID(bytes: parentSpanID) else {
                return .invalid(reason: "parent_span_id has \(parentSpanID.count) bytes, expected 8 or none")
            }
            parent = parsed.isZero ? nil : parsed
        }
        return .valid(trace, span, parent: parent)
    }

    static func check(traceID: [UInt8]?, spanID: [UInt8]?, parentSpanID: [UInt8]?) -> Outcome {
        (traceID ?? []).withUnsafeBytes { trace in
            (spanID ?? []).withUnsafeBytes { span in
                (parentSpanID ?? []).withUnsafeBytes { parent in
                    check(traceID: trace, spanID: span, parentSpanID: parent)
                }
            }
        }
    }
}

/// A request that cannot be decoded at all: answered with 400 / INVALID_ARGUMENT.
public struct OTLPDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case malformed
        case tooDeep
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Limits that protect the process from hostile input.
public struct DecodeLimits: Sendable, Hashable {
    /// How many `AnyValue` levels an attribute value may nest.
    public var maxAttributeDepth: Int

    public init(maxAttributeDepth: Int = 64) {
        self.maxAttributeDepth = maxAttributeDepth
    }

    public static let `default` = DecodeLimits()
}
