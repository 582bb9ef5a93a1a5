public import SpindleModel

/// Spans for tests and benchmarks, built from a seed so that every run sees the same data.
public enum SampleTraces {
    /// A span that uses every field and every attribute kind.
    public static func everyField(traceID: TraceID = TraceID(high: 0x0102_0304_0506_0708, low: 0x090a_0b0c_0d0e_0f10))
        -> TracesData
    {
        let attributes: [Attribute] = [
            Attribute("string", .string("héllo \"quoted\" \\ \n\t\u{0}end")),
            Attribute("bool", .bool(true)),
            Attribute("int", .int(-9_223_372_036_854_775_807)),
            Attribute("double", .double(3.141592653589793)),
            Attribute("double.tiny", .double(1e-300)),
            Attribute("array", .array([.string("a"), .int(1), .double(2.5), .bool(false), .empty])),
            Attribute("kvlist", .kvlist([Attribute("inner", .kvlist([Attribute("deep", .array([.int(7)]))]))])),
            Attribute("bytes", .bytes([0, 1, 2, 250, 255])),
            Attribute("empty", .empty),
            Attribute("string", .string("duplicate key kept")),
        ]
        let root = Span(
            traceID: traceID, spanID: SpanID(0x1111_1111_1111_1111), traceState: "vendor=a,other=b", flags: 0x301,
            name: "root ✓", kind: .server, startTimeUnixNano: 1_700_000_000_000_000_000,
            endTimeUnixNano: 18_446_744_073_709_551_615, attributes: attributes, droppedAttributesCount: 3,
            events: [
                SpanEvent(timeUnixNano: 1_700_000_000_500_000_000, name: "exception", attributes: attributes, droppedAttributesCount: 1),
                SpanEvent(timeUnixNano: 1, name: ""),
            ],
            droppedEventsCount: 4,
            links: [
                SpanLink(
                    traceID: TraceID(high: 0xaaaa, low: 0xbbbb), spanID: SpanID(0xcccc), traceState: "k=v",
                    attributes: [Attribute("link.kind", .string("follows"))], droppedAttributesCount: 2, flags: 1)
            ],
            droppedLinksCount: 5, status: SpanStatus(code: .error, message: "it broke"))
        let child = Span(
            traceID: traceID, spanID: SpanID(0x2222_2222_2222_2222), parentSpanID: root.spanID, name: "child",
            kind: SpanKind(rawValue: 42), startTimeUnixNano: 1_700_000_000_100_000_000,
            endTimeUnixNano: 1_700_000_000_200_000_000, status: SpanStatus(code: .ok))
        return TracesData(resourceSpans: [
            ResourceSpans(
                resource: Resource(
                    // In key order, as the store keeps resource attributes.
                    attributes: [Attribute("pid", .int(42)), Attribute("service.name", .string("every-field"))],
                    droppedAttributesCount: 6),
                scopeSpans: [
                    ScopeSpans(
                        scope: InstrumentationScope(
                            name: "tests", version: "1.2.3", attributes: [Attribute("scope.attr", .bool(false))],
                            droppedAttributesCount: 7),
                        spans: [root, child], schemaURL: "https://opentelemetry.io/schemas/1.26.0")
                ], schemaURL: "https://opentelemetry.io/schemas/1.25.0")
        ])
    }

