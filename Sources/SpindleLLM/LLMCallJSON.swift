public import SpindleCodec

/// The normalized call as JSON: how the query API shows it
/// (the `llm` object of a span). `decode` reads back what `write` wrote.
public enum LLMCallJSON {
    public static func encode(_ call: LLMCall) -> [UInt8] {
        var writer = JSONWriter(capacity: 512 + call.input.reduce(0) { $0 + $1.text.utf8.count } + call.output.reduce(0) {
            $0 + $1.text.utf8.count
        })
        write(call, into: &writer)
        return writer.bytes
    }

    public static func write(_ call: LLMCall, into writer: inout JSONWriter) {
        writer.raw("{\"convention\":")
        writer.string(call.convention.rawValue)
        writer.raw(",\"conventions\":[")
        for (index, convention) in call.conventions.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(convention.rawValue)
        }
        writer.raw("],\"operation\":")
        writer.string(orNull: call.operation)
        writer.raw(",\"provider\":")
        writer.string(orNull: call.provider)
        writer.raw(",\"model\":")
        writer.string(orNull: call.model)
        writer.raw(",\"request_model\":")
        writer.string(orNull: call.requestModel)
        writer.raw(",\"input\":")
        messages(call.input, &writer)
        writer.raw(",\"output\":")
        messages(call.output, &writer)
        writer.raw(",\"system_instructions\":")
        writer.string(orNull: call.systemInstructions)
        writer.raw(",\"tokens\":{\"input\":")
        writer.number(orNull: call.tokens.input)
        writer.raw(",\"output\":")
        writer.number(orNull: call.tokens.output)
        writer.raw(",\"cache_read\":")
        writer.number(orNull: call.tokens.cacheRead)
        writer.raw(",\"cache_write\":")
        writer.number(orNull: call.tokens.cacheWrite)
        writer.raw(",\"reasoning\":")
        writer.number(orNull: call.tokens.reasoning)
        writer.raw(",\"total\":")
        writer.number(orNull: call.tokens.total)
        writer.raw(",\"estimated\":")
        writer.bool(call.tokens.estimated)
        writer.raw("},\"temperature\":")
        writer.number(orNull: call.parameters.temperature)
        writer.raw(",\"top_p\":")
        writer.number(orNull: call.parameters.topP)
        writer.raw(",\"top_k\":")
        writer.number(orNull: call.parameters.topK)
        writer.raw(",\"parameters\":")
        parameters(call.parameters, &writer)
        writer.raw(",\"prompt_id\":")
        writer.string(orNull: call.prompt?.id)
        writer.raw(",\"version_hash\":")
        writer.string(orNull: call.prompt?.versionHash)
        writer.raw(",\"prompt\":")
        if let prompt = call.prompt {
            writer.raw("{\"id\":")
            writer.string(prompt.id)
            writer.raw(",\"version\":")
            writer.string(orNull: prompt.version)
            writer.raw(",\"version_hash\":")
            writer.string(prompt.versionHash)
            writer.raw(",\"template\":")
            writer.string(orNull: prompt.template)
            writer.raw(",\"variables\":{")
            for (index, variable) in prompt.variables.enumerated() {
                if index > 0 { writer.raw(",") }
                writer.key(variable.name)
                writer.string(variable.value)
            }
            writer.raw("},\"implicit\":")
            writer.bool(prompt.isImplicit)
            writer.raw("}")
        } else {
            writer.null()
        }
        writer.raw(",\"latency_ms\":")
        writer.number(call.latencyMs)
        writer.raw(",\"cost_usd\":")
        writer.number(orNull: call.cost.usd)
        writer.raw(",\"cost\":{\"usd\":")
        writer.number(orNull: call.cost.usd)
        writer.raw(",\"source\":")
        writer.string(call.cost.source.rawValue)
        writer.raw(",\"reason\":")
        writer.string(orNull: call.cost.reason)
        writer.raw("},\"scores\":")
        scores(call.scores, into: &writer)
        writer.raw(",\"score_details\":[")
        for (index, score) in call.scores.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"name\":")
            writer.string(score.name)
            writer.raw(",\"value\":")
            writer.number(score.value)
            writer.raw(",\"label\":")
            writer.string(orNull: score.label)
            writer.raw(",\"explanation\":")
            writer.string(orNull: score.explanation)
            writer.raw("}")
        }
        writer.raw("],\"flagged\":")
        writer.bool(call.isFlagged)
        writer.raw(",\"aggregate\":")
        writer.bool(call.isAggregate)
        writer.raw(",\"error\":")
        writer.bool(call.isError)
        writer.raw("}")
    }

    /// Scores as one object, `{"name": value, …}` (EvalGuard's, Braintrust's and DeepRails' shape).
    public static func scores(_ scores: [Score], into writer: inout JSONWriter) {
        writer.raw("{")
        for (index, score) in scores.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.key(score.name)
            writer.number(score.value)
        }
        writer.raw("}")
    }

    private static func messages(_ messages: [LLMMessage], _ writer: inout JSONWriter) {
        writer.raw("[")
        for (index, message) in messages.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"role\":")
            writer.string(message.role)
            writer.raw(",\"text\":")
            writer.string(message.text)
            if !message.toolCalls.isEmpty {
                writer.raw(",\"tool_calls\":[")
                for (callIndex, call) in message.toolCalls.enumerated() {
                    if callIndex > 0 { writer.raw(",") }
                    writer.raw("{\"id\":")
                    writer.string(orNull: call.id)
                    writer.raw(",\"name\":")
                    writer.string(call.name)
                    writer.raw(",\"arguments\":")
                    writer.string(call.arguments)
                    writer.raw("}")
                }
                writer.raw("]")
            }
            if let id = message.toolCallID {
                writer.raw(",\"tool_call_id\":")
                writer.string(id)
            }
            if let reason = message.finishReason {
                writer.raw(",\"finish_reason\":")
                writer.string(reason)
            }
            writer.raw("}")
        }
        writer.raw("]")
    }

    private static func parameters(_ parameters: LLMParameters, _ writer: inout JSONWriter) {
        writer.raw("{")
        var first = true
        func key(_ name: StaticString, _ writer: inout JSONWriter) {
            if !first { writer.raw(",") }
            first = false
            writer.key(name)
        }
        if let value = parameters.temperature { key("temperature", &writer); writer.number(value) }
        if let value = parameters.topP { key("top_p", &writer); writer.number(value) }
        if let value = parameters.topK { key("top_k", &writer); writer.number(value) }
        if let value = parameters.maxTokens { key("max_tokens", &writer); writer.number(value) }
        if let value = parameters.frequencyPenalty { key("frequency_penalty", &writer); writer.number(value) }
        if let value = parameters.presencePenalty { key("presence_penalty", &writer); writer.number(value) }
        if let value = parameters.seed { key("seed", &writer); writer.number(value) }
        if let value = parameters.stopSequences {
            key("stop_sequences", &writer)
            writer.raw("[")
            for (index, stop) in value.enumerated() {
                if index > 0 { writer.raw(",") }
                writer.string(stop)
            }
            writer.raw("]")
        }
        if let value = parameters.stream { key("stream", &writer); writer.bool(value) }
        writer.raw("}")
    }




    public struct DecodeError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a stored call back.
    public static func decode(_ bytes: [UInt8]) throws -> LLMCall {
        let json = try JSONValue.parse(bytes)
        guard let conventionName = json["convention"]?.stringValue, let convention = Convention(rawValue: conventionName)
        else { throw DecodeError(description: "stored LLM call without a known convention") }
        var call = LLMCall(convention: convention)
        call.conventions = ConventionSet((json["conventions"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Convention.init) })
        call.operation = json["operation"]?.stringValue
        call.provider = json["provider"]?.stringValue
        call.model = json["model"]?.stringValue
        call.requestModel = json["request_model"]?.stringValue
        call.input = decodeMessages(json["input"])
        call.output = decodeMessages(json["output"])
        call.systemInstructions = json["system_instructions"]?.stringValue
        if let tokens = json["tokens"] {
            call.tokens = TokenUsage(
                input: tokens["input"]?.intValue, output: tokens["output"]?.intValue,
                cacheRead: tokens["cache_read"]?.intValue, cacheWrite: tokens["cache_write"]?.intValue,
                reasoning: tokens["reasoning"]?.intValue, total: tokens["total"]?.intValue,
                estimated: tokens["estimated"] == .bool(true))
        }
        if let parameters = json["parameters"] {
            call.parameters.temperature = parameters["temperature"]?.doubleValue
            call.parameters.topP = parameters["top_p"]?.doubleValue
            call.parameters.topK = parameters["top_k"]?.doubleValue
            call.parameters.maxTokens = parameters["max_tokens"]?.intValue
            call.parameters.frequencyPenalty = parameters["frequency_penalty"]?.doubleValue
            call.parameters.presencePenalty = parameters["presence_penalty"]?.doubleValue
            call.parameters.seed = parameters["seed"]?.intValue
            call.parameters.stopSequences = parameters["stop_sequences"]?.arrayValue?.compactMap(\.stringValue)
            if case .bool(let flag)? = parameters["stream"] { call.parameters.stream = flag }
        }
        if let prompt = json["prompt"], let id = prompt["id"]?.stringValue,
            let versionHash = prompt["version_hash"]?.stringValue
        {
            call.prompt = PromptReference(
                id: id, version: prompt["version"]?.stringValue, versionHash: versionHash,
                template: prompt["template"]?.stringValue,
                variables: (prompt["variables"]?.objectValue ?? []).map { ($0.key, $0.value.text) },
                isImplicit: prompt["implicit"] == .bool(true))
        }
        call.latencyMs = json["latency_ms"]?.doubleValue ?? 0
        if let cost = json["cost"] {
            call.cost = Cost(
                usd: cost["usd"]?.doubleValue, source: cost["source"]?.stringValue.flatMap(Cost.Source.init) ?? .unknown,
                reason: cost["reason"]?.stringValue)
        }
        call.scores = (json["score_details"]?.arrayValue ?? []).compactMap { score in
            guard let name = score["name"]?.stringValue, let value = score["value"]?.doubleValue else { return nil }
            return Score(name: name, value: value, label: score["label"]?.stringValue, explanation: score["explanation"]?.stringValue)
        }
        call.isAggregate = json["aggregate"] == .bool(true)
        call.isError = json["error"] == .bool(true)
        return call
    }

    private static func decodeMessages(_ json: JSONValue?) -> [LLMMessage] {
        (json?.arrayValue ?? []).map { message in
            LLMMessage(
                role: message["role"]?.stringValue ?? "", text: message["text"]?.stringValue ?? "",
                toolCalls: (message["tool_calls"]?.arrayValue ?? []).map {
                    ToolCall(id: $0["id"]?.stringValue, name: $0["name"]?.stringValue ?? "", arguments: $0["arguments"]?.stringValue ?? "")
                },
                toolCallID: message["tool_call_id"]?.stringValue, finishReason: message["finish_reason"]?.stringValue)
        }
    }
}
