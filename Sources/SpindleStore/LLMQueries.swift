import Foundation
public import SpindleLLM
public import SpindleModel

/// LLM calls counted together: a trace's, or a subtree's.
public struct LLMTotals: Sendable, Hashable {
    public var calls = 0
    public var inputTokens = 0
    public var outputTokens = 0
    public var totalTokens = 0
    /// The sum of the known costs.
    public var costUSD = 0.0

    public init() {}

    init(_ statement: SQLiteStatement, from column: Int32) {
        calls = Int(statement.int64(column))
        inputTokens = Int(statement.int64(column + 1))
        outputTokens = Int(statement.int64(column + 2))
        totalTokens = Int(statement.int64(column + 3))
        costUSD = statement.double(column + 4)
    }

    /// Adds one call, unless it is an agent span carrying its children's usage.
    public mutating func add(_ call: StoredLLMCall) {
        guard call.counted else { return }
        calls += 1
        inputTokens += call.inputTokens ?? 0
        outputTokens += call.outputTokens ?? 0
        totalTokens += call.totalTokens ?? 0
        costUSD += call.costUSD ?? 0
    }

    public static func + (lhs: LLMTotals, rhs: LLMTotals) -> LLMTotals {
        var sum = lhs
        sum.calls += rhs.calls
        sum.inputTokens += rhs.inputTokens
        sum.outputTokens += rhs.outputTokens
        sum.totalTokens += rhs.totalTokens
        sum.costUSD += rhs.costUSD
        return sum
    }
}

/// A stored LLM call: the figures stored with its span. The rest of the call (messages, parameters,
/// prompt) is read again from the span by the same extractor (`call(from:)`).
public struct StoredLLMCall: Sendable, Hashable {
    public var spanID: String
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var totalTokens: Int?
    public var cacheReadTokens: Int?
    public var tokensEstimated: Bool
    public var costUSD: Double?
    public var costSource: Cost.Source
    public var counted: Bool

    /// Reads the `columns` starting at `column`.
    init(spanID: String, _ row: SQLiteStatement, from column: Int32) {
        func optionalInt(_ index: Int32) -> Int? { row.isNull(index) ? nil : Int(row.int64(index)) }
        self.spanID = spanID
        inputTokens = optionalInt(column)
        outputTokens = optionalInt(column + 1)
        totalTokens = optionalInt(column + 2)
        cacheReadTokens = optionalInt(column + 3)
        tokensEstimated = row.int64(column + 4) != 0
        costUSD = row.isNull(column + 5) ? nil : row.double(column + 5)
        costSource = Cost.Source(rawValue: row.string(column + 6)) ?? .unknown
        counted = row.int64(column + 7) != 0
    }

    /// Where `llm_counted` is among `columns` (NULL: the span is no LLM call).
    static let countedOffset: Int32 = 7

    /// The columns `init(spanID:_:from:)` reads, of the span row `s`.
    static let columns =
        "s.llm_input_tokens, s.llm_output_tokens, s.llm_total_tokens, s.llm_cache_read_tokens, s.llm_tokens_estimated, s.llm_cost_usd, s.llm_cost_source, s.llm_counted"

    /// The extractor that reads stored spans again. Costs come from the stored figures, so its prices
    /// do not matter.
    private static let reader = LLMExtractor(prices: .bundled)

    /// The whole call: extracted again from the stored span (with its attributes decoded), with the
    /// stored figures (tokens as counted or estimated at ingest, cost as priced at ingest) kept.
    public func call(from span: Span) -> LLMCall? {
        guard var call = Self.reader.extract(span) else { return nil }
        call.tokens.input = inputTokens
        call.tokens.output = outputTokens
        call.tokens.total = totalTokens
        call.tokens.cacheRead = cacheReadTokens
        call.tokens.estimated = tokensEstimated
        let reason = costSource == .unknown ? call.cost.reason : costSource == .span ? "given by the span" : "priced at ingest"
        call.cost = Cost(usd: costUSD, source: costSource, reason: reason)
        call.isAggregate = !counted
        return call
    }
}

/// One call's figures for prompt analytics.
public struct PromptCallRow: Sendable, Hashable {
    public var versionHash: String
    public var startTimeUnixNano: UInt64
    public var latencyMs: Double
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var totalTokens: Int?
    public var costUSD: Double?
    public var score: Double?
    public var isError: Bool
}

/// A prompt version as recorded by the writer, with how often it was used.
public struct PromptVersionRow: Sendable, Hashable {
    public var project: String
    public var promptID: String
    public var versionHash: String
    public var version: String?
    public var template: String?
    public var isImplicit: Bool
    public var firstSeenUnixNano: UInt64
    public var lastSeenUnixNano: UInt64
    public var calls: Int
}

/// Filters for monitor events, newest first.
public struct MonitorEventQuery: Sendable, Hashable {
    public var project: String?
    public var flagged: Bool?
    /// Matches the response model or the requested one.
    public var model: String?
    public var since: UInt64?
    public var until: UInt64?
    public var limit = 100

    public init() {}
}

extension StoreReader {
    /// The LLM calls of one trace, by span id.
    public func llmCalls(rootSpanID: String, project: String) throws -> [String: StoredLLMCall] {
        let statement = try prepare(
            """
            SELECT s.span_id, \(StoredLLMCall.columns)
            FROM spans s
            WHERE s.project = ?1 AND s.root_span_id = ?2 AND s.llm_counted IS NOT NULL
            """)
        statement.bind(1, project)
        statement.bind(2, rootSpanID)
        var calls: [String: StoredLLMCall] = [:]
        while try statement.step() {
            let call = StoredLLMCall(spanID: statement.string(0), statement, from: 1)
            calls[call.spanID] = call
        }
        return calls
    }

