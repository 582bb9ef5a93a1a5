import SpindleCodec
import SpindleModel

/// OTel GenAI semantic conventions, current (≥ 1.37) and legacy: attributes, message events and
/// evaluation events.
enum GenAIConvention {
    static let callOperations: Set<String> = ["chat", "text_completion", "generate_content", "completion", "generate"]
    static let aggregateOperations: Set<String> = ["invoke_agent", "create_agent", "invoke_workflow"]
    static let messageEvents: [String: String] = [
        "gen_ai.system.message": "system", "gen_ai.user.message": "user", "gen_ai.assistant.message": "assistant",
        "gen_ai.tool.message": "tool",
    ]

    static func read(_ attributes: SpanAttributes, events: [SpanEvent], into fields: inout Fields) {
        let usesLegacy =
            attributes["gen_ai.usage.prompt_tokens"] != nil || attributes["gen_ai.usage.completion_tokens"] != nil
            || events.contains { messageEvents[$0.name] != nil || $0.name == "gen_ai.choice" }
        let convention: Convention = usesLegacy && attributes["gen_ai.input.messages"] == nil ? .otelGenAILegacy : .otelGenAI
        var offered = false
        func mark() { offered = true }

        if let operation = attributes.string("gen_ai.operation.name") {
            mark()
            let kind: CallKind =
                callOperations.contains(operation) ? .call : aggregateOperations.contains(operation) ? .aggregate : .other
            fields.kind.offer(kind, from: .genAIOperationName, convention)
            fields.operation.offer(operation, from: .genAIOperationName, convention)
        }
        fields.provider.offer(attributes.string("gen_ai.provider.name"), from: .genAIProviderName, convention)
        fields.provider.offer(attributes.string("gen_ai.system"), from: .genAISystem, convention)
        fields.model.offer(attributes.string("gen_ai.response.model"), from: .genAIResponseModel, convention)
        fields.model.offer(attributes.string("gen_ai.request.model"), from: .genAIRequestModel, convention)
        fields.requestModel.offer(attributes.string("gen_ai.request.model"), from: .genAIRequestModel, convention)

        // Messages (JSON strings or structured values).
        if let input = attributes["gen_ai.input.messages"] {
            mark()
            let parse = { MessageParsing.messages(SpanAttributes.json(input), defaultRole: "user") }
            var systemText: (() -> String?)?
            if case .string(let text) = input {
                systemText = {
                    switch SystemTextScan.systemText(in: text) {
                    case .success(let found): return found
                    case .failure: return MessageParsing.systemText(of: parse())
                    }
                }
            }
            fields.input.offer(Messages(parse, systemText: systemText), from: .genAIInputMessages, convention)
        }
        if let output = attributes["gen_ai.output.messages"] {
            mark()
            fields.output.offer(
                Messages { MessageParsing.messages(SpanAttributes.json(output), defaultRole: "assistant") },
                from: .genAIOutputMessages, convention)
        }
        fields.systemInstructions.offer(
            attributes.json("gen_ai.system_instructions").flatMap(MessageParsing.instructions),
            from: .genAISystemInstructions, convention)

        // Usage: current names, then the legacy ones.
        fields.inputTokens.offer(attributes.int("gen_ai.usage.input_tokens"), from: .genAIUsage, convention)
        fields.outputTokens.offer(attributes.int("gen_ai.usage.output_tokens"), from: .genAIUsage, convention)
        fields.totalTokens.offer(attributes.int("gen_ai.usage.total_tokens"), from: .genAIUsage, convention)
        fields.cacheReadTokens.offer(
            attributes.int("gen_ai.usage.cache_read.input_tokens") ?? attributes.int("gen_ai.usage.cache_read_input_tokens"),
            from: .genAIUsage, convention)
        fields.cacheWriteTokens.offer(
            attributes.int("gen_ai.usage.cache_creation.input_tokens")
                ?? attributes.int("gen_ai.usage.cache_write.input_tokens")
                ?? attributes.int("gen_ai.usage.cache_creation_input_tokens"),
            from: .genAIUsage, convention)
        fields.reasoningTokens.offer(
            attributes.int("gen_ai.usage.reasoning.output_tokens"), from: .genAIUsage, convention)
        fields.inputTokens.offer(attributes.int("gen_ai.usage.prompt_tokens"), from: .genAIUsageLegacy, .otelGenAILegacy)
        fields.outputTokens.offer(
            attributes.int("gen_ai.usage.completion_tokens"), from: .genAIUsageLegacy, .otelGenAILegacy)
        fields.cost.offer(attributes.double("gen_ai.usage.cost"), from: .genAIUsageCost, convention)

        // Request parameters.
        if fields.readsParameters {
            let source = Source.genAIRequest
            fields.temperature.offer(attributes.double("gen_ai.request.temperature"), from: source, convention)
            fields.topP.offer(attributes.double("gen_ai.request.top_p"), from: source, convention)
            fields.topK.offer(attributes.double("gen_ai.request.top_k"), from: source, convention)
            fields.maxTokens.offer(attributes.int("gen_ai.request.max_tokens"), from: source, convention)
            fields.frequencyPenalty.offer(attributes.double("gen_ai.request.frequency_penalty"), from: source, convention)
            fields.presencePenalty.offer(attributes.double("gen_ai.request.presence_penalty"), from: source, convention)
            fields.seed.offer(attributes.int("gen_ai.request.seed"), from: source, convention)
            if case .array(let values)? = attributes["gen_ai.request.stop_sequences"] {
                fields.stopSequences.offer(values.compactMap(SpanAttributes.string), from: source, convention)
            }
            fields.stream.offer(attributes.bool("gen_ai.request.stream"), from: source, convention)
        }

        // Prompt management (newest drafts).
        fields.promptID.offer(attributes.string("gen_ai.prompt.name"), from: .genAIPromptName, convention)
        fields.promptVersion.offer(attributes.string("gen_ai.prompt.version"), from: .genAIPromptVersion, convention)
        if fields.readsParameters {
            let variables = attributes.withPrefix("gen_ai.prompt.variable.").map { ($0.name, SpanAttributes.json($0.value).text) }
            if !variables.isEmpty { fields.promptVariables.offer(variables, from: .genAIPromptVariable, convention) }
        }

        readEvents(events, convention: convention, into: &fields, offered: &offered)
        if offered || attributes["gen_ai.request.model"] != nil || attributes["gen_ai.usage.input_tokens"] != nil {
            fields.seen.insert(convention)
        }
    }

