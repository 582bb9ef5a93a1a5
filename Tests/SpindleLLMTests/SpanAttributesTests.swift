import Testing
import SpindleModel
@testable import SpindleLLM

@Suite struct SpanAttributesTests {
    @Test func lookupsFindKeysThatShareLengthAndEnding() {
        // Same length, same ending: the lengths agree, the strings decide.
        let attributes = SpanAttributes([
            Attribute("ab.tokens", .int(1)), Attribute("cd.tokens", .int(2)), Attribute("ab.tokens", .int(3)),
            Attribute("é", .string("accent")), Attribute("", .string("empty")), Attribute("gen_ai.usage.output_tokens", .int(4)),
        ])
        #expect(attributes.int("ab.tokens") == 1)  // the first of a repeated key wins
        #expect(attributes.int("cd.tokens") == 2)
        #expect(attributes.int("ef.tokens") == nil)
        #expect(attributes.string("é") == "accent")
        #expect(attributes.string("") == "empty")
        #expect(attributes.int("gen_ai.usage.output_tokens") == 4)
        #expect(attributes.int("gen_ai.usage.input_tokens") == nil)
    }

    /// Without a key of any convention there are no signatures (message events): the plain search answers alike.
    @Test func lookupsWithoutConventionKeysSearchPlainly() {
        let attributes = SpanAttributes([
            Attribute("ab.tokens", .int(1)), Attribute("cd.tokens", .int(2)), Attribute("ab.tokens", .int(3)),
            Attribute("", .string("empty")),
        ])
        #expect(attributes.families.isEmpty)
        #expect(attributes.int("ab.tokens") == 1 && attributes.int("cd.tokens") == 2 && attributes.int("ef.tokens") == nil)
        #expect(attributes.string("") == "empty")
    }
}
