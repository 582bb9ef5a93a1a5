import SpindleModel
import Testing
@testable import SpindleLLM

/// Costs from tokens and the price table (`testPrices`, USD per million tokens: gpt-4o 2 / 8, cached 1,
/// cache write 2.5; plain-model 1 / 2 without cache prices).
@Suite struct CostTests {
    func cost(model: String?, requestModel: String? = nil, _ tokens: TokenUsage, table: PriceTable = testPrices) -> Cost {
        var call = LLMCall(convention: .otelGenAI)
        call.model = model
        call.requestModel = requestModel
        call.tokens = tokens
        return table.cost(of: call)
    }

    @Test func cachedTokensArePricedOnceAtTheCachedRate() {
        // Input includes the 800 cached tokens: 200 at $2, 800 at $1, output 100 at $8.
        let priced = cost(model: "gpt-4o", TokenUsage(input: 1000, output: 100, cacheRead: 800))
        let expected: Double = 200 * 2 + 800 * 1 + 100 * 8
        #expect(approximately(priced.usd, expected * 1e-6))
        // Not the double count (all 1000 at the full rate plus the 800 again).
        let doubleCounted: Double = 1000 * 2 + 800 * 1 + 100 * 8
        #expect(!approximately(priced.usd, doubleCounted * 1e-6))
        #expect(priced.source == .priceTable)
        #expect(priced.reason == "gpt-4o prices as of 2025-01-01")
    }

    @Test func cacheWritesAtTheirOwnRate() {
        let writes = cost(model: "gpt-4o", TokenUsage(input: 1000, output: 0, cacheWrite: 600))
        let writesOnly: Double = 400 * 2 + 600 * 2.5
        #expect(approximately(writes.usd, writesOnly * 1e-6))
        let both = cost(model: "gpt-4o", TokenUsage(input: 1000, output: 50, cacheRead: 500, cacheWrite: 300))
        let readsAndWrites: Double = 200 * 2 + 500 * 1 + 300 * 2.5 + 50 * 8
        #expect(approximately(both.usd, readsAndWrites * 1e-6))
    }

    @Test func withoutCachePricesCachedTokensCostTheInputRate() {
        let priced = cost(model: "plain-model", TokenUsage(input: 100, output: 10, cacheRead: 50, cacheWrite: 20))
        let expected: Double = 100 * 1 + 10 * 2
        #expect(approximately(priced.usd, expected * 1e-6))
    }

    @Test func reasoningTokensArePartOfOutput() {
        let priced = cost(model: "gpt-4o", TokenUsage(input: 0, output: 100, reasoning: 60))
        let expected: Double = 100 * 8
        #expect(approximately(priced.usd, expected * 1e-6))
    }

    @Test func responseModelUnknownFallsBackToTheRequestModel() throws {
        let call = try #require(
            extract([
                attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o"),
                attr("gen_ai.response.model", "ft:gpt-4o:acme:support:9x8y7z"), attr("gen_ai.usage.input_tokens", 100),
                attr("gen_ai.usage.output_tokens", 10),
            ]))
        #expect(call.model == "ft:gpt-4o:acme:support:9x8y7z")
        let expected: Double = 100 * 2 + 10 * 8
        #expect(approximately(call.cost.usd, expected * 1e-6))
        #expect(call.cost.source == .priceTable)
        #expect(call.cost.reason == "gpt-4o prices as of 2025-01-01")
    }

    @Test func responseModelWinsWhenKnown() {
        // The request names the family; the answer names the mini model: mini prices.
        let priced = cost(model: "gpt-4o-mini-2024-07-18", requestModel: "gpt-4o", TokenUsage(input: 1000, output: 0))
        let expected: Double = 1000 * 1
        #expect(approximately(priced.usd, expected * 1e-6))
    }

    @Test func unknownModelIsUnknownNeverZero() {
        let unknown = cost(model: "acme-llm-9000", requestModel: "acme-llm-9000", TokenUsage(input: 100, output: 10))
        #expect(unknown.usd == nil)
        #expect(unknown.source == .unknown)
        #expect(unknown.reason == "no price for model acme-llm-9000 in the price table (as of 2025-01-01)")

        let bundled = cost(model: "acme-llm-9000", TokenUsage(input: 100, output: 10), table: .bundled)
        #expect(bundled.usd == nil)
        #expect(bundled.source == .unknown)
        #expect(bundled.reason?.contains("acme-llm-9000") == true)
    }

    @Test func unknownWithoutModelOrTokens() {
        let noModel = cost(model: nil, TokenUsage(input: 100, output: 10))
        #expect(noModel == Cost(usd: nil, source: .unknown, reason: "the span names no model"))
        let noTokens = cost(model: "gpt-4o", TokenUsage())
        #expect(noTokens.usd == nil)
        #expect(noTokens.source == .unknown)
        #expect(noTokens.reason?.contains("no token counts") == true)
    }

    @Test func givenCostWins() throws {
        let call = try #require(
            extract([
                attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o"),
                attr("gen_ai.usage.input_tokens", 1000), attr("gen_ai.usage.output_tokens", 1000), attr("gen_ai.usage.cost", 0.42),
            ]))
        #expect(call.cost == Cost(usd: 0.42, source: .span))
        // A given zero is a real zero (a free model), not an unknown.
        let free = extract([attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "acme-llm-9000"), attr("gen_ai.usage.cost", 0)])
        #expect(free?.cost == Cost(usd: 0, source: .span))
    }

    @Test func bundledTableCostsAMillionInputTokensAtTheEntryRate() throws {
        let entry = try #require(PriceTable.bundled.entry(for: "gpt-4o-mini"))
        let call = try #require(
            LLMExtractor(prices: .bundled).extract(
                llmSpan([
                    attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "openai/gpt-4o-mini-2024-07-18"),
                    attr("gen_ai.usage.input_tokens", 1_000_000), attr("gen_ai.usage.output_tokens", 1_000_000),
                ])))
        #expect(approximately(call.cost.usd, entry.input + entry.output))
        #expect(call.cost.reason == "\(entry.match) prices as of \(PriceTable.bundled.asOf)")
    }
}

