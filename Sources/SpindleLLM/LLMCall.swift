/// One LLM call as Spindle understands it, whatever instrumentation produced the span: the normalized
/// record that is stored with the span and from which analytics and monitor events are derived.
public struct LLMCall: Sendable, Hashable {
    /// The convention that identified the call (see `Convention`), and every one that contributed a field.
    public var convention: Convention
    public var conventions: ConventionSet
    public var operation: String?
    public var provider: String?
    /// The model that answered (response model), else the requested one.
    public var model: String?
    public var requestModel: String?
    public var input: [LLMMessage]
    public var output: [LLMMessage]
    public var systemInstructions: String?
    public var tokens: TokenUsage
    public var parameters: LLMParameters
    public var prompt: PromptReference?
    public var latencyMs: Double
    public var cost: Cost
    /// Evaluation scores by name, in the order found.
    public var scores: [Score]
    /// An agent or workflow span carrying its children's aggregate usage: shown, never counted again.
    public var isAggregate: Bool
    public var isError: Bool

    /// Any score below this flags the call (the EvalGuard rule).
    public static let flagThreshold = 0.3

    public var isFlagged: Bool { scores.contains { $0.value < Self.flagThreshold } }

    /// The mean of the scores, nil without any.
    public var meanScore: Double? {
        scores.isEmpty ? nil : scores.reduce(0) { $0 + $1.value } / Double(scores.count)
    }

    public init(convention: Convention) {
        self.convention = convention
        conventions = [convention]
        input = []
        output = []
        tokens = TokenUsage()
        parameters = LLMParameters()
        latencyMs = 0
        cost = Cost(usd: nil, source: .unknown, reason: "not computed")
        scores = []
        isAggregate = false
        isError = false
    }
}

/// The instrumentation conventions Spindle reads (`../LLM-CONVENTIONS`).
public enum Convention: String, Sendable, Hashable, CaseIterable, Comparable {
    case otelGenAI = "otel_genai"
    case otelGenAILegacy = "otel_genai_legacy"
    case openInference = "openinference"
    case openLLMetry = "openllmetry"
    case braintrust
    case langfuse
    /// No convention marked the span as a call, but it names a model.
    case modelAttribute = "model_attribute"

    public static func < (lhs: Convention, rhs: Convention) -> Bool { lhs.bit < rhs.bit }

    /// The convention's bit in a `ConventionSet`, in declaration order.
    var bit: UInt8 {
        switch self {
        case .otelGenAI: 1 << 0
        case .otelGenAILegacy: 1 << 1
        case .openInference: 1 << 2
        case .openLLMetry: 1 << 3
        case .braintrust: 1 << 4
        case .langfuse: 1 << 5
        case .modelAttribute: 1 << 6
        }
    }
}

/// A set of conventions, one bit each, iterated in declaration order. Every extraction builds one, and
/// hashing into a `Set` cost a tenth of extraction (a raw-value enum hashes its name).
public struct ConventionSet: Sendable, Hashable, Sequence, ExpressibleByArrayLiteral, CustomStringConvertible {
    private var bits: UInt8 = 0

    public init() {}

    public init<S: Sequence<Convention>>(_ conventions: S) {
        for convention in conventions { insert(convention) }
    }

    public init(arrayLiteral conventions: Convention...) { self.init(conventions) }

    public var isEmpty: Bool { bits == 0 }
    public func contains(_ convention: Convention) -> Bool { bits & convention.bit != 0 }
    public mutating func insert(_ convention: Convention) { bits |= convention.bit }
    public func union(_ other: ConventionSet) -> ConventionSet {
        var union = self
        union.bits |= other.bits
        return union
    }

    public func makeIterator() -> some IteratorProtocol<Convention> {
        Convention.allCases.lazy.filter(contains).makeIterator()
    }

    public var description: String { "[" + map(\.rawValue).joined(separator: ", ") + "]" }
}