    /// Every prompt version seen, newest use first, with call counts.
    public func promptVersions(project: String? = nil, promptID: String? = nil) throws -> [PromptVersionRow] {
        let statement = try prepare(
            """
            SELECT p.project, p.prompt_id, p.version_hash, p.version, p.template, p.implicit,
                p.first_seen_unix_nano, p.last_seen_unix_nano,
                (SELECT count(*) FROM spans s WHERE s.llm_prompt_version = p.id AND s.llm_counted = 1)
            FROM prompt_versions p
            WHERE (?1 IS NULL OR p.project = ?1) AND (?2 IS NULL OR p.prompt_id = ?2)
            ORDER BY p.prompt_id, p.last_seen_unix_nano DESC
            """)
        statement.bind(1, project)
        statement.bind(2, promptID)
        var rows: [PromptVersionRow] = []
        while try statement.step() {
            rows.append(
                PromptVersionRow(
                    project: statement.string(0), promptID: statement.string(1), versionHash: statement.string(2),
                    version: statement.optionalString(3), template: statement.optionalString(4),
                    isImplicit: statement.int64(5) != 0, firstSeenUnixNano: statement.uint64(6),
                    lastSeenUnixNano: statement.uint64(7), calls: Int(statement.int64(8))))
        }
        return rows
    }

    /// The counted calls of one prompt in a time range, for analytics: its versions first, then each one's
    /// calls from the prompt index alone, which covers them. (Left to itself, the planner would rather walk
    /// every call by time to save the sort.)
    public func promptCalls(promptID: String, project: String? = nil, since: UInt64? = nil, until: UInt64? = nil) throws
        -> [PromptCallRow]
    {
        let statement = try prepare(
            """
            SELECT p.version_hash, s.start_time_unix_nano, s.llm_latency_ms, s.llm_input_tokens, s.llm_output_tokens,
                s.llm_total_tokens, s.llm_cost_usd, s.llm_score, s.llm_is_error
            FROM prompt_versions p CROSS JOIN spans s INDEXED BY spans_llm_by_prompt ON s.llm_prompt_version = p.id
            WHERE p.prompt_id = ?1 AND s.llm_counted = 1 AND (?2 IS NULL OR p.project = ?2)
                AND (?3 IS NULL OR s.start_time_unix_nano >= ?3) AND (?4 IS NULL OR s.start_time_unix_nano < ?4)
            ORDER BY s.start_time_unix_nano
            """)
        statement.bind(1, promptID)
        statement.bind(2, project)
        if let since { statement.bind(3, since) }
        if let until { statement.bind(4, until) }
        var rows: [PromptCallRow] = []
        func optionalInt(_ column: Int32) -> Int? { statement.isNull(column) ? nil : Int(statement.int64(column)) }
        while try statement.step() {
            rows.append(
                PromptCallRow(
                    versionHash: statement.string(0), startTimeUnixNano: statement.uint64(1), latencyMs: statement.double(2),
                    inputTokens: optionalInt(3), outputTokens: optionalInt(4), totalTokens: optionalInt(5),
                    costUSD: statement.isNull(6) ? nil : statement.double(6),
                    score: statement.isNull(7) ? nil : statement.double(7), isError: statement.int64(8) != 0))
        }
        return rows
    }

    /// Monitor events (one per counted LLM call), newest first.
    public func monitorEvents(_ query: MonitorEventQuery) throws -> [MonitorEvent] {
        let statement = try prepare(
            """
            SELECT \(Self.spanColumns), r.service_name, \(StoredLLMCall.columns)
            FROM spans s JOIN resources r ON r.id = s.resource_id
            WHERE s.llm_counted = 1 AND (?1 IS NULL OR s.project = ?1) AND (?2 IS NULL OR s.llm_flagged = ?2)
                AND (?3 IS NULL OR s.llm_model = ?3 OR s.llm_request_model = ?3)
                AND (?4 IS NULL OR s.start_time_unix_nano >= ?4) AND (?5 IS NULL OR s.start_time_unix_nano < ?5)
            ORDER BY s.start_time_unix_nano DESC, s.id DESC
            LIMIT ?6
            """)
        statement.bind(1, query.project)
        if let flagged = query.flagged { statement.bind(2, flagged ? 1 : 0) }
        statement.bind(3, query.model)
        if let since = query.since { statement.bind(4, since) }
        if let until = query.until { statement.bind(5, until) }
        statement.bind(6, max(1, min(query.limit, 10_000)))
        var events: [MonitorEvent] = []
        while try statement.step() {
            let stored = try storedSpan(statement)
            let figures = StoredLLMCall(spanID: stored.treeSpanID, statement, from: Self.spanColumnCount + 1)
            guard let call = figures.call(from: stored.span) else { continue }
            events.append(
                MonitorEvent(
                    project: stored.project, rootSpanID: stored.treeRootSpanID, spanID: stored.treeSpanID,
                    service: statement.optionalString(Self.spanColumnCount),
                    createdAtUnixNano: stored.span.startTimeUnixNano, call: call))
        }
        return events
    }
}
