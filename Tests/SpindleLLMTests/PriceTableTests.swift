import Testing
@testable import SpindleLLM

@Suite struct PriceTableTests {
    @Test func candidatesStripPrefixesAndSuffixes() {
        #expect(PriceTable.candidates("openai/gpt-4o-mini-2024-07-18").contains("gpt-4o-mini"))
        #expect(PriceTable.candidates("us.anthropic.claude-3-5-sonnet-20241022-v2:0").contains("claude-3-5-sonnet"))
        #expect(PriceTable.candidates("models/gemini-2.5-flash") == ["gemini-2.5-flash"])
    }
}