    private static func readEvents(
        _ events: [SpanEvent], convention: Convention, into fields: inout Fields, offered: inout Bool
    ) {
        var input: [LLMMessage] = []
        var output: [LLMMessage] = []
        var scores: [Score] = []
        for event in events {
            let attributes = SpanAttributes(event.attributes)
            if let role = messageEvents[event.name] {
                var message = LLMMessage(
                    role: attributes.string("role") ?? role, text: attributes.json("content").map(\.text) ?? "")
                message.toolCallID = attributes.string("id") ?? attributes.string("tool_call_id")
                if let calls = attributes.json("tool_calls"),
                    let parsed = MessageParsing.message(.object([("role", .string(role)), ("tool_calls", calls)]), defaultRole: role)
                {
                    message.toolCalls = parsed.toolCalls
                }
                input.append(message)
            } else if event.name == "gen_ai.choice" {
                let body = attributes.json("message") ?? .object([])
                var message =
                    MessageParsing.message(body, defaultRole: "assistant")
                    ?? LLMMessage(role: "assistant", text: attributes.json("content").map(\.text) ?? "")
                message.finishReason = attributes.string("finish_reason") ?? message.finishReason
                output.append(message)
            } else if event.name == "gen_ai.client.inference.operation.details" {
                if let messages = attributes.json("gen_ai.input.messages") {
                    fields.input.offer(
                        Messages(parsed: MessageParsing.messages(messages, defaultRole: "user")), from: .messageEvents, .otelGenAI)
                }
                if let messages = attributes.json("gen_ai.output.messages") {
                    fields.output.offer(
                        Messages(parsed: MessageParsing.messages(messages, defaultRole: "assistant")), from: .genAIChoice, .otelGenAI)
                }
                if let system = attributes.json("gen_ai.system_instructions").flatMap(MessageParsing.instructions) {
                    fields.systemInstructions.offer(system, from: .genAISystemInstructions, .otelGenAI)
                }
                offered = true
            } else if event.name == "gen_ai.evaluation.result",
                let value = attributes.double("gen_ai.evaluation.score.value")
            {
                scores.append(
                    Score(
                        name: attributes.string("gen_ai.evaluation.name") ?? "score", value: value,
                        label: attributes.string("gen_ai.evaluation.score.label"),
                        explanation: attributes.string("gen_ai.evaluation.explanation")))
            }
        }
        if !input.isEmpty {
            fields.input.offer(Messages(parsed: input), from: .messageEvents, .otelGenAILegacy)
            fields.seen.insert(.otelGenAILegacy)
        }
        if !output.isEmpty {
            fields.output.offer(Messages(parsed: output), from: .genAIChoice, .otelGenAILegacy)
            fields.seen.insert(.otelGenAILegacy)
        }
        if !scores.isEmpty {
            fields.scores.offer(scores, from: .genAIEvaluationResult, convention)
            offered = true
        }
    }
}

