/// Which source wins when several conventions give the same field on one span: the table in
/// LLM-CONVENTIONS ("first hit wins"), as data. Each field's list names its sources, best first; the
/// extractors offer values by source name, and `Pick` keeps the best one offered.
enum Precedence {
    static let kind = [
        "gen_ai.operation.name", "openinference.span.kind", "llm.request.type", "langfuse.observation.type",
        "braintrust.span_attributes.type", "traceloop.span.kind",
    ]
    static let operation = ["gen_ai.operation.name", "llm.request.type", "openinference.span.kind"]
    static let provider = ["gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"]
    static let model = [
        "gen_ai.response.model", "gen_ai.request.model", "llm.response.model_name", "llm.model_name",
        "langfuse.observation.model.name", "braintrust.metadata.model",
    ]
    static let requestModel = [
        "gen_ai.request.model", "llm.invocation_parameters", "llm.model_name", "braintrust.metadata.model",
    ]
    static let input = [
        "gen_ai.input.messages", "llm.input_messages", "gen_ai.prompt.{i}", "input.value", "traceloop.entity.input",
        "braintrust.input", "langfuse.observation.input", "message events",
    ]
    static let output = [
        "gen_ai.output.messages", "llm.output_messages", "gen_ai.completion.{i}", "output.value",
        "traceloop.entity.output", "braintrust.output", "langfuse.observation.output", "gen_ai.choice",
    ]
    static let systemInstructions = ["gen_ai.system_instructions"]
    static let tokens = [
        "gen_ai.usage", "gen_ai.usage (legacy)", "llm.token_count", "llm.usage", "braintrust.metrics",
        "langfuse.observation.usage_details",
    ]
    static let parameters = [
        "gen_ai.request", "llm.invocation_parameters", "llm.top_k", "braintrust.metadata",
        "langfuse.observation.model.parameters",
    ]
    static let promptID = ["gen_ai.prompt.name", "traceloop.prompt.key", "langfuse.observation.prompt.name", "prompt.id"]
    static let promptVersionHash = ["traceloop.prompt.version_hash"]
    static let promptVersion = [
        "gen_ai.prompt.version", "llm.prompt_template.version", "traceloop.prompt.version",
        "langfuse.observation.prompt.version",
    ]
    static let promptTemplate = ["llm.prompt_template.template", "traceloop.prompt.template"]
    static let promptVariables = [
        "gen_ai.prompt.variable", "llm.prompt_template.variables", "traceloop.prompt.template_variables",
    ]
    static let cost = ["gen_ai.usage.cost", "llm.cost.total", "langfuse.observation.cost_details"]
    static let scores = ["gen_ai.evaluation.result", "annotations", "braintrust.scores"]
}

/// The best value offered for one field so far, by the field's precedence list.
struct Pick<Value> {
    private let sources: [String]
    private(set) var value: Value?
    private(set) var convention: Convention?
    private var rank = Int.max

    init(_ sources: [String]) { self.sources = sources }

    /// Offers `value` (ignored when nil) from `source`, which must be in the field's list.
    mutating func offer(_ value: Value?, from source: String, _ convention: Convention) {
        guard let value else { return }
        guard let position = sources.firstIndex(of: source) else {
            assertionFailure("\(source) is not in this field's precedence list")
            return
        }
        guard position < rank else { return }
        self.value = value
        self.convention = convention
        rank = position
    }
}
