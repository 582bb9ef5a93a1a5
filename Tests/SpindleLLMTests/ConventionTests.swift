import SpindleModel
import Testing
@testable import SpindleLLM

// One fixture per convention, built from the attribute lists in LLM-CONVENTIONS, asserting every field
// of the extracted call. Costs use `testPrices` (USD per million tokens).

@Suite struct OTelGenAICurrentTests {
    @Test func jsonStringMessagesWithToolCallsAndEvaluations() throws {
        let call = try #require(
            extract(
                [
                    attr("gen_ai.operation.name", "chat"),
                    attr("gen_ai.provider.name", "openai"),
                    attr("gen_ai.request.model", "gpt-4o"),
                    attr("gen_ai.response.model", "gpt-4o-2024-08-06"),
                    attr("gen_ai.response.id", "chatcmpl-123"),
                    attr("gen_ai.response.finish_reasons", .array([.string("stop")])),
                    attr("gen_ai.conversation.id", "conv-7"),
                    attr("gen_ai.request.temperature", 0.2),
                    attr("gen_ai.request.top_p", 0.9),
                    attr("gen_ai.request.top_k", 40),
                    attr("gen_ai.request.max_tokens", 512),
                    attr("gen_ai.request.frequency_penalty", 0.1),
                    attr("gen_ai.request.presence_penalty", -0.5),
                    attr("gen_ai.request.seed", 42),
                    attr("gen_ai.request.stop_sequences", .array([.string("END"), .string("STOP")])),
                    attr("gen_ai.request.stream", false),
                    attr("gen_ai.usage.input_tokens", 1200),
                    attr("gen_ai.usage.output_tokens", 300),
                    attr("gen_ai.usage.cache_read.input_tokens", 1000),
                    attr("gen_ai.usage.cache_creation.input_tokens", 100),
                    attr("gen_ai.usage.reasoning.output_tokens", 64),
                    attr("gen_ai.system_instructions", #"[{"type":"text","content":"You are a weather assistant."}]"#),
                    attr(
                        "gen_ai.input.messages",
                        #"""
                        [{"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}]},
                         {"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"get_weather","arguments":{"city":"Paris"}}]},
                         {"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"18C and sunny"}]}]
                        """#),
                    attr(
                        "gen_ai.output.messages",
                        #"[{"role":"assistant","parts":[{"type":"text","content":"It is 18C and sunny in Paris."}],"finish_reason":"stop"}]"#
                    ),
                    attr("gen_ai.prompt.name", "weather-bot"),
                    attr("gen_ai.prompt.version", "3"),
                    attr("gen_ai.prompt.variable.city", "Paris"),
                ],
                events: [
                    event(
                        "gen_ai.evaluation.result",
                        [
                            attr("gen_ai.evaluation.name", "relevance"), attr("gen_ai.evaluation.score.value", 0.9),
                            attr("gen_ai.evaluation.score.label", "relevant"),
                            attr("gen_ai.evaluation.explanation", "answers the question"),
                        ]),
                    event(
                        "gen_ai.evaluation.result",
                        [
                            attr("gen_ai.evaluation.name", "groundedness"), attr("gen_ai.evaluation.score.value", 0.25),
                            attr("gen_ai.evaluation.score.label", "ungrounded"),
                        ]),
                ]))

        #expect(call.convention == .otelGenAI)
        #expect(call.conventions == [.otelGenAI])
        #expect(call.operation == "chat")
        #expect(call.provider == "openai")
        #expect(call.model == "gpt-4o-2024-08-06")
        #expect(call.requestModel == "gpt-4o")
        #expect(
            call.input == [
                LLMMessage(role: "user", text: "Weather in Paris?"),
                LLMMessage(
                    role: "assistant", text: "",
                    toolCalls: [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)]),
                LLMMessage(role: "tool", text: "18C and sunny", toolCallID: "call_1"),
            ])
        #expect(call.output == [LLMMessage(role: "assistant", text: "It is 18C and sunny in Paris.", finishReason: "stop")])
        #expect(call.systemInstructions == "You are a weather assistant.")
        #expect(
            call.tokens
                == TokenUsage(input: 1200, output: 300, cacheRead: 1000, cacheWrite: 100, reasoning: 64, total: 1500))
        #expect(call.tokens.estimated == false)

        #expect(call.parameters.temperature == 0.2)
        #expect(call.parameters.topP == 0.9)
        #expect(call.parameters.topK == 40)
        #expect(call.parameters.maxTokens == 512)
        #expect(call.parameters.frequencyPenalty == 0.1)
        #expect(call.parameters.presencePenalty == -0.5)
        #expect(call.parameters.seed == 42)
        #expect(call.parameters.stopSequences == ["END", "STOP"])
        #expect(call.parameters.stream == false)

        let prompt = try #require(call.prompt)
        #expect(prompt.id == "weather-bot")
        #expect(prompt.version == "3")
        #expect(prompt.versionHash == "3")
        #expect(prompt.template == nil)
        #expect(prompt.variables.map(\.name) == ["city"])
        #expect(prompt.variables.map(\.value) == ["Paris"])
        #expect(prompt.isImplicit == false)

        #expect(call.latencyMs == 1234.5)
        // 100 uncached × $2 + 1000 cache reads × $1 + 100 cache writes × $2.5 + 300 output × $8, per million.
        #expect(approximately(call.cost.usd, 3850e-6))
        #expect(call.cost.source == .priceTable)
        #expect(call.cost.reason == "gpt-4o prices as of 2025-01-01")
        #expect(
            call.scores == [
                Score(name: "relevance", value: 0.9, label: "relevant", explanation: "answers the question"),
                Score(name: "groundedness", value: 0.25, label: "ungrounded"),
            ])
        #expect(call.isFlagged)
        #expect(call.meanScore == (0.9 + 0.25) / 2)
        #expect(call.isAggregate == false)
        #expect(call.isError == false)
    }

    @Test func structuredAnyValueMessages() throws {
        let input: AttributeValue = .array([
            kv(["role": .string("user"), "parts": .array([kv(["type": .string("text"), "content": .string("List /tmp")])])]),
            kv([
                "role": .string("assistant"),
                "parts": .array([
                    kv([
                        "type": .string("tool_call"), "id": .string("call_ls"), "name": .string("list_dir"),
                        "arguments": kv(["path": .string("/tmp")]),
                    ])
                ]),
            ]),
            kv([
                "role": .string("tool"),
                "parts": .array([
                    kv([
                        "type": .string("tool_call_response"), "id": .string("call_ls"),
                        "response": .array([.string("a.txt"), .string("b.txt")]),
                    ])
                ]),
            ]),
        ])
        let output: AttributeValue = .array([
            kv([
                "role": .string("assistant"),
                "parts": .array([kv(["type": .string("text"), "content": .string("2 files.")])]),
                "finish_reason": .string("stop"),
            ])
        ])
        let call = try #require(
            extract(
                [
                    attr("gen_ai.operation.name", "chat"),
                    attr("gen_ai.provider.name", "openai"),
                    attr("gen_ai.request.model", "gpt-4o-mini"),
                    attr("gen_ai.usage.input_tokens", 20),
                    attr("gen_ai.usage.output_tokens", 5),
                    attr("gen_ai.system_instructions", .array([kv(["type": .string("text"), "content": .string("Reply in JSON.")])])),
                    attr("gen_ai.input.messages", input),
                    attr("gen_ai.output.messages", output),
                ], status: .error))

        #expect(call.convention == .otelGenAI)
        #expect(call.conventions == [.otelGenAI])
        #expect(call.operation == "chat")
        #expect(call.provider == "openai")
        #expect(call.model == "gpt-4o-mini")
        #expect(call.requestModel == "gpt-4o-mini")
        #expect(
            call.input == [
                LLMMessage(role: "user", text: "List /tmp"),
                LLMMessage(
                    role: "assistant", text: "",
                    toolCalls: [ToolCall(id: "call_ls", name: "list_dir", arguments: #"{"path":"/tmp"}"#)]),
                LLMMessage(role: "tool", text: #"["a.txt","b.txt"]"#, toolCallID: "call_ls"),
            ])
        #expect(call.output == [LLMMessage(role: "assistant", text: "2 files.", finishReason: "stop")])
        #expect(call.systemInstructions == "Reply in JSON.")
        #expect(call.tokens == TokenUsage(input: 20, output: 5, total: 25))
        #expect(call.parameters == LLMParameters())
        // No name and no template: the system instructions identify an implicit prompt.
        #expect(
            call.prompt
                == PromptReference(
                    id: "implicit-b9c8f4cf9669",
                    versionHash: "b9c8f4cf966997cc0fb466c2c7f6a30ffbdb4000dfc60b19438f394f5fe81af9", isImplicit: true))
        #expect(call.latencyMs == 1234.5)
        #expect(approximately(call.cost.usd, 40e-6))  // 20 × $1 + 5 × $4
        #expect(call.cost.source == .priceTable)
        #expect(call.scores.isEmpty)
        #expect(call.isFlagged == false)
        #expect(call.isAggregate == false)
        #expect(call.isError)
    }

    @Test func inferenceOperationDetailsEvent() throws {
        let call = try #require(
            extract(
                [
                    attr("gen_ai.operation.name", "generate_content"),
                    attr("gen_ai.provider.name", "gcp.gemini"),
                    attr("gen_ai.request.model", "gemini-2.5-flash"),
                    attr("gen_ai.usage.input_tokens", 30),
                    attr("gen_ai.usage.output_tokens", 8),
                ],
                events: [
                    event(
                        "gen_ai.client.inference.operation.details",
                        [
                            attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"Say hello"}]}]"#),
                            attr(
                                "gen_ai.output.messages",
                                .array([
                                    kv([
                                        "role": .string("assistant"),
                                        "parts": .array([kv(["type": .string("text"), "content": .string("Bonjour")])]),
                                        "finish_reason": .string("stop"),
                                    ])
                                ])),
                            attr("gen_ai.system_instructions", "Answer in French."),
                        ])
                ]))

        #expect(call.convention == .otelGenAI)
        #expect(call.conventions == [.otelGenAI])
        #expect(call.operation == "generate_content")
        #expect(call.provider == "gcp.gemini")
        #expect(call.model == "gemini-2.5-flash")
        #expect(call.requestModel == "gemini-2.5-flash")
        #expect(call.input == [LLMMessage(role: "user", text: "Say hello")])
        #expect(call.output == [LLMMessage(role: "assistant", text: "Bonjour", finishReason: "stop")])
        #expect(call.systemInstructions == "Answer in French.")
        #expect(call.tokens == TokenUsage(input: 30, output: 8, total: 38))
        #expect(call.parameters == LLMParameters())
        #expect(
            call.prompt
                == PromptReference(
                    id: "implicit-59c30e71029f",
                    versionHash: "59c30e71029f4c8895236b07bae2316a1a1aac993b8aec59c8e850fc403b6a4d", isImplicit: true))
        #expect(call.latencyMs == 1234.5)
        // Not in the test price table: unknown, never 0.
        #expect(call.cost.usd == nil)
        #expect(call.cost.source == .unknown)
        #expect(call.cost.reason?.contains("gemini-2.5-flash") == true)
        #expect(call.scores.isEmpty)
        #expect(call.isAggregate == false)
        #expect(call.isError == false)
    }

    @Test func evaluationEventsWithoutAValueAreSkippedAndUnnamedOnesAreCalledScore() throws {
        let call = try #require(
            extract(
                [attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o")],
                events: [
                    event("gen_ai.evaluation.result", [attr("gen_ai.evaluation.name", "label-only"), attr("gen_ai.evaluation.score.label", "ok")]),
                    event("gen_ai.evaluation.result", [attr("gen_ai.evaluation.score.value", "0.5")]),
                ]))
        #expect(call.scores == [Score(name: "score", value: 0.5)])
    }
}

@Suite struct OTelGenAILegacyTests {
    @Test func promptTokensAndMessageEvents() throws {
        let call = try #require(
            extract(
                [
                    attr("gen_ai.operation.name", "chat"),
                    attr("gen_ai.system", "openai"),
                    attr("gen_ai.request.model", "gpt-4o-mini"),
                    attr("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                    attr("gen_ai.request.temperature", 0.7),
                    attr("gen_ai.request.max_tokens", 100),
                    attr("gen_ai.usage.prompt_tokens", 50),
                    attr("gen_ai.usage.completion_tokens", 12),
                ],
                events: [
                    event("gen_ai.system.message", [attr("content", "Be brief.")]),
                    event("gen_ai.user.message", [attr("content", "What is 2+2?")]),
                    event(
                        "gen_ai.assistant.message",
                        [
                            attr(
                                "tool_calls",
                                #"[{"id":"call_9","type":"function","function":{"name":"calc","arguments":"{\"expr\":\"2+2\"}"}}]"#)
                        ]),
                    event("gen_ai.tool.message", [attr("content", "4"), attr("id", "call_9")]),
                    event(
                        "gen_ai.choice",
                        [
                            attr("index", 0), attr("finish_reason", "stop"),
                            attr("message", kv(["content": .string("2+2 is 4."), "role": .string("assistant")])),
                        ]),
                ]))

        #expect(call.convention == .otelGenAILegacy)
        #expect(call.conventions == [.otelGenAILegacy])
        #expect(call.operation == "chat")
        #expect(call.provider == "openai")
        #expect(call.model == "gpt-4o-mini-2024-07-18")
        #expect(call.requestModel == "gpt-4o-mini")
        #expect(
            call.input == [
                LLMMessage(role: "system", text: "Be brief."),
                LLMMessage(role: "user", text: "What is 2+2?"),
                LLMMessage(
                    role: "assistant", text: "", toolCalls: [ToolCall(id: "call_9", name: "calc", arguments: #"{"expr":"2+2"}"#)]),
                LLMMessage(role: "tool", text: "4", toolCallID: "call_9"),
            ])
        #expect(call.output == [LLMMessage(role: "assistant", text: "2+2 is 4.", finishReason: "stop")])
        // Taken from the system message.
        #expect(call.systemInstructions == "Be brief.")
        #expect(call.tokens == TokenUsage(input: 50, output: 12, total: 62))
        var parameters = LLMParameters()
        parameters.temperature = 0.7
        parameters.maxTokens = 100
        #expect(call.parameters == parameters)
        #expect(
            call.prompt
                == PromptReference(
                    id: "implicit-213c22ed7234",
                    versionHash: "213c22ed7234eb11116e1e88f314c73cb3a019b5c87fe224b6ce5665bd9ec50e", isImplicit: true))
        #expect(call.latencyMs == 1234.5)
        #expect(approximately(call.cost.usd, 98e-6))  // 50 × $1 + 12 × $4
        #expect(call.cost.source == .priceTable)
        #expect(call.cost.reason == "gpt-4o-mini prices as of 2025-01-01")
        #expect(call.scores.isEmpty)
        #expect(call.isFlagged == false)
        #expect(call.isAggregate == false)
        #expect(call.isError == false)
    }
}

@Suite struct OpenInferenceConventionTests {
    @Test func indexedMessagesTokenDetailsTemplateAndAnnotations() throws {
        let call = try #require(
            extract([
                attr("openinference.span.kind", "LLM"),
                attr("llm.model_name", "gpt-4o-2024-08-06"),
                attr("llm.provider", "azure"),
                attr("llm.system", "openai"),
                attr(
                    "llm.invocation_parameters",
                    #"{"model":"gpt-4o","temperature":0.5,"top_p":0.8,"top_k":20,"max_tokens":256,"frequency_penalty":0.2,"presence_penalty":0.1,"seed":7,"stop":["\n\n"],"stream":true}"#
                ),
                attr("llm.input_messages.0.message.role", "system"),
                attr("llm.input_messages.0.message.content", "You are a SQL expert."),
                attr("llm.input_messages.1.message.role", "user"),
                attr("llm.input_messages.1.message.content", "Count users"),
                attr("llm.input_messages.2.message.role", "assistant"),
                attr("llm.input_messages.2.message.tool_calls.0.tool_call.id", "call_a"),
                attr("llm.input_messages.2.message.tool_calls.0.tool_call.function.name", "run_sql"),
                attr("llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments", #"{"q":"SELECT count(*) FROM users"}"#),
                attr("llm.input_messages.3.message.role", "tool"),
                attr("llm.input_messages.3.message.tool_call_id", "call_a"),
                attr("llm.input_messages.3.message.content", "42"),
                attr("llm.output_messages.0.message.role", "assistant"),
                attr("llm.output_messages.0.message.content", "There are 42 users."),
                attr("input.value", #"{"messages":[{"role":"user","content":"raw request"}]}"#),
                attr("input.mime_type", "application/json"),
                attr("output.value", "raw response"),
                attr("llm.token_count.prompt", 2000),
                attr("llm.token_count.completion", 150),
                attr("llm.token_count.total", 2150),
                attr("llm.token_count.prompt_details.cache_read", 1500),
                attr("llm.token_count.prompt_details.cache_write", 200),
                attr("llm.token_count.completion_details.reasoning", 50),
                attr("llm.cost.prompt", 0.01),
                attr("llm.cost.completion", 0.0023),
                attr("llm.cost.total", 0.0123),
                attr("llm.prompt_template.template", "Count {entity}"),
                attr("llm.prompt_template.variables", #"{"entity":"users"}"#),
                attr("llm.prompt_template.version", "v2"),
                attr("prompt.id", "sql-helper"),
                attr("session.id", "sess-1"),
                attr("user.id", "user-1"),
                attr("annotations.0.annotation.name", "correctness"),
                attr("annotations.0.annotation.score", 1.0),
                attr("annotations.0.annotation.label", "correct"),
                attr("annotations.0.annotation.explanation", "matches the database"),
                attr("annotations.1.annotation.name", "conciseness"),
                attr("annotations.1.annotation.score", 0.5),
            ]))

        #expect(call.convention == .openInference)
        #expect(call.conventions == [.openInference])
        #expect(call.operation == "chat")
        #expect(call.provider == "azure")
        #expect(call.model == "gpt-4o-2024-08-06")
        // OpenInference's model name is the answering model; the requested one is in the parameters.
        #expect(call.requestModel == "gpt-4o")
        #expect(
            call.input == [
                LLMMessage(role: "system", text: "You are a SQL expert."),
                LLMMessage(role: "user", text: "Count users"),
                LLMMessage(
                    role: "assistant", text: "",
                    toolCalls: [ToolCall(id: "call_a", name: "run_sql", arguments: #"{"q":"SELECT count(*) FROM users"}"#)]),
                LLMMessage(role: "tool", text: "42", toolCallID: "call_a"),
            ])
        #expect(call.output == [LLMMessage(role: "assistant", text: "There are 42 users.")])
        #expect(call.systemInstructions == "You are a SQL expert.")
        #expect(
            call.tokens == TokenUsage(input: 2000, output: 150, cacheRead: 1500, cacheWrite: 200, reasoning: 50, total: 2150))

        #expect(call.parameters.temperature == 0.5)
        #expect(call.parameters.topP == 0.8)
        #expect(call.parameters.topK == 20)
        #expect(call.parameters.maxTokens == 256)
        #expect(call.parameters.frequencyPenalty == 0.2)
        #expect(call.parameters.presencePenalty == 0.1)
        #expect(call.parameters.seed == 7)
        #expect(call.parameters.stopSequences == ["\n\n"])
        #expect(call.parameters.stream == true)

        let prompt = try #require(call.prompt)
        #expect(prompt.id == "sql-helper")
        #expect(prompt.version == "v2")
        #expect(prompt.versionHash == "v2")
        #expect(prompt.template == "Count {entity}")
        #expect(prompt.variables.map(\.name) == ["entity"])
        #expect(prompt.variables.map(\.value) == ["users"])
        #expect(prompt.isImplicit == false)

        #expect(call.latencyMs == 1234.5)
        #expect(call.cost == Cost(usd: 0.0123, source: .span))
        #expect(
            call.scores == [
                Score(name: "correctness", value: 1.0, label: "correct", explanation: "matches the database"),
                Score(name: "conciseness", value: 0.5),
            ])
        #expect(call.isFlagged == false)
        #expect(call.isAggregate == false)
        #expect(call.isError == false)
    }
}

@Suite struct OpenLLMetryConventionTests {
    @Test func indexedPromptsCompletionsAndManagedPrompt() throws {
        let call = try #require(
            extract([
                attr("llm.request.type", "chat"),
                attr("gen_ai.system", "Anthropic"),
                attr("gen_ai.request.model", "claude-3-5-sonnet-20241022"),
                attr("gen_ai.response.model", "claude-3-5-sonnet-20241022"),
                attr("gen_ai.request.temperature", 1.0),
                attr("gen_ai.request.top_p", 0.95),
                attr("gen_ai.request.max_tokens", 1024),
                attr("llm.top_k", 5),
                attr("gen_ai.prompt.0.role", "system"),
                attr("gen_ai.prompt.0.content", "You summarize tickets."),
                attr("gen_ai.prompt.1.role", "user"),
                attr("gen_ai.prompt.1.content", "Summarize ticket 7"),
                attr("gen_ai.completion.0.role", "assistant"),
                attr("gen_ai.completion.0.content", "Fetching the ticket."),
                attr("gen_ai.completion.0.finish_reason", "tool_use"),
                attr("gen_ai.completion.0.tool_calls.0.id", "toolu_1"),
                attr("gen_ai.completion.0.tool_calls.0.name", "fetch_ticket"),
                attr("gen_ai.completion.0.tool_calls.0.arguments", #"{"id":7}"#),
                attr("gen_ai.usage.prompt_tokens", 900),
                attr("gen_ai.usage.completion_tokens", 40),
                attr("gen_ai.usage.cache_read_input_tokens", 600),
                attr("gen_ai.usage.cache_creation_input_tokens", 0),
                attr("llm.usage.total_tokens", 940),
                attr("traceloop.workflow.name", "support"),
                attr("traceloop.entity.name", "summarize"),
                attr("traceloop.prompt.managed", true),
                attr("traceloop.prompt.key", "ticket-summary"),
                attr("traceloop.prompt.version", 4),
                attr("traceloop.prompt.version_name", "prod"),
                attr("traceloop.prompt.version_hash", "a1b2c3"),
                attr("traceloop.prompt.template", "Summarize ticket {{id}}"),
                attr("traceloop.prompt.template_variables.id", "7"),
            ]))

        #expect(call.convention == .openLLMetry)
        // The gen_ai.* usage and model attributes OpenLLMetry writes are the legacy GenAI ones.
        #expect(call.conventions == [.openLLMetry, .otelGenAILegacy])
        #expect(call.operation == "chat")
        #expect(call.provider == "Anthropic")
        #expect(call.model == "claude-3-5-sonnet-20241022")
        #expect(call.requestModel == "claude-3-5-sonnet-20241022")
        #expect(
            call.input == [
                LLMMessage(role: "system", text: "You summarize tickets."), LLMMessage(role: "user", text: "Summarize ticket 7"),
            ])
        #expect(
            call.output == [
                LLMMessage(
                    role: "assistant", text: "Fetching the ticket.",
                    toolCalls: [ToolCall(id: "toolu_1", name: "fetch_ticket", arguments: #"{"id":7}"#)], finishReason: "tool_use")
            ])
        #expect(call.systemInstructions == "You summarize tickets.")
        #expect(call.tokens == TokenUsage(input: 900, output: 40, cacheRead: 600, cacheWrite: 0, total: 940))

        var parameters = LLMParameters()
        parameters.temperature = 1.0
        parameters.topP = 0.95
        parameters.maxTokens = 1024
        parameters.topK = 5
        #expect(call.parameters == parameters)

        let prompt = try #require(call.prompt)
        #expect(prompt.id == "ticket-summary")
        #expect(prompt.version == "4")
        #expect(prompt.versionHash == "a1b2c3")
        #expect(prompt.template == "Summarize ticket {{id}}")
        #expect(prompt.variables.map(\.name) == ["id"])
        #expect(prompt.variables.map(\.value) == ["7"])
        #expect(prompt.isImplicit == false)

        #expect(call.latencyMs == 1234.5)
        // 300 uncached × $3 + 600 cache reads × $0.3 + 40 output × $15, per million.
        #expect(approximately(call.cost.usd, 1680e-6))
        #expect(call.cost.source == .priceTable)
        #expect(call.cost.reason == "claude-3[.-]5-sonnet prices as of 2025-01-01")
        #expect(call.scores.isEmpty)
        #expect(call.isAggregate == false)
        #expect(call.isError == false)
    }
}

@Suite struct BraintrustConventionTests {
    @Test func jsonStringAttributes() throws {
        let call = try #require(
            extract([
                attr("braintrust.span_attributes", #"{"type":"llm","name":"Chat Completion"}"#),
                attr("braintrust.input_json", #"[{"role":"system","content":"Be terse."},{"role":"user","content":"Name a color"}]"#),
                // What Braintrust's OpenAI wrapper logs as output: the response's `choices`.
                attr(
                    "braintrust.output_json",
                    #"[{"index":0,"message":{"role":"assistant","content":"Blue","tool_calls":null},"logprobs":null,"finish_reason":"stop"}]"#
                ),
                attr(
                    "braintrust.metrics",
                    #"{"prompt_tokens":25,"completion_tokens":1,"tokens":26,"prompt_cached_tokens":0,"completion_reasoning_tokens":0,"time_to_first_token":0.31}"#
                ),
                attr("braintrust.metadata", #"{"model":"gpt-4o-mini","temperature":0,"max_tokens":5,"provider":"openai"}"#),
                attr("braintrust.scores", #"{"exact_match":1,"helpfulness":0.2}"#),
            ]))

        #expect(call.convention == .braintrust)
        #expect(call.conventions == [.braintrust])
        #expect(call.operation == nil)
        #expect(call.provider == nil)
        #expect(call.model == "gpt-4o-mini")
        #expect(call.requestModel == "gpt-4o-mini")
        #expect(call.input == [LLMMessage(role: "system", text: "Be terse."), LLMMessage(role: "user", text: "Name a color")])
        #expect(call.output == [LLMMessage(role: "assistant", text: "Blue", finishReason: "stop")])
        #expect(call.systemInstructions == "Be terse.")
        #expect(call.tokens == TokenUsage(input: 25, output: 1, cacheRead: 0, reasoning: 0, total: 26))
        var parameters = LLMParameters()
        parameters.temperature = 0
        parameters.maxTokens = 5
        #expect(call.parameters == parameters)
        #expect(
            call.prompt
                == PromptReference(
                    id: "implicit-28c7339ead79",
                    versionHash: "28c7339ead79c720e67160d2f681384ad23a59bf8514c3c2e01d09a4d701441f", isImplicit: true))
        #expect(call.latencyMs == 1234.5)
        #expect(approximately(call.cost.usd, 29e-6))  // 25 × $1 + 1 × $4
        #expect(call.cost.source == .priceTable)
        #expect(call.scores == [Score(name: "exact_match", value: 1), Score(name: "helpfulness", value: 0.2)])
        #expect(call.isFlagged)
        #expect(call.isAggregate == false)
        #expect(call.isError == false)
    }

    @Test func flattenedAttributes() throws {
        let call = try #require(
            extract([
                attr("braintrust.span_attributes.type", "llm"),
                attr("braintrust.span_attributes.name", "generate"),
                attr("braintrust.input", "Name a color"),
                attr("braintrust.output", "Green"),
                attr("braintrust.metrics.prompt_tokens", 11),
                attr("braintrust.metrics.completion_tokens", 2),
                attr("braintrust.metrics.tokens", 13),
                attr("braintrust.metrics.prompt_cached_tokens", 4),
                attr("braintrust.metrics.prompt_cache_creation_tokens", 3),
                attr("braintrust.metrics.completion_reasoning_tokens", 1),
                attr("braintrust.metadata.model", "claude-3-5-sonnet-latest"),
                attr("braintrust.metadata.temperature", 0.5),
                attr("braintrust.metadata.top_p", 0.9),
                attr("braintrust.scores.factuality", 0.75),
            ]))

        #expect(call.convention == .braintrust)
        #expect(call.conventions == [.braintrust])
        #expect(call.operation == nil)
        #expect(call.provider == nil)
        #expect(call.model == "claude-3-5-sonnet-latest")
        #expect(call.requestModel == "claude-3-5-sonnet-latest")
        #expect(call.input == [LLMMessage(role: "user", text: "Name a color")])
        #expect(call.output == [LLMMessage(role: "assistant", text: "Green")])
        #expect(call.systemInstructions == nil)
        #expect(call.tokens == TokenUsage(input: 11, output: 2, cacheRead: 4, cacheWrite: 3, reasoning: 1, total: 13))
        var parameters = LLMParameters()
        parameters.temperature = 0.5
        parameters.topP = 0.9
        #expect(call.parameters == parameters)
        #expect(call.prompt == nil)
        #expect(call.latencyMs == 1234.5)
        // 4 uncached × $3 + 4 reads × $0.3 + 3 writes × $3.75 + 2 output × $15, per million.
        #expect(approximately(call.cost.usd, 54.45e-6))
        #expect(call.cost.source == .priceTable)
        #expect(call.scores == [Score(name: "factuality", value: 0.75)])
        #expect(call.isFlagged == false)
        #expect(call.isAggregate == false)
    }
}

@Suite struct LangfuseConventionTests {
    @Test func generationObservation() throws {
        let call = try #require(
            extract([
                attr("langfuse.observation.type", "generation"),
                attr("langfuse.observation.model.name", "gpt-4o"),
                attr("langfuse.observation.model.parameters", #"{"temperature":0.3,"max_tokens":200}"#),
                attr("langfuse.observation.input", #"[{"role":"user","content":"Translate hello to German"}]"#),
                attr("langfuse.observation.output", #"{"role":"assistant","content":"Hallo"}"#),
                attr("langfuse.observation.usage_details", #"{"input":12,"output":3,"total":15}"#),
                attr("langfuse.observation.cost_details", #"{"input":0.00003,"output":0.00003,"total":0.00006}"#),
                attr("langfuse.observation.prompt.name", "translator"),
                attr("langfuse.observation.prompt.version", 2),
            ]))

        #expect(call.convention == .langfuse)
        #expect(call.conventions == [.langfuse])
        #expect(call.operation == nil)
        #expect(call.provider == nil)
        #expect(call.model == "gpt-4o")
        #expect(call.requestModel == nil)
        #expect(call.input == [LLMMessage(role: "user", text: "Translate hello to German")])
        #expect(call.output == [LLMMessage(role: "assistant", text: "Hallo")])
        #expect(call.systemInstructions == nil)
        #expect(call.tokens == TokenUsage(input: 12, output: 3, total: 15))
        var parameters = LLMParameters()
        parameters.temperature = 0.3
        parameters.maxTokens = 200
        #expect(call.parameters == parameters)
        #expect(call.prompt == PromptReference(id: "translator", version: "2", versionHash: "2"))
        #expect(call.latencyMs == 1234.5)
        #expect(call.cost == Cost(usd: 0.00006, source: .span))
        #expect(call.scores.isEmpty)
        #expect(call.isAggregate == false)
        #expect(call.isError == false)
    }

    /// Langfuse usage types are disjoint (its total is their sum): `input` excludes the cached tokens and
    /// `output` the reasoning tokens, which Spindle's input and output counts include.
    @Test func cachedAndReasoningUsageTypesAreAddedToInputAndOutput() throws {
        let openAI = try #require(
            extract([
                attr("langfuse.observation.type", "generation"),
                attr("langfuse.observation.model.name", "gpt-4o-mini"),
                attr(
                    "langfuse.observation.usage_details",
                    #"{"input":80,"input_cached_tokens":20,"output":10,"output_reasoning_tokens":30,"total":140}"#),
            ]))
        #expect(openAI.tokens == TokenUsage(input: 100, output: 40, cacheRead: 20, reasoning: 30, total: 140))
        #expect(approximately(openAI.cost.usd, 250e-6))  // 80 × $1 + 20 × $0.5 + 40 × $4

        let anthropic = try #require(
            extract([
                attr("langfuse.observation.type", "generation"),
                attr("langfuse.observation.model.name", "claude-3-5-sonnet-20241022"),
                attr(
                    "langfuse.observation.usage_details",
                    #"{"input":50,"cache_read_input_tokens":100,"cache_creation_input_tokens":30,"output":20}"#),
            ]))
        #expect(anthropic.tokens == TokenUsage(input: 180, output: 20, cacheRead: 100, cacheWrite: 30, total: 200))
        // 50 × $3 + 100 × $0.3 + 30 × $3.75 + 20 × $15, per million.
        #expect(approximately(anthropic.cost.usd, 592.5e-6))
    }
}
