import Testing
@testable import SpindleLLM

@Suite struct PriceTableTests {
    @Test func candidatesStripPrefixesAndSuffixes() {
        #expect(PriceTable.candidates("openai/gpt-4o-mini-2024-07-18").contains("gpt-4o-mini"))
        #expect(PriceTable.candidates("us.anthropic.claude-3-5-sonnet-20241022-v2:0").contains("claude-3-5-sonnet"))
        #expect(PriceTable.candidates("models/gemini-2.5-flash") == ["gemini-2.5-flash"])
    }

    @Test func candidatesAreMostSpecificFirst() {
        #expect(PriceTable.candidates("openai/gpt-4o-mini-2024-07-18") == ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"])
        #expect(
            PriceTable.candidates("us.anthropic.claude-3-5-sonnet-20241022-v2:0")
                == ["claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet-20241022", "claude-3-5-sonnet"])
        #expect(PriceTable.candidates("Azure/GPT-4o") == ["gpt-4o"])
        #expect(PriceTable.candidates("claude-3-5-sonnet@20241022") == ["claude-3-5-sonnet@20241022", "claude-3-5-sonnet"])
        #expect(PriceTable.candidates("gpt-4o-latest") == ["gpt-4o-latest", "gpt-4o"])
        // A prefix alone is not stripped to nothing.
        #expect(PriceTable.candidates("openai.") == ["openai."])
    }

    /// The last model looked up is remembered apart from the others: alternating names must not mix them.
    @Test func alternatingModelsKeepTheirOwnEntries() throws {
        let table = try PriceTable(
            json: Array(#"{"as_of":"2026-01-01","models":[{"match":"alpha","input":1,"output":2},{"match":"beta","input":3,"output":4}]}"#.utf8),
            origin: "test")
        for model in ["alpha", "beta", "beta", "gamma", "alpha", "gamma", "beta"] {
            #expect(table.entry(for: model)?.match == (model == "gamma" ? nil : model))
        }
        var call = LLMCall(convention: .otelGenAI)
        call.tokens = TokenUsage(input: 1_000_000, output: 0)
        for (model, usd) in [("alpha", 1.0), ("beta", 3.0), ("alpha", 1.0)] {
            call.model = model
            #expect(table.cost(of: call) == Cost(usd: usd, source: .priceTable, reason: "\(model) prices as of 2026-01-01"))
        }
    }

    @Test func bundledTableParses() {
        let table = PriceTable.bundled
        #expect(table.asOf == "2026-11-25")
        #expect(table.entries.count > 50)
        #expect(table.entries.allSatisfy { $0.input >= 0 && $0.output >= 0 && !$0.match.isEmpty })
    }

    @Test(arguments: [
        ("openai/gpt-4o-mini-2024-07-18", "openai", "gpt-4o-mini(-search-preview)?"),
        ("gpt-4o", "openai", "gpt-4o(-search-preview)?"),
        ("azure/gpt-4o-2024-08-06", "openai", "gpt-4o(-search-preview)?"),
        ("GPT-4O-MINI", "openai", "gpt-4o-mini(-search-preview)?"),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic", "claude-3[.-]5-sonnet(-v2)?"),
        ("models/gemini-2.5-flash", "google", "gemini-2\\.5-flash(-preview)?(-[0-9]{2}-[0-9]{2,4})?"),
        ("claude-sonnet-4-5-20250929", "anthropic", "claude-sonnet-4([.-][56])?|claude-4([.-][56])?-sonnet"),
    ])
    func bundledTableMatches(model: String, provider: String, match: String) throws {
        let entry = try #require(PriceTable.bundled.entry(for: model))
        #expect(entry.match == match)
        #expect(entry.provider == provider)
    }

    @Test func bundledTableDoesNotPriceUnknownModels() {
        #expect(PriceTable.bundled.entry(for: "acme-llm-9000") == nil)
        // Asked twice: the cached miss is still a miss.
        #expect(PriceTable.bundled.entry(for: "acme-llm-9000") == nil)
        #expect(PriceTable.bundled.entry(for: "") == nil)
    }

    @Test func firstMatchingEntryWins() throws {
        let table = try PriceTable(
            json: Array(
                #"{"as_of": "x", "models": [{"match": "gpt-4o.*", "input": 9, "output": 9}, {"match": "gpt-4o-mini", "input": 1, "output": 1}]}"#
                    .utf8), origin: "order")
        #expect(table.entry(for: "gpt-4o-mini")?.input == 9)
    }
}