/// OpenInference (Arize Phoenix).
enum OpenInferenceConvention {
    static func read(_ attributes: SpanAttributes, into fields: inout Fields) {
        let convention = Convention.openInference
        var offered = false
        if let kind = attributes.string("openinference.span.kind")?.uppercased() {
            offered = true
            let callKind: CallKind = kind == "LLM" ? .call : (kind == "AGENT" || kind == "CHAIN") ? .aggregate : .other
            fields.kind.offer(callKind, from: .openinferenceSpanKind, convention)
        }
        fields.model.offer(attributes.string("llm.response.model_name"), from: .llmResponseModelName, convention)
        fields.model.offer(attributes.string("llm.model_name"), from: .llmModelName, convention)
        fields.requestModel.offer(attributes.string("llm.model_name"), from: .llmModelName, convention)
        fields.provider.offer(attributes.string("llm.provider"), from: .llmProvider, convention)
        fields.provider.offer(attributes.string("llm.system"), from: .llmSystem, convention)

        let inputGroups = attributes.indexed("llm.input_messages.")
        if !inputGroups.isEmpty {
            offered = true
            fields.input.offer(
                Messages(parsed: MessageParsing.indexed(inputGroups, fieldPrefix: "message.", defaultRole: "user")),
                from: .llmInputMessages, convention)
            fields.operation.offer("chat", from: .openinferenceSpanKind, convention)
        }
        let outputGroups = attributes.indexed("llm.output_messages.")
        if !outputGroups.isEmpty {
            offered = true
            fields.output.offer(
                Messages(parsed: MessageParsing.indexed(outputGroups, fieldPrefix: "message.", defaultRole: "assistant")),
                from: .llmOutputMessages, convention)
        }
        if let value = attributes.json("input.value") {
            fields.input.offer(Messages(parsed: MessageParsing.messages(value, defaultRole: "user")), from: .inputValue, convention)
        }
        if let value = attributes.json("output.value") {
            fields.output.offer(Messages(parsed: MessageParsing.messages(value, defaultRole: "assistant")), from: .outputValue, convention)
        }

        let source = Source.llmTokenCount
        fields.inputTokens.offer(attributes.int("llm.token_count.prompt"), from: source, convention)
        fields.outputTokens.offer(attributes.int("llm.token_count.completion"), from: source, convention)
        fields.totalTokens.offer(attributes.int("llm.token_count.total"), from: source, convention)
        fields.cacheReadTokens.offer(attributes.int("llm.token_count.prompt_details.cache_read"), from: source, convention)
        fields.cacheWriteTokens.offer(attributes.int("llm.token_count.prompt_details.cache_write"), from: source, convention)
        fields.reasoningTokens.offer(
            attributes.int("llm.token_count.completion_details.reasoning"), from: source, convention)
        if attributes["llm.token_count.prompt"] != nil { offered = true }
        fields.cost.offer(attributes.double("llm.cost.total"), from: .llmCostTotal, convention)
        let invocation = attributes.json("llm.invocation_parameters")
        fields.offerParameters(invocation, from: .llmInvocationParameters, convention)
        // OpenInference's model name is the response model; the requested one is in the parameters.
        fields.requestModel.offer(invocation?["model"]?.stringValue, from: .llmInvocationParameters, convention)

        fields.promptID.offer(attributes.string("prompt.id"), from: .promptId, convention)
        fields.promptVersion.offer(
            attributes.string("llm.prompt_template.version"), from: .llmPromptTemplateVersion, convention)
        fields.promptTemplate.offer(
            attributes.string("llm.prompt_template.template"), from: .llmPromptTemplateTemplate, convention)
        if fields.readsParameters, case .object(let members)? = attributes.json("llm.prompt_template.variables") {
            fields.promptVariables.offer(
                members.map { ($0.key, $0.value.text) }, from: .llmPromptTemplateVariables, convention)
        }

        let annotations = attributes.indexed("annotations.").compactMap { group -> Score? in
            guard let name = group.fields["annotation.name"].flatMap(SpanAttributes.string),
                let value = group.fields["annotation.score"].flatMap(SpanAttributes.double)
            else { return nil }
            return Score(
                name: name, value: value, label: group.fields["annotation.label"].flatMap(SpanAttributes.string),
                explanation: group.fields["annotation.explanation"].flatMap(SpanAttributes.string))
        }
        if !annotations.isEmpty { fields.scores.offer(annotations, from: .annotations, convention) }
        if offered || attributes["llm.model_name"] != nil { fields.seen.insert(convention) }
    }
}