/// Loading price tables: errors name the file, the entry and the problem.
@Suite struct PriceTableLoadingTests {
    func loadError(_ text: String) -> String? {
        do {
            _ = try PriceTable(json: Array(text.utf8), origin: "custom.json")
            return nil
        } catch {
            return error.description
        }
    }

    @Test func notJSON() {
        #expect(loadError("as_of: today")?.hasPrefix("custom.json: not JSON") == true)
    }

    @Test func missingAsOf() {
        #expect(loadError(#"{"models": []}"#) == #"custom.json: missing "as_of" (the date the prices were taken)"#)
    }

    @Test func missingModels() {
        #expect(loadError(#"{"as_of": "2025-01-01"}"#) == #"custom.json: missing "models" array"#)
    }

    @Test func badRegularExpression() {
        let message = loadError(#"{"as_of": "2025-01-01", "models": [{"match": "gpt-(4o", "input": 1, "output": 2}]}"#)
        #expect(message == #"custom.json: models[0]: "match" is not a valid regular expression: gpt-(4o"#)
    }

    @Test func negativePrice() {
        let message = loadError(
            #"{"as_of": "2025-01-01", "models": [{"match": "ok", "input": 1, "output": 2}, {"match": "neg", "input": -1, "output": 2}]}"#)
        #expect(message == #"custom.json: models[1] (neg): "input" and "output" must be non-negative numbers"#)
    }

    @Test func missingOutputAndEmptyMatch() {
        #expect(loadError(#"{"as_of": "x", "models": [{"match": "m", "input": 1}]}"#)?.contains("non-negative numbers") == true)
        #expect(
            loadError(#"{"as_of": "x", "models": [{"match": "", "input": 1, "output": 1}]}"#)
                == #"custom.json: models[0]: "match" must be a non-empty string"#)
    }

    @Test func unreadableFile() {
        do {
            _ = try PriceTable.load(path: "/nonexistent/spindle-prices.json")
            Issue.record("loaded a file that does not exist")
        } catch {
            #expect(error.description == "cannot read price table /nonexistent/spindle-prices.json")
        }
    }

    @Test func userTableParsesWithOptionalCachePrices() throws {
        let table = try PriceTable(
            json: Array(#"{"as_of": "2024-06-01", "models": [{"provider": "p", "match": "m-[0-9]+", "input": 0.5, "output": 1.5}]}"#.utf8),
            origin: "mine")
        #expect(table.asOf == "2024-06-01")
        #expect(table.entries == [PriceTable.Entry(provider: "p", match: "m-[0-9]+", input: 0.5, output: 1.5, cachedInput: nil, cacheWrite: nil)])
        #expect(table.entry(for: "M-42")?.match == "m-[0-9]+")
        // Anchored: a pattern is the whole bare name, not a part of it.
        #expect(table.entry(for: "xm-42") == nil)
        #expect(table.entry(for: "m-42x") == nil)
    }
}
