import SpindleModel
import Testing
@testable import SpindleLLM

/// Which spans are LLM calls: ordinary spans and non-generating GenAI operations are not; agent spans with
/// usage are shown as aggregates; a bare model attribute is enough.
@Suite struct CallKindTests {
    @Test func plainHTTPSpanIsNotACall() {
        let span = llmSpan([
            attr("http.request.method", "POST"), attr("url.full", "https://api.example.com/v1/orders"),
            attr("http.response.status_code", 200), attr("server.address", "api.example.com"),
            attr("user_agent.original", "curl/8.5"),
        ])
        #expect(SpanAttributes(span.attributes).families.isEmpty)  // no convention's key: no reader runs
        #expect(extractor.extract(span) == nil)
    }

    @Test func httpCallToAnLLMProviderWithoutConventionsIsNotACall() {
        #expect(
            extract([
                attr("http.request.method", "POST"), attr("url.full", "https://api.openai.com/v1/chat/completions"),
                attr("http.request.body.size", 512),
            ]) == nil)
    }

    @Test(arguments: ["embeddings", "execute_tool", "retrieval"])
    func nonGeneratingOperationsAreNotCalls(operation: String) {
        #expect(
            extract([
                attr("gen_ai.operation.name", operation), attr("gen_ai.request.model", "text-embedding-3-small"),
                attr("gen_ai.usage.input_tokens", 12), attr("gen_ai.tool.name", "search"),
            ]) == nil)
    }

    @Test(arguments: ["EMBEDDING", "RETRIEVER", "RERANKER", "TOOL", "GUARDRAIL", "EVALUATOR"])
    func nonLLMOpenInferenceKindsAreNotCalls(kind: String) {
        #expect(extract([attr("openinference.span.kind", kind), attr("llm.model_name", "gpt-4o")]) == nil)
    }

    @Test func openLLMetryEmbeddingRequestIsNotACall() {
        #expect(extract([attr("llm.request.type", "embedding"), attr("gen_ai.request.model", "text-embedding-3-small")]) == nil)
    }

    @Test func agentSpanWithUsageIsAnAggregate() throws {
        let call = try #require(
            extract([
                attr("gen_ai.operation.name", "invoke_agent"), attr("gen_ai.agent.name", "planner"),
                attr("gen_ai.request.model", "gpt-4o"), attr("gen_ai.usage.input_tokens", 5000),
                attr("gen_ai.usage.output_tokens", 800),
                attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"Plan a trip"}]}]"#),
            ]))
        #expect(call.isAggregate)
        #expect(call.convention == .otelGenAI)
        #expect(call.operation == "invoke_agent")
        #expect(call.tokens == TokenUsage(input: 5000, output: 800, total: 5800))
        #expect(call.input == [LLMMessage(role: "user", text: "Plan a trip")])
    }

    @Test func agentSpanWithoutUsageIsNotShown() {
        #expect(
            extract([
                attr("gen_ai.operation.name", "invoke_agent"), attr("gen_ai.agent.name", "planner"),
                attr("gen_ai.request.model", "gpt-4o"),
                attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"Plan a trip"}]}]"#),
            ]) == nil)
    }

    @Test func aggregateUsageIsNeverEstimated() throws {
        // Output given, input missing: an agent's input is not estimated from its messages.
        let call = try #require(
            extract([
                attr("gen_ai.operation.name", "invoke_workflow"), attr("gen_ai.usage.output_tokens", 100),
                attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"Plan a trip"}]}]"#),
            ]))
        #expect(call.isAggregate)
        #expect(call.tokens == TokenUsage(output: 100, total: 100))
    }

    @Test func otherAggregateMarkers() throws {
        let openInference = try #require(
            extract([attr("openinference.span.kind", "AGENT"), attr("llm.token_count.prompt", 40), attr("llm.token_count.completion", 2)]))
        #expect(openInference.isAggregate)
        #expect(openInference.convention == .openInference)

        let traceloop = try #require(extract([attr("traceloop.span.kind", "workflow"), attr("llm.usage.total_tokens", 900)]))
        #expect(traceloop.isAggregate)
        #expect(traceloop.convention == .openLLMetry)
        #expect(traceloop.tokens == TokenUsage(total: 900))

        #expect(extract([attr("openinference.span.kind", "CHAIN"), attr("input.value", "hi")]) == nil)
        #expect(extract([attr("traceloop.span.kind", "task"), attr("gen_ai.request.model", "gpt-4o")]) == nil)
    }

    @Test func onlyAModelAttribute() throws {
        let call = try #require(extract([attr("gen_ai.request.model", "gpt-4o")]))
        #expect(call.convention == .modelAttribute)
        #expect(call.conventions == [.modelAttribute, .otelGenAI])
        #expect(call.model == "gpt-4o")
        #expect(call.requestModel == "gpt-4o")
        #expect(call.operation == nil)
        #expect(call.input.isEmpty)
        #expect(call.output.isEmpty)
        #expect(call.tokens == TokenUsage())
        #expect(call.prompt == nil)
        #expect(call.isAggregate == false)
        #expect(call.cost.usd == nil)
        #expect(call.cost.source == .unknown)

        let openInference = try #require(extract([attr("llm.model_name", "claude-3-5-sonnet")]))
        #expect(openInference.convention == .modelAttribute)
        #expect(openInference.conventions == [.modelAttribute, .openInference])
    }

    @Test func genAIAttributesWithoutKindOrModelAreNotACall() {
        #expect(extract([attr("gen_ai.conversation.id", "conv-1"), attr("gen_ai.agent.name", "planner")]) == nil)
        #expect(extract([attr("session.id", "s"), attr("user.id", "u")]) == nil)
    }
}
