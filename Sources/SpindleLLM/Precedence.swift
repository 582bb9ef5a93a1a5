/// Every attribute (or attribute family, or event) a field can come from. The raw value is the name
/// in the conventions, for reading.
enum Source: String {
    case genAIOperationName = "gen_ai.operation.name"
    case openinferenceSpanKind = "openinference.span.kind"
    case llmRequestType = "llm.request.type"
    case langfuseObservationType = "langfuse.observation.type"
    case braintrustSpanAttributesType = "braintrust.span_attributes.type"
    case traceloopSpanKind = "traceloop.span.kind"
    case genAIProviderName = "gen_ai.provider.name"
    case genAISystem = "gen_ai.system"
    case llmProvider = "llm.provider"
    case llmSystem = "llm.system"
    case genAIResponseModel = "gen_ai.response.model"
    case genAIRequestModel = "gen_ai.request.model"
    case llmResponseModelName = "llm.response.model_name"
    case llmModelName = "llm.model_name"
    case langfuseObservationModelName = "langfuse.observation.model.name"
    case braintrustMetadataModel = "braintrust.metadata.model"
    case llmInvocationParameters = "llm.invocation_parameters"
    case genAIInputMessages = "gen_ai.input.messages"
    case llmInputMessages = "llm.input_messages"
    case genAIPromptIndexed = "gen_ai.prompt.{i}"
    case inputValue = "input.value"
    case traceloopEntityInput = "traceloop.entity.input"
    case braintrustInput = "braintrust.input"
    case langfuseObservationInput = "langfuse.observation.input"
    case messageEvents = "message events"
    case genAIOutputMessages = "gen_ai.output.messages"
    case llmOutputMessages = "llm.output_messages"
    case genAICompletionIndexed = "gen_ai.completion.{i}"
    case outputValue = "output.value"
    case traceloopEntityOutput = "traceloop.entity.output"
    case braintrustOutput = "braintrust.output"
    case langfuseObservationOutput = "langfuse.observation.output"
    case genAIChoice = "gen_ai.choice"
    case genAISystemInstructions = "gen_ai.system_instructions"
    case genAIUsage = "gen_ai.usage"
    case genAIUsageLegacy = "gen_ai.usage (legacy)"
    case llmTokenCount = "llm.token_count"
    case llmUsage = "llm.usage"
    case braintrustMetrics = "braintrust.metrics"
    case langfuseObservationUsageDetails = "langfuse.observation.usage_details"
    case genAIRequest = "gen_ai.request"
    case llmTopK = "llm.top_k"
    case braintrustMetadata = "braintrust.metadata"
    case langfuseObservationModelParameters = "langfuse.observation.model.parameters"
    case genAIPromptName = "gen_ai.prompt.name"
    case traceloopPromptKey = "traceloop.prompt.key"
    case langfuseObservationPromptName = "langfuse.observation.prompt.name"
    case promptId = "prompt.id"
    case traceloopPromptVersionHash = "traceloop.prompt.version_hash"
    case genAIPromptVersion = "gen_ai.prompt.version"
    case llmPromptTemplateVersion = "llm.prompt_template.version"
    case traceloopPromptVersion = "traceloop.prompt.version"
    case langfuseObservationPromptVersion = "langfuse.observation.prompt.version"
    case llmPromptTemplateTemplate = "llm.prompt_template.template"
    case traceloopPromptTemplate = "traceloop.prompt.template"
    case genAIPromptVariable = "gen_ai.prompt.variable"
    case llmPromptTemplateVariables = "llm.prompt_template.variables"
    case traceloopPromptTemplateVariables = "traceloop.prompt.template_variables"
    case genAIUsageCost = "gen_ai.usage.cost"
    case llmCostTotal = "llm.cost.total"
    case langfuseObservationCostDetails = "langfuse.observation.cost_details"
    case genAIEvaluationResult = "gen_ai.evaluation.result"
    case annotations = "annotations"
    case braintrustScores = "braintrust.scores"
}

