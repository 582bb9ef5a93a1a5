import Foundation
public import SpindleLLM

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
        inputTokens += call.inputTokens
        outputTokens += call.outputTokens
        totalTokens += call.totalTokens
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

/// A stored LLM call: the counted figures, and the normalized call as stored JSON.
public struct StoredLLMCall: Sendable, Hashable {
    public var spanID: String
    public var inputTokens: Int
    public var outputTokens: Int
    public var totalTokens: Int
    public var costUSD: Double?
    public var counted: Bool
    /// `LLMCallJSON` of the call.
    public var json: [UInt8]
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
            SELECT span_id, input_tokens, output_tokens, total_tokens, cost_usd, counted, call
            FROM llm_calls WHERE project = ?1 AND root_span_id = ?2
            """)
        statement.bind(1, project)
        statement.bind(2, rootSpanID)
        var calls: [String: StoredLLMCall] = [:]
        while try statement.step() {
            let call = StoredLLMCall(
                spanID: statement.string(0), inputTokens: Int(statement.int64(1)), outputTokens: Int(statement.int64(2)),
                totalTokens: Int(statement.int64(3)), costUSD: statement.isNull(4) ? nil : statement.double(4),
                counted: statement.int64(5) != 0, json: statement.bytes(6))
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
                (SELECT count(*) FROM llm_calls c WHERE c.project = p.project AND c.prompt_id = p.prompt_id
                    AND c.version_hash = p.version_hash AND c.counted = 1)
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

    /// The counted calls of one prompt in a time range, for analytics.
    public func promptCalls(promptID: String, project: String? = nil, since: UInt64? = nil, until: UInt64? = nil) throws
        -> [PromptCallRow]
    {
        let statement = try prepare(
            """
            SELECT version_hash, start_time_unix_nano, latency_ms, input_tokens, output_tokens, total_tokens, cost_usd,
                score, is_error
            FROM llm_calls
            WHERE prompt_id = ?1 AND counted = 1 AND (?2 IS NULL OR project = ?2)
                AND (?3 IS NULL OR start_time_unix_nano >= ?3) AND (?4 IS NULL OR start_time_unix_nano < ?4)
            ORDER BY start_time_unix_nano
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
            SELECT project, root_span_id, span_id, start_time_unix_nano, service, call
            FROM llm_calls
            WHERE counted = 1 AND (?1 IS NULL OR project = ?1) AND (?2 IS NULL OR flagged = ?2)
                AND (?3 IS NULL OR model = ?3 OR request_model = ?3)
                AND (?4 IS NULL OR start_time_unix_nano >= ?4) AND (?5 IS NULL OR start_time_unix_nano < ?5)
            ORDER BY start_time_unix_nano DESC, id DESC
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
            let call = try LLMCallJSON.decode(statement.bytes(5))
            events.append(
                MonitorEvent(
                    project: statement.string(0), rootSpanID: statement.string(1), spanID: statement.string(2),
                    service: statement.optionalString(4), createdAtUnixNano: statement.uint64(3), call: call))
        }
        return events
    }
}
