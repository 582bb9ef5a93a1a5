public import SpindleCodec

/// The normalized call as JSON: how it is stored (`llm_calls.call`) and how the query API shows it
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
        for (index, convention) in call.conventions.sorted().enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(convention.rawValue)
        }
        writer.raw("],\"operation\":")
        optional(call.operation, &writer)
        writer.raw(",\"provider\":")
        optional(call.provider, &writer)
        writer.raw(",\"model\":")
        optional(call.model, &writer)
        writer.raw(",\"request_model\":")
        optional(call.requestModel, &writer)
        writer.raw(",\"input\":")
        messages(call.input, &writer)
        writer.raw(",\"output\":")
        messages(call.output, &writer)
        writer.raw(",\"system_instructions\":")
        optional(call.systemInstructions, &writer)
        writer.raw(",\"tokens\":{\"input\":")
        optional(call.tokens.input, &writer)
        writer.raw(",\"output\":")
        optional(call.tokens.output, &writer)
        writer.raw(",\"cache_read\":")
        optional(call.tokens.cacheRead, &writer)
        writer.raw(",\"cache_write\":")
        optional(call.tokens.cacheWrite, &writer)
        writer.raw(",\"reasoning\":")
        optional(call.tokens.reasoning, &writer)
        writer.raw(",\"total\":")
        optional(call.tokens.total, &writer)
        writer.raw(",\"estimated\":")
        writer.bool(call.tokens.estimated)
        writer.raw("},\"temperature\":")
        optional(call.parameters.temperature, &writer)
        writer.raw(",\"top_p\":")
        optional(call.parameters.topP, &writer)
        writer.raw(",\"top_k\":")
        optional(call.parameters.topK, &writer)
        writer.raw(",\"parameters\":")
        parameters(call.parameters, &writer)
        writer.raw(",\"prompt_id\":")
        optional(call.prompt?.id, &writer)
        writer.raw(",\"version_hash\":")
        optional(call.prompt?.versionHash, &writer)
        writer.raw(",\"prompt\":")
        if let prompt = call.prompt {
            writer.raw("{\"id\":")
            writer.string(prompt.id)
            writer.raw(",\"version\":")
            optional(prompt.version, &writer)
            writer.raw(",\"version_hash\":")
            writer.string(prompt.versionHash)
            writer.raw(",\"template\":")
            optional(prompt.template, &writer)
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
        optional(call.cost.usd, &writer)
        writer.raw(",\"cost\":{\"usd\":")
        optional(call.cost.usd, &writer)
        writer.raw(",\"source\":")
        writer.string(call.cost.source.rawValue)
        writer.raw(",\"reason\":")
        optional(call.cost.reason, &writer)
        writer.raw("},\"scores\":{")
        for (index, score) in call.scores.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.key(score.name)
            writer.number(score.value)
        }
        writer.raw("},\"score_details\":[")
        for (index, score) in call.scores.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"name\":")
            writer.string(score.name)
            writer.raw(",\"value\":")
            writer.number(score.value)
            writer.raw(",\"label\":")
            optional(score.label, &writer)
            writer.raw(",\"explanation\":")
            optional(score.explanation, &writer)
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
                    optional(call.id, &writer)
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

    private static func optional(_ value: String?, _ writer: inout JSONWriter) {
        if let value { writer.string(value) } else { writer.null() }
    }

    private static func optional(_ value: Int?, _ writer: inout JSONWriter) {
        if let value { writer.number(value) } else { writer.null() }
    }

    private static func optional(_ value: Double?, _ writer: inout JSONWriter) {
        if let value { writer.number(value) } else { writer.null() }
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
        call.conventions = Set((json["conventions"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Convention.init) })
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
