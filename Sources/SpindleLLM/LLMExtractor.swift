import Foundation
import SpindleCodec
public import SpindleModel

/// Finds the LLM call in a span, if there is one. Every span is read by one extractor per convention;
/// each offers the fields it finds, and `Precedence` decides which wins. Then the gaps are filled:
/// tokens estimated from text, the prompt version identified, the cost priced.
public struct LLMExtractor: Sendable {
    public var prices: PriceTable

    public init(prices: PriceTable) {
        self.prices = prices
    }

    /// How much of a call to build.
    public enum Detail: Sendable {
        /// Everything, messages included (reading a call back).
        case full
        /// What ingest stores: the figures. Messages are parsed only when they are needed to estimate
        /// missing tokens or to identify an unnamed prompt by its instructions.
        case figures
    }

    public func extract(_ span: Span, detail: Detail = .full) -> LLMCall? {
        let attributes = SpanAttributes(span.attributes)
        let hasGenAIEvents = span.events.contains { KeyFamilies(key: $0.name).contains(.genAI) }
        // Ordinary spans cost one pass over their keys.
        guard !attributes.families.isEmpty || hasGenAIEvents else { return nil }
        var fields = Fields()
        fields.readsParameters = detail == .full
        let families = attributes.families
        if families.contains(.genAI) || hasGenAIEvents {
            GenAIConvention.read(attributes, events: span.events, into: &fields)
        }
        if !families.isDisjoint(with: [.openInference, .llm]) { OpenInferenceConvention.read(attributes, into: &fields) }
        if !families.isDisjoint(with: [.llm, .traceloop, .genAIIndexed]) {
            OpenLLMetryConvention.read(attributes, into: &fields)
        }
        if families.contains(.braintrust) { BraintrustConvention.read(attributes, into: &fields) }
        if families.contains(.langfuse) { LangfuseConvention.read(attributes, into: &fields) }
        return fields.call(for: span, prices: prices, detail: detail)
    }
}

/// Messages as offered: parsed only if the call needs them (see `LLMExtractor.Detail`).
struct Messages {
    let parse: () -> [LLMMessage]
    /// The system text alone, when there is a cheaper way to it than parsing every message.
    let systemText: (() -> String?)?

    init(_ parse: @escaping () -> [LLMMessage], systemText: (() -> String?)? = nil) {
        self.parse = parse
        self.systemText = systemText
    }

    init(parsed: [LLMMessage]) {
        parse = { parsed }
        systemText = nil
    }
}

/// What a span says about itself as an LLM call.
enum CallKind {
    /// A model call: counted.
    case call
    /// An agent or workflow step: it may carry its children's usage, which must not be counted again.
    case aggregate
    /// Explicitly something else (embeddings, a tool, retrieval…).
    case other
}

/// The fields offered by the conventions, each with its precedence.
struct Fields {
    var kind = Pick<CallKind>(Precedence.kind)
    var operation = Pick<String>(Precedence.operation)
    var provider = Pick<String>(Precedence.provider)
    var model = Pick<String>(Precedence.model)
    var requestModel = Pick<String>(Precedence.requestModel)
    var input = Pick<Messages>(Precedence.input)
    var output = Pick<Messages>(Precedence.output)
    var systemInstructions = Pick<String>(Precedence.systemInstructions)
    var inputTokens = Pick<Int>(Precedence.tokens)
    var outputTokens = Pick<Int>(Precedence.tokens)
    var cacheReadTokens = Pick<Int>(Precedence.tokens)
    var cacheWriteTokens = Pick<Int>(Precedence.tokens)
    var reasoningTokens = Pick<Int>(Precedence.tokens)
    var totalTokens = Pick<Int>(Precedence.tokens)
    var temperature = Pick<Double>(Precedence.parameters)
    var topP = Pick<Double>(Precedence.parameters)
    var topK = Pick<Double>(Precedence.parameters)
    var maxTokens = Pick<Int>(Precedence.parameters)
    var frequencyPenalty = Pick<Double>(Precedence.parameters)
    var presencePenalty = Pick<Double>(Precedence.parameters)
    var seed = Pick<Int>(Precedence.parameters)
    var stopSequences = Pick<[String]>(Precedence.parameters)
    var stream = Pick<Bool>(Precedence.parameters)
    var promptID = Pick<String>(Precedence.promptID)
    var promptVersionHash = Pick<String>(Precedence.promptVersionHash)
    var promptVersion = Pick<String>(Precedence.promptVersion)
    var promptTemplate = Pick<String>(Precedence.promptTemplate)
    var promptVariables = Pick<[(name: String, value: String)]>(Precedence.promptVariables)
    var cost = Pick<Double>(Precedence.cost)
    var scores = Pick<[Score]>(Precedence.scores)
    /// Every convention that offered anything.
    var seen = ConventionSet()
    /// Whether readers offer request parameters and prompt variables. Ingest stores neither (a call read
    /// back is extracted again, in full), so it skips their lookups.
    var readsParameters = true