/// OpenLLMetry / Traceloop.
enum OpenLLMetryConvention {
    static func read(_ attributes: SpanAttributes, into fields: inout Fields) {
        let convention = Convention.openLLMetry
        var offered = false
        if let type = attributes.string("llm.request.type")?.lowercased() {
            offered = true
            fields.kind.offer(type == "chat" || type == "completion" ? .call : .other, from: .llmRequestType, convention)
            fields.operation.offer(type, from: .llmRequestType, convention)
        }
        if let kind = attributes.string("traceloop.span.kind")?.lowercased() {
            offered = true
            fields.kind.offer(
                kind == "workflow" || kind == "agent" ? .aggregate : .other, from: .traceloopSpanKind, convention)
        }
        // Indexed prompt/completion attributes; `gen_ai.prompt.name` etc. are not indexed and are skipped.
        let prompts = attributes.indexed("gen_ai.prompt.")
        if !prompts.isEmpty {
            offered = true
            fields.input.offer(
                Messages(parsed: MessageParsing.indexed(prompts, fieldPrefix: "", defaultRole: "user")), from: .genAIPromptIndexed, convention)
        }
        let completions = attributes.indexed("gen_ai.completion.")
        if !completions.isEmpty {
            offered = true
            fields.output.offer(
                Messages(parsed: MessageParsing.indexed(completions, fieldPrefix: "", defaultRole: "assistant")),
                from: .genAICompletionIndexed, convention)
        }
        if let value = attributes.json("traceloop.entity.input") {
            fields.input.offer(Messages(parsed: MessageParsing.messages(value, defaultRole: "user")), from: .traceloopEntityInput, convention)
        }
        if let value = attributes.json("traceloop.entity.output") {
            fields.output.offer(
                Messages(parsed: MessageParsing.messages(value, defaultRole: "assistant")), from: .traceloopEntityOutput, convention)
        }
        fields.totalTokens.offer(attributes.int("llm.usage.total_tokens"), from: .llmUsage, convention)
        if fields.readsParameters { fields.topK.offer(attributes.double("llm.top_k"), from: .llmTopK, convention) }

        fields.promptID.offer(attributes.string("traceloop.prompt.key"), from: .traceloopPromptKey, convention)
        fields.promptVersionHash.offer(
            attributes.string("traceloop.prompt.version_hash"), from: .traceloopPromptVersionHash, convention)
        fields.promptVersion.offer(
            attributes.string("traceloop.prompt.version"), from: .traceloopPromptVersion, convention)
        fields.promptTemplate.offer(
            attributes.string("traceloop.prompt.template"), from: .traceloopPromptTemplate, convention)
        if fields.readsParameters {
            let variables = attributes.withPrefix("traceloop.prompt.template_variables.").map {
                ($0.name, SpanAttributes.json($0.value).text)
            }
            if !variables.isEmpty {
                fields.promptVariables.offer(variables, from: .traceloopPromptTemplateVariables, convention)
            }
        }
        if attributes["traceloop.prompt.key"] != nil { offered = true }
        if offered { fields.seen.insert(convention) }
    }
}