    /// `count` small spans (about ten attributes, ~300 bytes each on the wire) in `traces` traces.
    public static func small(count: Int, traces: Int = 10, seed: UInt64 = 1) -> TracesData {
        var generator = SplitMix(seed: seed)
        let traceIDs = (0..<max(traces, 1)).map { _ in TraceID(high: generator.next() | 1, low: generator.next()) }
        var spans: [Span] = []
        spans.reserveCapacity(count)
        for index in 0..<count {
            let start = 1_700_000_000_000_000_000 + UInt64(index) * 1_000_000
            spans.append(
                Span(
                    traceID: traceIDs[index % traceIDs.count], spanID: SpanID(generator.next() | 1),
                    parentSpanID: SpanID(generator.next() | 1), name: "GET /api/items/{id}", kind: .server,
                    startTimeUnixNano: start, endTimeUnixNano: start + 2_500_000,
                    attributes: [
                        Attribute("http.request.method", .string("GET")),
                        Attribute("http.route", .string("/api/items/{id}")),
                        Attribute("http.response.status_code", .int(200)),
                        Attribute("url.path", .string("/api/items/\(index)")),
                        Attribute("server.address", .string("api.internal")),
                        Attribute("server.port", .int(8080)),
                        Attribute("user_agent.original", .string("python-requests/2.32")),
                        Attribute("network.protocol.version", .string("1.1")),
                        Attribute("app.cache_hit", .bool(index % 3 == 0)),
                        Attribute("app.items", .int(Int64(index % 50))),
                    ]))
        }
        return wrap(spans, service: "small-bench")
    }

    /// `count` LLM call spans with GenAI attributes and 1-2 KiB of message JSON (~3 KiB each).
    public static func llmHeavy(count: Int, traces: Int = 10, seed: UInt64 = 2) -> TracesData {
        var generator = SplitMix(seed: seed)
        let traceIDs = (0..<max(traces, 1)).map { _ in TraceID(high: generator.next() | 1, low: generator.next()) }
        let filler = String(repeating: "The quick brown fox answers questions about retrieval. ", count: 12)
        var spans: [Span] = []
        spans.reserveCapacity(count)
        for index in 0..<count {
            let start = 1_700_000_000_000_000_000 + UInt64(index) * 10_000_000
            let input =
                #"[{"role":"system","parts":[{"type":"text","content":"You are a helpful assistant. \#(filler.prefix(300))"}]},"#
                + #"{"role":"user","parts":[{"type":"text","content":"Question \#(index): \#(filler.prefix(500))"}]}]"#
            let output =
                #"[{"role":"assistant","parts":[{"type":"text","content":"Answer \#(index): \#(filler.prefix(600))"}],"finish_reason":"stop"}]"#
            spans.append(
                Span(
                    traceID: traceIDs[index % traceIDs.count], spanID: SpanID(generator.next() | 1),
                    parentSpanID: SpanID(generator.next() | 1), name: "chat gpt-4o-mini", kind: .client,
                    startTimeUnixNano: start, endTimeUnixNano: start + 850_000_000,
                    attributes: [
                        Attribute("gen_ai.operation.name", .string("chat")),
                        Attribute("gen_ai.provider.name", .string("openai")),
                        Attribute("gen_ai.request.model", .string("gpt-4o-mini")),
                        Attribute("gen_ai.response.model", .string("gpt-4o-mini-2024-07-18")),
                        Attribute("gen_ai.request.temperature", .double(0.2)),
                        Attribute("gen_ai.request.top_p", .double(0.9)),
                        Attribute("gen_ai.request.max_tokens", .int(512)),
                        Attribute("gen_ai.usage.input_tokens", .int(Int64(180 + index % 40))),
                        Attribute("gen_ai.usage.output_tokens", .int(Int64(120 + index % 30))),
                        Attribute("gen_ai.response.id", .string("chatcmpl-\(generator.next())")),
                        Attribute("gen_ai.response.finish_reasons", .array([.string("stop")])),
                        Attribute("gen_ai.input.messages", .string(input)),
                        Attribute("gen_ai.output.messages", .string(output)),
                    ]))
        }
        return wrap(spans, service: "llm-bench")
    }

    private static func wrap(_ spans: [Span], service: String) -> TracesData {
        TracesData(resourceSpans: [
            ResourceSpans(
                resource: Resource(attributes: [
                    Attribute("service.name", .string(service)),
                    Attribute("telemetry.sdk.language", .string("python")),
                    Attribute("telemetry.sdk.name", .string("opentelemetry")),
                ]),  // already in key order
                scopeSpans: [ScopeSpans(scope: InstrumentationScope(name: "spindle.bench", version: "1.0"), spans: spans)])
        ])
    }
}

/// A tiny deterministic random generator (SplitMix64).
public struct SplitMix: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