    /// Offers the request parameters found in a JSON object (`llm.invocation_parameters`, metadata).
    mutating func offerParameters(_ json: JSONValue?, from source: Source, _ convention: Convention) {
        guard readsParameters, let json, case .object = json else { return }
        temperature.offer(json["temperature"]?.doubleValue, from: source, convention)
        topP.offer(json["top_p"]?.doubleValue, from: source, convention)
        topK.offer(json["top_k"]?.doubleValue, from: source, convention)
        maxTokens.offer(
            (json["max_tokens"] ?? json["max_completion_tokens"] ?? json["max_output_tokens"])?.intValue, from: source,
            convention)
        frequencyPenalty.offer(json["frequency_penalty"]?.doubleValue, from: source, convention)
        presencePenalty.offer(json["presence_penalty"]?.doubleValue, from: source, convention)
        seed.offer(json["seed"]?.intValue, from: source, convention)
        if let stop = json["stop"] {
            stopSequences.offer(stop.arrayValue.map { $0.compactMap(\.stringValue) } ?? stop.stringValue.map { [$0] },
                from: source, convention)
        }
        if case .bool(let flag)? = json["stream"] { stream.offer(flag, from: source, convention) }
    }

    /// The call, or nil when the span is not one.
    func call(for span: Span, prices: PriceTable, detail: LLMExtractor.Detail = .full) -> LLMCall? {
        let convention: Convention
        var isAggregate = false
        switch kind.value {
        case .call?:
            convention = kind.convention!
        case .aggregate?:
            // An agent step is shown only when it carries usage (which then must not be counted again).
            guard inputTokens.value != nil || outputTokens.value != nil || totalTokens.value != nil else { return nil }
            convention = kind.convention!
            isAggregate = true
        case .other?:
            return nil
        case nil:
            guard model.value != nil else { return nil }
            convention = .modelAttribute
        }
        var call = LLMCall(convention: convention)
        call.conventions = seen.union([convention])
        call.isAggregate = isAggregate
        call.isError = span.status.code == .error
        call.operation = operation.value
        call.provider = provider.value
        call.model = model.value
        call.requestModel = requestModel.value
        let needsSystemText = systemInstructions.value == nil && promptID.value == nil && promptTemplate.value == nil
        if detail == .full || inputTokens.value == nil {
            call.input = input.value?.parse() ?? []
            call.systemInstructions = systemInstructions.value ?? Self.systemText(call.input)
        } else if needsSystemText, let messages = input.value {
            // Ingest with tokens known: only the instructions are needed, to identify the prompt.
            call.systemInstructions = messages.systemText.map { $0() } ?? Self.systemText(messages.parse())
        } else {
            call.systemInstructions = systemInstructions.value
        }
        call.output = detail == .full || outputTokens.value == nil ? output.value?.parse() ?? [] : []
        call.latencyMs = Double(span.durationNanos) / 1e6
        call.scores = scores.value ?? []

        var parameters = LLMParameters()
        parameters.temperature = temperature.value
        parameters.topP = topP.value
        parameters.topK = topK.value
        parameters.maxTokens = maxTokens.value
        parameters.frequencyPenalty = frequencyPenalty.value
        parameters.presencePenalty = presencePenalty.value
        parameters.seed = seed.value
        parameters.stopSequences = stopSequences.value
        parameters.stream = stream.value
        call.parameters = parameters

        call.tokens = TokenUsage(
            input: inputTokens.value, output: outputTokens.value, cacheRead: cacheReadTokens.value,
            cacheWrite: cacheWriteTokens.value, reasoning: reasoningTokens.value, total: totalTokens.value)
        TokenEstimate.fill(&call)
        call.prompt = PromptIdentity.reference(
            id: promptID.value, versionHash: promptVersionHash.value, version: promptVersion.value,
            template: promptTemplate.value, variables: promptVariables.value ?? [],
            systemInstructions: call.systemInstructions)
        if let given = cost.value {
            call.cost = Cost(usd: given, source: .span)
        } else {
            call.cost = prices.cost(of: call)
        }
        return call
    }

    /// System instructions given as system (or developer) messages in the input.
    private static func systemText(_ input: [LLMMessage]) -> String? { MessageParsing.systemText(of: input) }
}