/// Braintrust's OTel attributes: JSON strings, or flattened `braintrust.<field>.<key>`.
enum BraintrustConvention {
    static func read(_ attributes: SpanAttributes, into fields: inout Fields) {
        let convention = Convention.braintrust
        var offered = false
        let spanAttributes = object(attributes, "braintrust.span_attributes")
        if let type = spanAttributes?["type"]?.stringValue?.lowercased() {
            offered = true
            let kind: CallKind = type == "llm" ? .call : (type == "task" || type == "eval") ? .aggregate : .other
            fields.kind.offer(kind, from: .braintrustSpanAttributesType, convention)
        }
        if let input = attributes.json("braintrust.input_json") ?? attributes.json("braintrust.input") {
            offered = true
            fields.input.offer(Messages(parsed: MessageParsing.messages(input, defaultRole: "user")), from: .braintrustInput, convention)
        }
        if let output = attributes.json("braintrust.output_json") ?? attributes.json("braintrust.output") {
            offered = true
            fields.output.offer(Messages(parsed: MessageParsing.messages(output, defaultRole: "assistant")), from: .braintrustOutput, convention)
        }
        if let metrics = object(attributes, "braintrust.metrics") {
            offered = true
            let source = Source.braintrustMetrics
            fields.inputTokens.offer(metrics["prompt_tokens"]?.intValue, from: source, convention)
            fields.outputTokens.offer(metrics["completion_tokens"]?.intValue, from: source, convention)
            fields.totalTokens.offer(metrics["tokens"]?.intValue, from: source, convention)
            fields.cacheReadTokens.offer(metrics["prompt_cached_tokens"]?.intValue, from: source, convention)
            fields.cacheWriteTokens.offer(metrics["prompt_cache_creation_tokens"]?.intValue, from: source, convention)
            fields.reasoningTokens.offer(metrics["completion_reasoning_tokens"]?.intValue, from: source, convention)
        }
        if let metadata = object(attributes, "braintrust.metadata") {
            fields.model.offer(metadata["model"]?.stringValue, from: .braintrustMetadataModel, convention)
            fields.requestModel.offer(metadata["model"]?.stringValue, from: .braintrustMetadataModel, convention)
            fields.offerParameters(metadata, from: .braintrustMetadata, convention)
        }
        if case .object(let members)? = object(attributes, "braintrust.scores") {
            let scores = members.compactMap { member in member.value.doubleValue.map { Score(name: member.key, value: $0) } }
            if !scores.isEmpty { fields.scores.offer(scores, from: .braintrustScores, convention) }
        }
        if offered { fields.seen.insert(convention) }
    }

