import SpindleModel
import Testing
@testable import SpindleLLM

/// Several conventions on one span: the precedence table in LLM-CONVENTIONS decides ("first hit wins").
/// Each chain test puts every source on the span, best first, then drops the best one at a time: each
/// step must pick the next source in the table.
@Suite struct PrecedenceTests {
    /// A model call, so that the field under test is the only question.
    let llm = [attr("openinference.span.kind", "LLM")]

    @Test func modelFromResponseModelBeforeOpenInference() throws {
        let call = try #require(
            extract(llm + [attr("llm.model_name", "gpt-4o-oi"), attr("gen_ai.response.model", "gpt-4o-2024-08-06")]))
        #expect(call.model == "gpt-4o-2024-08-06")
    }

    @Test func modelChain() {
        let sources = [
            ("gen_ai.response.model", "m1"), ("gen_ai.request.model", "m2"), ("llm.response.model_name", "m3"),
            ("llm.model_name", "m4"), ("langfuse.observation.model.name", "m5"), ("braintrust.metadata.model", "m6"),
        ]
        for first in sources.indices {
            let call = extract(llm + sources[first...].map { attr($0.0, $0.1) })
            #expect(call?.model == sources[first].1, "without the \(first) best sources")
        }
    }

    @Test func requestModelFromGenAIThenInvocationParametersThenModelName() {
        let all = [
            attr("gen_ai.request.model", "r1"), attr("llm.invocation_parameters", #"{"model":"r2"}"#),
            attr("llm.model_name", "r3"),
        ]
        #expect(extract(llm + all)?.requestModel == "r1")
        #expect(extract(llm + all.dropFirst())?.requestModel == "r2")
        #expect(extract(llm + all.dropFirst(2))?.requestModel == "r3")
    }

    @Test func providerChain() {
        let sources = [("gen_ai.provider.name", "p1"), ("gen_ai.system", "p2"), ("llm.provider", "p3"), ("llm.system", "p4")]
        for first in sources.indices {
            #expect(extract(llm + sources[first...].map { attr($0.0, $0.1) })?.provider == sources[first].1)
        }
    }

    /// `gen_ai.input.messages` → `llm.input_messages.*` → `gen_ai.prompt.{i}.*` → `input.value` →
    /// `traceloop.entity.input` → `braintrust.input` → (Langfuse) → message events.
    @Test func inputChain() {
        let sources: [(attributes: [Attribute], events: [SpanEvent], text: String)] = [
            ([attr("gen_ai.input.messages", #"[{"role":"user","parts":[{"type":"text","content":"from genai"}]}]"#)], [], "from genai"),
            ([attr("llm.input_messages.0.message.role", "user"), attr("llm.input_messages.0.message.content", "from oi")], [], "from oi"),
            ([attr("gen_ai.prompt.0.role", "user"), attr("gen_ai.prompt.0.content", "from openllmetry")], [], "from openllmetry"),
            ([attr("input.value", "from input.value")], [], "from input.value"),
            ([attr("traceloop.entity.input", "from traceloop")], [], "from traceloop"),
            ([attr("braintrust.input", "from braintrust")], [], "from braintrust"),
            ([attr("langfuse.observation.input", "from langfuse")], [], "from langfuse"),
            ([], [event("gen_ai.user.message", [attr("content", "from events")])], "from events"),
        ]
        for first in sources.indices {
            let rest = sources[first...]
            let call = extract(llm + rest.flatMap(\.attributes), events: rest.flatMap(\.events))
            #expect(call?.input.map(\.text) == [sources[first].text])
        }
    }

    @Test func outputChain() {
        let sources: [(attributes: [Attribute], events: [SpanEvent], text: String)] = [
            ([attr("gen_ai.output.messages", #"[{"role":"assistant","parts":[{"type":"text","content":"from genai"}]}]"#)], [], "from genai"),
            ([attr("llm.output_messages.0.message.role", "assistant"), attr("llm.output_messages.0.message.content", "from oi")], [], "from oi"),
            ([attr("gen_ai.completion.0.role", "assistant"), attr("gen_ai.completion.0.content", "from openllmetry")], [], "from openllmetry"),
            ([attr("output.value", "from output.value")], [], "from output.value"),
            ([attr("traceloop.entity.output", "from traceloop")], [], "from traceloop"),
            ([attr("braintrust.output", "from braintrust")], [], "from braintrust"),
            ([attr("langfuse.observation.output", "from langfuse")], [], "from langfuse"),
            ([], [event("gen_ai.choice", [attr("message", kv(["role": .string("assistant"), "content": .string("from choice")]))])], "from choice"),
        ]
        for first in sources.indices {
            let rest = sources[first...]
            let call = extract(llm + rest.flatMap(\.attributes), events: rest.flatMap(\.events))
            #expect(call?.output.map(\.text) == [sources[first].text])
        }
    }

    /// `gen_ai.usage.*` → legacy `prompt_tokens`/`completion_tokens` → `llm.token_count.*` → `braintrust.metrics`
    /// → Langfuse usage.
    @Test func tokenChain() {
        let sources: [[Attribute]] = [
            [attr("gen_ai.usage.input_tokens", 10), attr("gen_ai.usage.output_tokens", 1)],
            [attr("gen_ai.usage.prompt_tokens", 20), attr("gen_ai.usage.completion_tokens", 2)],
            [attr("llm.token_count.prompt", 30), attr("llm.token_count.completion", 3)],
            [attr("braintrust.metrics", #"{"prompt_tokens":40,"completion_tokens":4}"#)],
            [attr("langfuse.observation.usage_details", #"{"input":50,"output":5}"#)],
        ]
        for first in sources.indices {
            let call = extract(llm + sources[first...].flatMap { $0 })
            #expect(call?.tokens.input == (first + 1) * 10)
            #expect(call?.tokens.output == first + 1)
            #expect(call?.tokens.estimated == false)
        }
    }

    @Test func tokenFieldsArePickedOneByOne() throws {
        // The GenAI counts win; a detail only OpenInference gives is still taken.
        let call = try #require(
            extract(
                llm + [
                    attr("llm.token_count.prompt", 999), attr("llm.token_count.prompt_details.cache_read", 60),
                    attr("gen_ai.usage.input_tokens", 100), attr("gen_ai.usage.output_tokens", 7),
                ]))
        #expect(call.tokens == TokenUsage(input: 100, output: 7, cacheRead: 60, total: 107))
    }

    /// `gen_ai.request.*` → keys of `llm.invocation_parameters` → `llm.top_k`, field by field.
    @Test func parameterPrecedence() throws {
        let genAI = [attr("gen_ai.request.temperature", 0.1)]
        let invocation = [attr("llm.invocation_parameters", #"{"temperature":0.9,"top_p":0.5,"top_k":7,"seed":3}"#)]
        let topK = [attr("llm.top_k", 3)]
        let braintrust = [attr("braintrust.metadata", #"{"temperature":0.6,"seed":11,"max_tokens":64}"#)]

        let all = try #require(extract(llm + braintrust + topK + invocation + genAI))
        #expect(all.parameters.temperature == 0.1)
        #expect(all.parameters.topP == 0.5)
        #expect(all.parameters.topK == 7)
        #expect(all.parameters.seed == 3)
        #expect(all.parameters.maxTokens == 64)

        let withoutGenAI = try #require(extract(llm + braintrust + topK + invocation))
        #expect(withoutGenAI.parameters.temperature == 0.9)
        let withoutInvocation = try #require(extract(llm + braintrust + topK))
        #expect(withoutInvocation.parameters.topK == 3)
        #expect(withoutInvocation.parameters.temperature == 0.6)
        #expect(withoutInvocation.parameters.seed == 11)
    }

    /// `gen_ai.prompt.name` → `traceloop.prompt.key` → `langfuse.observation.prompt.name` → `prompt.id`.
    @Test func promptIDChain() {
        let sources = [
            ("gen_ai.prompt.name", "p-genai"), ("traceloop.prompt.key", "p-traceloop"),
            ("langfuse.observation.prompt.name", "p-langfuse"), ("prompt.id", "p-openinference"),
        ]
        for first in sources.indices {
            let call = extract(llm + sources[first...].map { attr($0.0, $0.1) })
            #expect(call?.prompt?.id == sources[first].1)
            #expect(call?.prompt?.isImplicit == false)
        }
    }

    /// `traceloop.prompt.version_hash` → version labels in table order → the hash of the template.
    @Test func versionChain() throws {
        let template = [attr("llm.prompt_template.template", "Count {entity}"), attr("traceloop.prompt.template", "other")]
        let labels: [(key: String, value: String)] = [
            ("gen_ai.prompt.version", "7"), ("llm.prompt_template.version", "v-oi"), ("traceloop.prompt.version", "5"),
            ("langfuse.observation.prompt.version", "9"),
        ]
        let id = [attr("prompt.id", "counter")]

        let hashed = try #require(
            extract(llm + id + template + [attr("traceloop.prompt.version_hash", "h-traceloop")] + labels.map { attr($0.key, $0.value) })?.prompt)
        #expect(hashed.versionHash == "h-traceloop")
        #expect(hashed.version == "7")  // the label is kept beside the given hash
        #expect(hashed.template == "Count {entity}")

        for first in labels.indices {
            let prompt = extract(llm + id + template + labels[first...].map { attr($0.key, $0.value) })?.prompt
            #expect(prompt?.version == labels[first].value)
            #expect(prompt?.versionHash == labels[first].value)
        }

        let unlabeled = try #require(extract(llm + id + template)?.prompt)
        #expect(unlabeled.version == nil)
        // SHA-256("Count {entity}"), computed with sha256sum.
        #expect(unlabeled.versionHash == "dff6cf43194651979db7735aa762c12d852bcf7860880e6ee173a47aa037df2f")
    }

    /// `gen_ai.usage.cost` → `llm.cost.total` → `langfuse.observation.cost_details` → the price table.
    @Test func costChain() {
        let priced = [attr("gen_ai.request.model", "gpt-4o"), attr("gen_ai.usage.input_tokens", 1000), attr("gen_ai.usage.output_tokens", 0)]
        let sources = [
            attr("gen_ai.usage.cost", 0.5), attr("llm.cost.total", 0.25),
            attr("langfuse.observation.cost_details", #"{"total":0.125}"#),
        ]
        for first in sources.indices {
            let call = extract(llm + priced + sources[first...])
            #expect(call?.cost == Cost(usd: [0.5, 0.25, 0.125][first], source: .span))
        }
        let fromTable = extract(llm + priced)
        #expect(fromTable?.cost.source == .priceTable)
        #expect(approximately(fromTable?.cost.usd, 2000e-6))
    }

    @Test func langfuseCostWithoutTotalIsTheSumOfItsParts() {
        let call = extract(llm + [attr("langfuse.observation.cost_details", #"{"input":0.25,"output":0.5}"#)])
        #expect(call?.cost == Cost(usd: 0.75, source: .span))
    }

    /// `gen_ai.evaluation.result` events → OpenInference annotations → `braintrust.scores`: the whole list
    /// comes from the best source.
    @Test func scoreChain() {
        let events = [event("gen_ai.evaluation.result", [attr("gen_ai.evaluation.name", "ev"), attr("gen_ai.evaluation.score.value", 0.9)])]
        let annotations = [attr("annotations.0.annotation.name", "an"), attr("annotations.0.annotation.score", 0.8)]
        let braintrust = [attr("braintrust.scores", #"{"bt":0.1}"#)]

        #expect(extract(llm + annotations + braintrust, events: events)?.scores == [Score(name: "ev", value: 0.9)])
        #expect(extract(llm + annotations + braintrust)?.scores == [Score(name: "an", value: 0.8)])
        let braintrustOnly = extract(llm + braintrust)
        #expect(braintrustOnly?.scores == [Score(name: "bt", value: 0.1)])
        #expect(braintrustOnly?.isFlagged == true)
    }

    /// The convention that identified the call follows the "is an LLM call" row; all contributors are listed.
    @Test func identifyingConventionChain() {
        let markers: [(Attribute, Convention)] = [
            (attr("gen_ai.operation.name", "chat"), .otelGenAI), (attr("openinference.span.kind", "LLM"), .openInference),
            (attr("llm.request.type", "chat"), .openLLMetry), (attr("langfuse.observation.type", "generation"), .langfuse),
            (attr("braintrust.span_attributes", #"{"type":"llm"}"#), .braintrust),
        ]
        for first in markers.indices {
            let call = extract(markers[first...].map(\.0))
            #expect(call?.convention == markers[first].1)
            #expect(call?.conventions == ConventionSet(markers[first...].map(\.1)))
        }
    }

    @Test func theBestKindSourceDecidesEvenWhenItSaysNotACall() {
        #expect(extract([attr("gen_ai.operation.name", "execute_tool"), attr("openinference.span.kind", "LLM")]) == nil)
        #expect(extract([attr("gen_ai.operation.name", "chat"), attr("openinference.span.kind", "TOOL")])?.convention == .otelGenAI)
    }

    @Test func pickKeepsTheBestOfferWhateverTheOrder() {
        var pick = Pick<String>(Precedence.model)
        pick.offer("m4", from: .llmModelName, .openInference)
        pick.offer(nil, from: .genAIResponseModel, .otelGenAI)
        pick.offer("m5", from: .langfuseObservationModelName, .langfuse)
        #expect(pick.value == "m4")
        #expect(pick.convention == .openInference)
        pick.offer("m1", from: .genAIResponseModel, .otelGenAI)
        pick.offer("m2", from: .genAIRequestModel, .otelGenAI)
        #expect(pick.value == "m1")
        #expect(pick.convention == .otelGenAI)
    }
}
