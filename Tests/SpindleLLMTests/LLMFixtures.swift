import SpindleModel
import Testing
@testable import SpindleLLM

// Shared helpers for the SpindleLLM tests: a small price table with round numbers (so expected costs do
// not move when the bundled table is updated), span and attribute builders, and independent arithmetic.

/// USD per million tokens. `gpt-4o-mini` is listed first so that it wins over `gpt-4o` for mini models.
let testPrices: PriceTable = {
    let json = """
        {"as_of": "2025-01-01", "models": [
          {"provider": "openai", "match": "gpt-4o-mini", "input": 1.0, "output": 4.0, "cached_input": 0.5},
          {"provider": "openai", "match": "gpt-4o", "input": 2.0, "output": 8.0, "cached_input": 1.0, "cache_write": 2.5},
          {"provider": "anthropic", "match": "claude-3[.-]5-sonnet", "input": 3.0, "output": 15.0,
           "cached_input": 0.3, "cache_write": 3.75},
          {"provider": "test", "match": "plain-model", "input": 1.0, "output": 2.0}
        ]}
        """
    return try! PriceTable(json: Array(json.utf8), origin: "test prices")
}()

let extractor = LLMExtractor(prices: testPrices)

let fixtureStart: UInt64 = 1_700_000_000_000_000_000
/// Every fixture span lasts 1234.5 ms unless told otherwise.
let fixtureDurationNanos: UInt64 = 1_234_500_000

func llmSpan(
    _ attributes: [Attribute], events: [SpanEvent] = [], status: StatusCode = .unset,
    durationNanos: UInt64 = fixtureDurationNanos
) -> Span {
    Span(
        traceID: TraceID(high: 0x0af7_6519_16cd_43dd, low: 0x8448_eb21_1c80_319c), spanID: SpanID(0xb7ad_6b71_6920_3331),
        name: "chat", kind: .client, startTimeUnixNano: fixtureStart, endTimeUnixNano: fixtureStart + durationNanos,
        attributes: attributes, events: events, status: SpanStatus(code: status))
}

/// The call the test extractor finds in a span made of these attributes and events. Every fixture also
/// checks that ingest's extraction (`.figures`, which skips parameters and prompt variables) stores the
/// same figures as the full call.
func extract(_ attributes: [Attribute], events: [SpanEvent] = [], status: StatusCode = .unset) -> LLMCall? {
    let span = llmSpan(attributes, events: events, status: status)
    let full = extractor.extract(span)
    expectSameFigures(extractor.extract(span, detail: .figures), full)
    return full
}

/// What `llm_calls` and `prompt_versions` keep of a call agree between the two details.
func expectSameFigures(_ figures: LLMCall?, _ full: LLMCall?) {
    #expect((figures == nil) == (full == nil))
    guard let figures, let full else { return }
    #expect(figures.model == full.model && figures.requestModel == full.requestModel)
    #expect(figures.prompt?.id == full.prompt?.id && figures.prompt?.versionHash == full.prompt?.versionHash)
    #expect(figures.prompt?.version == full.prompt?.version && figures.prompt?.template == full.prompt?.template)
    #expect(figures.prompt?.isImplicit == full.prompt?.isImplicit)
    #expect(figures.latencyMs == full.latencyMs && figures.tokens == full.tokens && figures.cost == full.cost)
    #expect(figures.meanScore == full.meanScore && figures.isFlagged == full.isFlagged)
    #expect(figures.isError == full.isError && figures.isAggregate == full.isAggregate)
}

func attr(_ key: String, _ value: String) -> Attribute { Attribute(key, .string(value)) }
func attr(_ key: String, _ value: Int) -> Attribute { Attribute(key, .int(Int64(value))) }
func attr(_ key: String, _ value: Double) -> Attribute { Attribute(key, .double(value)) }
func attr(_ key: String, _ value: Bool) -> Attribute { Attribute(key, .bool(value)) }
func attr(_ key: String, _ value: AttributeValue) -> Attribute { Attribute(key, value) }

/// A structured `AnyValue` map, keys in the order given.
func kv(_ pairs: KeyValuePairs<String, AttributeValue>) -> AttributeValue {
    .kvlist(pairs.map { Attribute($0.key, $0.value) })
}

func event(_ name: String, _ attributes: [Attribute]) -> SpanEvent {
    SpanEvent(timeUnixNano: fixtureStart + 1_000, name: name, attributes: attributes)
}

/// The documented estimate, computed here without TokenEstimate: ceil(unicode scalars / 4).
func quarterCeiling(_ text: String) -> Int { (text.unicodeScalars.count + 3) / 4 }

/// Equal within floating-point noise (costs are sums of products).
func approximately(_ value: Double?, _ expected: Double) -> Bool {
    guard let value else { return false }
    return abs(value - expected) <= 1e-12 * max(1, abs(expected))
}