    /// `key` as a JSON object, from its JSON string or from flattened `key.<name>` attributes.
    static func object(_ attributes: SpanAttributes, _ key: String) -> JSONValue? {
        if let json = attributes.value(forKey: key).map(SpanAttributes.json), case .object = json { return json }
        let flattened = attributes.withPrefix(key + ".")
        guard !flattened.isEmpty else { return nil }
        return .object(flattened.map { ($0.name, SpanAttributes.json($0.value)) })
    }
}

/// Langfuse's OTel attributes.
enum LangfuseConvention {
    static func read(_ attributes: SpanAttributes, into fields: inout Fields) {
        let convention = Convention.langfuse
        var offered = false
        if let type = attributes.string("langfuse.observation.type")?.lowercased() {
            offered = true
            let kind: CallKind = type == "generation" ? .call : (type == "agent" || type == "chain") ? .aggregate : .other
            fields.kind.offer(kind, from: .langfuseObservationType, convention)
        }
        fields.model.offer(
            attributes.string("langfuse.observation.model.name"), from: .langfuseObservationModelName, convention)
        if let input = attributes.json("langfuse.observation.input") {
            fields.input.offer(
                Messages(parsed: MessageParsing.messages(input, defaultRole: "user")), from: .langfuseObservationInput, convention)
        }
        if let output = attributes.json("langfuse.observation.output") {
            fields.output.offer(
                Messages(parsed: MessageParsing.messages(output, defaultRole: "assistant")), from: .langfuseObservationOutput, convention)
        }
        if let usage = attributes.json("langfuse.observation.usage_details"), case .object = usage {
            let source = Source.langfuseObservationUsageDetails
            // Langfuse usage types are disjoint (its total is their sum): "input" and "output" exclude the
            // cached and reasoning tokens, which TokenUsage's input and output include.
            let cacheRead = (usage["cache_read_input_tokens"] ?? usage["input_cached_tokens"])?.intValue
            let cacheWrite = usage["cache_creation_input_tokens"]?.intValue
            let reasoning = usage["output_reasoning_tokens"]?.intValue
            let input = usage["input"]?.intValue.map { $0 + (cacheRead ?? 0) + (cacheWrite ?? 0) }
            let output = usage["output"]?.intValue.map { $0 + (reasoning ?? 0) }
            fields.inputTokens.offer(input ?? usage["prompt_tokens"]?.intValue, from: source, convention)
            fields.outputTokens.offer(output ?? usage["completion_tokens"]?.intValue, from: source, convention)
            fields.totalTokens.offer(usage["total"]?.intValue, from: source, convention)
            fields.cacheReadTokens.offer(cacheRead, from: source, convention)
            fields.cacheWriteTokens.offer(cacheWrite, from: source, convention)
            fields.reasoningTokens.offer(reasoning, from: source, convention)
        }
        if let costs = attributes.json("langfuse.observation.cost_details"), case .object(let members) = costs {
            let total = costs["total"]?.doubleValue ?? members.compactMap { $0.value.doubleValue }.reduce(0, +)
            fields.cost.offer(members.isEmpty ? nil : total, from: .langfuseObservationCostDetails, convention)
        }
        if fields.readsParameters {
            fields.offerParameters(
                attributes.json("langfuse.observation.model.parameters"), from: .langfuseObservationModelParameters,
                convention)
        }
        fields.promptID.offer(
            attributes.string("langfuse.observation.prompt.name"), from: .langfuseObservationPromptName, convention)
        fields.promptVersion.offer(
            attributes.string("langfuse.observation.prompt.version"), from: .langfuseObservationPromptVersion,
            convention)
        if offered || attributes["langfuse.observation.model.name"] != nil { fields.seen.insert(convention) }
    }
}