/// Which source wins when several conventions give the same field on one span: the table in
/// LLM-CONVENTIONS ("first hit wins"), as data. Each field's list names its sources, best first; the
/// extractors offer values by source, and `Pick` keeps the best one offered.
enum Precedence {
    static let kind = SourceList([
        .genAIOperationName, .openinferenceSpanKind, .llmRequestType, .langfuseObservationType,
        .braintrustSpanAttributesType, .traceloopSpanKind,
    ])
    static let operation = SourceList([.genAIOperationName, .llmRequestType, .openinferenceSpanKind])
    static let provider = SourceList([.genAIProviderName, .genAISystem, .llmProvider, .llmSystem])
    static let model = SourceList([
        .genAIResponseModel, .genAIRequestModel, .llmResponseModelName, .llmModelName,
        .langfuseObservationModelName, .braintrustMetadataModel,
    ])
    static let requestModel = SourceList([
        .genAIRequestModel, .llmInvocationParameters, .llmModelName, .braintrustMetadataModel,
    ])
    static let input = SourceList([
        .genAIInputMessages, .llmInputMessages, .genAIPromptIndexed, .inputValue, .traceloopEntityInput,
        .braintrustInput, .langfuseObservationInput, .messageEvents,
    ])
    static let output = SourceList([
        .genAIOutputMessages, .llmOutputMessages, .genAICompletionIndexed, .outputValue,
        .traceloopEntityOutput, .braintrustOutput, .langfuseObservationOutput, .genAIChoice,
    ])
    static let systemInstructions = SourceList([.genAISystemInstructions])
    static let tokens = SourceList([
        .genAIUsage, .genAIUsageLegacy, .llmTokenCount, .llmUsage, .braintrustMetrics,
        .langfuseObservationUsageDetails,
    ])
    static let parameters = SourceList([
        .genAIRequest, .llmInvocationParameters, .llmTopK, .braintrustMetadata,
        .langfuseObservationModelParameters,
    ])
    static let promptID = SourceList([.genAIPromptName, .traceloopPromptKey, .langfuseObservationPromptName, .promptId])
    static let promptVersionHash = SourceList([.traceloopPromptVersionHash])
    static let promptVersion = SourceList([
        .genAIPromptVersion, .llmPromptTemplateVersion, .traceloopPromptVersion,
        .langfuseObservationPromptVersion,
    ])
    static let promptTemplate = SourceList([.llmPromptTemplateTemplate, .traceloopPromptTemplate])
    static let promptVariables = SourceList([
        .genAIPromptVariable, .llmPromptTemplateVariables, .traceloopPromptTemplateVariables,
    ])
    static let cost = SourceList([.genAIUsageCost, .llmCostTotal, .langfuseObservationCostDetails])
    static let scores = SourceList([.genAIEvaluationResult, .annotations, .braintrustScores])
}

/// The best value offered for one field so far, by the field's precedence list.
struct Pick<Value> {
    private let sources: SourceList
    private(set) var value: Value?
    private(set) var convention: Convention?
    private var rank = Int.max

    init(_ sources: SourceList) { self.sources = sources }

    /// Offers `value` (ignored when nil) from `source`, which must be in the field's list.
    mutating func offer(_ value: Value?, from source: Source, _ convention: Convention) {
        guard let value else { return }
        guard let position = sources.rank(of: source) else {
            assertionFailure("\(source.rawValue) is not in this field's precedence list")
            return
        }
        guard position < rank else { return }
        self.value = value
        self.convention = convention
        rank = position
    }
}

/// A precedence list kept for the whole run: a `Pick` refers to it without reference counting (every
/// span builds some thirty of them, and retaining an array for each cost a tenth of extraction).
struct SourceList: @unchecked Sendable {
    private let sources: UnsafeBufferPointer<Source>

    init(_ sources: [Source]) {
        let buffer = UnsafeMutableBufferPointer<Source>.allocate(capacity: sources.count)
        _ = buffer.initialize(from: sources)
        self.sources = UnsafeBufferPointer(buffer)  // never freed: the lists are static
    }

    /// Where `source` is in the list (0 is best).
    func rank(of source: Source) -> Int? { sources.firstIndex(of: source) }
}