public struct LLMMessage: Sendable, Hashable {
    public var role: String
    public var text: String
    public var toolCalls: [ToolCall]
    /// For a tool's answer: the call it answers.
    public var toolCallID: String?
    public var finishReason: String?

    public init(role: String, text: String, toolCalls: [ToolCall] = [], toolCallID: String? = nil, finishReason: String? = nil) {
        self.role = role
        self.text = text
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.finishReason = finishReason
    }
}

public struct ToolCall: Sendable, Hashable {
    public var id: String?
    public var name: String
    /// The arguments as the model wrote them (usually JSON text).
    public var arguments: String

    public init(id: String?, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// Token counts. `input` includes cached tokens (read and written), as the OTel GenAI conventions define it;
/// `reasoning` is part of `output`.
public struct TokenUsage: Sendable, Hashable {
    public var input: Int?
    public var output: Int?
    public var cacheRead: Int?
    public var cacheWrite: Int?
    public var reasoning: Int?
    public var total: Int?
    /// True when input or output was estimated from the text because the span did not carry it.
    public var estimated = false

    public init(
        input: Int? = nil, output: Int? = nil, cacheRead: Int? = nil, cacheWrite: Int? = nil, reasoning: Int? = nil,
        total: Int? = nil, estimated: Bool = false
    ) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.reasoning = reasoning
        self.total = total
        self.estimated = estimated
    }
}

/// Request parameters; only those the span carried are set.
public struct LLMParameters: Sendable, Hashable {
    public var temperature: Double?
    public var topP: Double?
    public var topK: Double?
    public var maxTokens: Int?
    public var frequencyPenalty: Double?
    public var presencePenalty: Double?
    public var seed: Int?
    public var stopSequences: [String]?
    public var stream: Bool?

    public init() {}
}

/// Which prompt (and which version of it) produced the call.
public struct PromptReference: Sendable, Hashable {
    public var id: String
    /// The version label the span gave (`3`, `production`), if any.
    public var version: String?
    /// The version's identity: the given hash or version, else SHA-256 of the template (or, for an implicit
    /// prompt, of the system instructions), in hex.
    public var versionHash: String
    public var template: String?
    public var variables: [(name: String, value: String)]
    /// True when the prompt was not named by the span: it is identified by its template or system instructions.
    public var isImplicit: Bool

    public init(
        id: String, version: String? = nil, versionHash: String, template: String? = nil,
        variables: [(name: String, value: String)] = [], isImplicit: Bool = false
    ) {
        self.id = id
        self.version = version
        self.versionHash = versionHash
        self.template = template
        self.variables = variables
        self.isImplicit = isImplicit
    }

    public static func == (lhs: PromptReference, rhs: PromptReference) -> Bool {
        lhs.id == rhs.id && lhs.version == rhs.version && lhs.versionHash == rhs.versionHash
            && lhs.template == rhs.template && lhs.isImplicit == rhs.isImplicit
            && lhs.variables.map(\.name) == rhs.variables.map(\.name)
            && lhs.variables.map(\.value) == rhs.variables.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(versionHash)
    }
}

public struct Cost: Sendable, Hashable {
    public enum Source: String, Sendable, Hashable {
        /// The span carried the cost.
        case span
        /// Computed from the tokens and the price table.
        case priceTable = "price_table"
        /// Not known (unknown model, no tokens); `usd` is nil, never 0.
        case unknown
    }

    public var usd: Double?
    public var source: Source
    /// Why the cost is unknown, or which price was used.
    public var reason: String?

    public init(usd: Double?, source: Source, reason: String? = nil) {
        self.usd = usd
        self.source = source
        self.reason = reason
    }
}

public struct Score: Sendable, Hashable {
    public var name: String
    public var value: Double
    public var label: String?
    public var explanation: String?

    public init(name: String, value: Double, label: String? = nil, explanation: String? = nil) {
        self.name = name
        self.value = value
        self.label = label
        self.explanation = explanation
    }
}
