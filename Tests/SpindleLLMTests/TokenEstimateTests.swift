import SpindleModel
import Testing
@testable import SpindleLLM

/// Streaming calls often arrive without usage: tokens are estimated from the text at ceil(characters / 4)
/// (Unicode scalars), messages joined by newlines, separately given system instructions appended, and
/// each tool call's name and arguments estimated on their own.
@Suite struct TokenEstimateTests {
    @Test func theRule() {
        #expect(TokenEstimate.tokens(in: "") == 0)
        #expect(TokenEstimate.tokens(in: "a") == 1)
        #expect(TokenEstimate.tokens(in: "abcd") == 1)
        #expect(TokenEstimate.tokens(in: "abcde") == 2)
        #expect(TokenEstimate.tokens(in: String(repeating: "x", count: 401)) == 101)
        // Scalars, not bytes: five two-byte letters and five four-byte emoji are five characters each.
        #expect(TokenEstimate.tokens(in: "ééééé") == 2)
        #expect(TokenEstimate.tokens(in: "👍👍👍👍👍") == 2)
        for text in ["", "a", "Hello there, how are you?", "héllo wörld ✓"] {
            #expect(TokenEstimate.tokens(in: text) == quarterCeiling(text))
        }
    }

    @Test func streamingCallWithoutUsage() throws {
        let call = try #require(
            extract([
                attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o-mini"),
                attr("gen_ai.request.stream", true),
                attr("gen_ai.system_instructions", "You are terse."),
                attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"Hello there, how are you?"}]}]"#),
                attr("gen_ai.output.messages", #"[{"role":"assistant","parts":[{"type":"text","content":"Fine."}]}]"#),
            ]))
        let input = quarterCeiling("Hello there, how are you?" + "\n" + "You are terse.")
        let output = quarterCeiling("Fine.")
        #expect(input == 10)
        #expect(output == 2)
        #expect(call.tokens == TokenUsage(input: input, output: output, total: input + output, estimated: true))
        #expect(call.parameters.stream == true)
        // Estimated tokens are still priced: 10 × $1 + 2 × $4.
        #expect(call.cost.source == .priceTable)
        #expect(approximately(call.cost.usd, 18e-6))
    }

    @Test func toolCallsAreEstimatedByNameAndArguments() throws {
        let call = try #require(
            extract([
                attr("openinference.span.kind", "LLM"), attr("llm.model_name", "gpt-4o"),
                attr("llm.input_messages.0.message.role", "user"),
                attr("llm.input_messages.0.message.content", "Weather in Oslo?"),
                attr("llm.input_messages.1.message.role", "assistant"),
                attr("llm.input_messages.1.message.tool_calls.0.tool_call.function.name", "get_weather"),
                attr("llm.input_messages.1.message.tool_calls.0.tool_call.function.arguments", #"{"city":"Oslo"}"#),
                attr("llm.input_messages.2.message.role", "tool"),
                attr("llm.input_messages.2.message.content", "-3C"),
                attr("llm.output_messages.0.message.role", "assistant"),
                attr("llm.output_messages.0.message.content", "It is -3C in Oslo."),
            ]))
        let input =
            quarterCeiling(["Weather in Oslo?", "", "-3C"].joined(separator: "\n")) + quarterCeiling("get_weather")
            + quarterCeiling(#"{"city":"Oslo"}"#)
        #expect(input == 6 + 3 + 4)
        #expect(call.tokens == TokenUsage(input: input, output: quarterCeiling("It is -3C in Oslo."), total: input + 5, estimated: true))
    }

    @Test func systemMessagesInTheInputAreNotCountedTwice() throws {
        for role in ["system", "developer"] {
            let call = try #require(
                extract([
                    attr("openinference.span.kind", "LLM"), attr("llm.model_name", "gpt-4o"),
                    attr("llm.input_messages.0.message.role", role),
                    attr("llm.input_messages.0.message.content", "Use metric units."),
                    attr("llm.input_messages.1.message.role", "user"),
                    attr("llm.input_messages.1.message.content", "How far is it?"),
                    attr("llm.output_messages.0.message.content", "About 5 km."),
                ]))
            #expect(call.systemInstructions == "Use metric units.")
            let input = quarterCeiling("Use metric units.\nHow far is it?")
            #expect(input == 8)
            #expect(call.tokens.input == input, "role \(role)")
            #expect(call.tokens.output == quarterCeiling("About 5 km."))
            #expect(call.tokens.estimated)
        }
    }

    @Test func onlyTheMissingCountIsEstimated() throws {
        let call = try #require(
            extract([
                attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o"),
                attr("gen_ai.usage.output_tokens", 7),
                attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"abcdefgh"}]}]"#),
                attr("gen_ai.output.messages", #"[{"role":"assistant","parts":[{"type":"text","content":"a much longer answer"}]}]"#),
            ]))
        #expect(call.tokens == TokenUsage(input: 2, output: 7, total: 9, estimated: true))
    }

    @Test func givenCountsAreNotEstimated() throws {
        let call = try #require(
            extract([
                attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o"),
                attr("gen_ai.usage.input_tokens", 3), attr("gen_ai.usage.output_tokens", 4),
                attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"a long question indeed"}]}]"#),
            ]))
        #expect(call.tokens == TokenUsage(input: 3, output: 4, total: 7, estimated: false))
    }

    @Test func nothingToEstimateFrom() throws {
        let call = try #require(extract([attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o")]))
        #expect(call.tokens == TokenUsage())
        #expect(call.tokens.estimated == false)
        #expect(call.cost.usd == nil)
        #expect(call.cost.source == .unknown)
    }
}
