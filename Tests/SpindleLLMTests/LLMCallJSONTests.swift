import Foundation
import SpindleCodec
import SpindleModel
import Testing
@testable import SpindleLLM

/// A call with every field set, and text that needs escaping.
func richCall() -> LLMCall {
    var call = LLMCall(convention: .openInference)
    call.conventions = [.openInference, .otelGenAI, .braintrust]
    call.operation = "chat"
    call.provider = "openai"
    call.model = "gpt-4o-2024-08-06"
    call.requestModel = "gpt-4o"
    call.systemInstructions = "Quote \"exactly\",\nkeep \\ backslashes,\ttabs and \u{01} controls."
    call.input = [
        LLMMessage(role: "system", text: call.systemInstructions!),
        LLMMessage(role: "user", text: "héllo wörld ✓ 👍"),
        LLMMessage(
            role: "assistant", text: "",
            toolCalls: [
                ToolCall(id: "call_1", name: "search", arguments: #"{"q":"x \"y\""}"#), ToolCall(id: nil, name: "noop", arguments: ""),
            ]),
        LLMMessage(role: "tool", text: "result", toolCallID: "call_1"),
        LLMMessage(role: "user", text: "And then?"),
    ]
    call.output = [LLMMessage(role: "assistant", text: "Done.", finishReason: "stop")]
    call.tokens = TokenUsage(input: 1200, output: 300, cacheRead: 1000, cacheWrite: 100, reasoning: 64, total: 1500, estimated: true)
    call.parameters.temperature = 0.2
    call.parameters.topP = 0.9
    call.parameters.topK = 40
    call.parameters.maxTokens = 512
    call.parameters.frequencyPenalty = 0.1
    call.parameters.presencePenalty = -0.5
    call.parameters.seed = 42
    call.parameters.stopSequences = ["END", "\n\n"]
    call.parameters.stream = true
    call.prompt = PromptReference(
        id: "weather-bot", version: "3", versionHash: "abc123", template: "Hi {name} in {place}",
        variables: [("name", "Ada"), ("place", "Paris")])
    call.latencyMs = 1234.5
    call.cost = Cost(usd: 0.00385, source: .priceTable, reason: "gpt-4o prices as of 2025-01-01")
    call.scores = [
        Score(name: "relevance", value: 0.9, label: "relevant", explanation: "on topic"), Score(name: "groundedness", value: 0.25),
    ]
    call.isAggregate = true
    call.isError = true
    return call
}

@Suite struct LLMCallJSONTests {
    @Test func richCallRoundTrips() throws {
        let call = richCall()
        #expect(try LLMCallJSON.decode(LLMCallJSON.encode(call)) == call)
    }

    @Test func emptyCallRoundTrips() throws {
        var call = LLMCall(convention: .modelAttribute)
        call.model = "gpt-4o"
        let decoded = try LLMCallJSON.decode(LLMCallJSON.encode(call))
        #expect(decoded == call)
        #expect(decoded.prompt == nil)
        #expect(decoded.parameters == LLMParameters())
    }

    @Test func extractedCallsRoundTrip() throws {
        let calls = [
            extract([
                attr("openinference.span.kind", "LLM"), attr("llm.model_name", "gpt-4o"), attr("prompt.id", "p"),
                attr("llm.prompt_template.template", "T {x}"), attr("llm.prompt_template.variables", #"{"x":"1"}"#),
                attr("llm.input_messages.0.message.role", "user"), attr("llm.input_messages.0.message.content", "hi"),
                attr("annotations.0.annotation.name", "a"), attr("annotations.0.annotation.score", 0.1),
            ]),
            extract([attr("gen_ai.operation.name", "invoke_agent"), attr("gen_ai.usage.input_tokens", 9)]),
        ]
        for call in calls {
            let call = try #require(call)
            #expect(try LLMCallJSON.decode(LLMCallJSON.encode(call)) == call)
        }
    }

    @Test func documentShape() throws {
        let json = try JSONValue.parse(LLMCallJSON.encode(richCall()))
        #expect(json["convention"] == .string("openinference"))
        #expect(json["conventions"] == .array([.string("otel_genai"), .string("openinference"), .string("braintrust")]))
        #expect(json["model"] == .string("gpt-4o-2024-08-06"))
        #expect(json["request_model"] == .string("gpt-4o"))
        #expect(json["tokens"]?["cache_read"] == .int(1000))
        #expect(json["tokens"]?["estimated"] == .bool(true))
        #expect(json["temperature"] == .double(0.2))
        #expect(json["parameters"]?["stop_sequences"] == .array([.string("END"), .string("\n\n")]))
        #expect(json["prompt_id"] == .string("weather-bot"))
        #expect(json["version_hash"] == .string("abc123"))
        #expect(json["prompt"]?["variables"]?["place"] == .string("Paris"))
        #expect(json["prompt"]?["implicit"] == .bool(false))
        #expect(json["cost_usd"] == .double(0.00385))
        #expect(json["cost"]?["source"] == .string("price_table"))
        #expect(json["scores"]?["groundedness"] == .double(0.25))
        #expect(json["score_details"]?.arrayValue?.first?["label"] == .string("relevant"))
        #expect(json["flagged"] == .bool(true))
        #expect(json["aggregate"] == .bool(true))
        #expect(json["error"] == .bool(true))
        let toolCalls = json["input"]?.arrayValue?[2]["tool_calls"]?.arrayValue
        #expect(toolCalls?[1]["id"] == .null)
        #expect(json["input"]?.arrayValue?[3]["tool_call_id"] == .string("call_1"))
        // Absent optionals are omitted from messages, and written as null elsewhere.
        #expect(json["input"]?.arrayValue?[0]["tool_calls"] == nil)
        #expect(try JSONValue.parse(LLMCallJSON.encode(LLMCall(convention: .braintrust)))["prompt"] == .null)
    }

    @Test func decodeRejectsAnUnknownConvention() {
        #expect(throws: (any Error).self) { try LLMCallJSON.decode(Array(#"{"convention":"carrier-pigeon"}"#.utf8)) }
        #expect(throws: (any Error).self) { try LLMCallJSON.decode(Array("not json".utf8)) }
    }
}

@Suite struct ConventionSetTests {
    @Test func holdsEachConventionOnceInDeclarationOrder() {
        var set: ConventionSet = [.langfuse, .otelGenAI]
        set.insert(.otelGenAI)
        #expect(Array(set) == [.otelGenAI, .langfuse])
        #expect(set.contains(.langfuse) && !set.contains(.braintrust))
        let all = set.union(ConventionSet(Convention.allCases.reversed()))
        #expect(Array(all) == Convention.allCases)
        #expect(ConventionSet().isEmpty && !all.isEmpty)
        #expect(all.description == "[" + Convention.allCases.map(\.rawValue).joined(separator: ", ") + "]")
    }
}

@Suite struct MonitorEventTests {
    let root = "0af7651916cd43dd8448eb211c80319c"
    let span = "b7ad6b7169203331"

    func monitorEvent(_ call: LLMCall, service: String? = "checkout-api") -> MonitorEvent {
        MonitorEvent(
            project: "proj-a", rootSpanID: root, spanID: span, service: service,
            createdAtUnixNano: 1_700_000_000_500_000_000, call: call)
    }

    func json(_ event: MonitorEvent) throws -> JSONValue {
        var writer = JSONWriter()
        event.write(into: &writer)
        return try JSONValue.parse(writer.bytes)
    }

    @Test func eventIDIsStableAndUUIDShaped() {
        let id = monitorEvent(richCall()).eventID
        // "evt-" and the first 32 hex digits of SHA-256("proj-a/<root>/<span>"), grouped 8-4-4-4-12.
        #expect(id == "evt-1bc3d367-1fad-50cc-4c3e-ee22c165f502")
        #expect(id.wholeMatch(of: /evt-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/) != nil)
        #expect(monitorEvent(LLMCall(convention: .langfuse)).eventID == id)  // the span's identity, not the call's content
        #expect(MonitorEvent.eventID(project: "proj-a", rootSpanID: root, spanID: "b7ad6b7169203332") != id)
        #expect(MonitorEvent.eventID(project: "proj-b", rootSpanID: root, spanID: span) != id)
    }

    @Test func deepRailsAndEvalGuardShapes() throws {
        let document = try json(monitorEvent(richCall()))
        #expect(document["event_id"] == .string("evt-1bc3d367-1fad-50cc-4c3e-ee22c165f502"))
        #expect(document["project"] == .string("proj-a"))
        #expect(document["root_span_id"] == .string(root))
        #expect(document["span_id"] == .string(span))
        #expect(document["created_at"] == .string("2023-11-14T22:13:20.500Z"))
        #expect(document["flagged"] == .bool(true))

        let deepRails = try #require(document["deeprails"])
        // The prompt is the last user message; the context the system instructions.
        #expect(deepRails["model_input"]?["prompt"] == .string("And then?"))
        #expect(deepRails["model_input"]?["context"] == .string(richCall().systemInstructions!))
        #expect(deepRails["model_output"]?["response"] == .string("Done."))
        #expect(deepRails["temperature"] == .double(0.2))
        #expect(deepRails["top_p"] == .double(0.9))
        #expect(deepRails["top_k"] == .int(40))
        #expect(deepRails["model"] == .string("gpt-4o-2024-08-06"))
        #expect(deepRails["tokens"]?["input_tokens"] == .int(1200))
        #expect(deepRails["tokens"]?["output_tokens"] == .int(300))

        let evalGuard = try #require(document["evalguard"])
        #expect(evalGuard["appId"] == .string("checkout-api"))
        #expect(evalGuard["model"] == .string("gpt-4o-2024-08-06"))
        #expect(evalGuard["input"] == .string("And then?"))
        #expect(evalGuard["output"] == .string("Done."))
        #expect(evalGuard["scores"] == .object([("relevance", .double(0.9)), ("groundedness", .double(0.25))]))
        #expect(evalGuard["latencyMs"] == .double(1234.5))
        #expect(evalGuard["costUsd"] == .double(0.00385))
        #expect(evalGuard["flagged"] == .bool(true))
    }

    @Test func flaggedOnlyBelowTheThreshold() throws {
        var call = richCall()
        call.scores = [Score(name: "a", value: 0.3), Score(name: "b", value: 1)]
        #expect(try json(monitorEvent(call))["flagged"] == .bool(false))
        #expect(try json(monitorEvent(call))["evalguard"]?["flagged"] == .bool(false))
        call.scores.append(Score(name: "c", value: 0.29))
        #expect(try json(monitorEvent(call))["flagged"] == .bool(true))
        call.scores = []
        #expect(try json(monitorEvent(call))["flagged"] == .bool(false))
    }

    @Test func unknownsAreNullOrEmpty() throws {
        var call = LLMCall(convention: .modelAttribute)
        call.input = [LLMMessage(role: "system", text: "S"), LLMMessage(role: "assistant", text: "earlier answer")]
        let document = try json(monitorEvent(call, service: nil))
        #expect(document["evalguard"]?["appId"] == .string("unknown_service"))
        #expect(document["evalguard"]?["costUsd"] == .null)
        #expect(document["evalguard"]?["model"] == .string(""))
        #expect(document["deeprails"]?["model"] == .null)
        #expect(document["deeprails"]?["temperature"] == .null)
        #expect(document["deeprails"]?["tokens"]?["input_tokens"] == .null)
        // No user message: the last non-system input message.
        #expect(document["deeprails"]?["model_input"]?["prompt"] == .string("earlier answer"))
    }
}
