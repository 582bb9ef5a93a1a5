import Foundation
public import SpindleModel

/// A trace's summary row, as the writer keeps it up to date.
public struct TraceSummary: Sendable, Hashable {
    public var project: String
    public var rootSpanID: String
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    public var spanCount: Int
    public var errorCount: Int
    /// nil until a span without parents has arrived.
    public var rootName: String?
    public var rootService: String?
    /// Spans whose first parent is not (yet) in the trace.
    public var orphanCount: Int
    /// LLM calls in the trace (agent spans carrying aggregate usage not counted) and their totals.
    public var llm = LLMTotals()

    public var durationNanos: UInt64 { endTimeUnixNano >= startTimeUnixNano ? endTimeUnixNano - startTimeUnixNano : 0 }
}

/// Filters for listing traces, newest first.
public struct TraceQuery: Sendable, Hashable {
    public var project: String?
    /// Traces that started at or after this time.
    public var since: UInt64?
    /// Traces that started before this time.
    public var until: UInt64?
    /// The root span's service.
    public var service: String?
    /// The root span's name.
    public var name: String?
    public var errorsOnly = false
    public var minDurationNanos: UInt64?
    /// Traces with a span whose attribute `key` equals `value` (compared as text, number or boolean).
    public var attribute: AttributeFilter?
    public var limit = 50
    /// Where the previous page ended (`TraceCursor.description`).
    public var cursor: TraceCursor?

    public init() {}
}

/// `key:value`: a span attribute that a listed trace must have.
public struct AttributeFilter: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `key:value` (the key may not contain a colon; the value may).
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        self.init(key: String(text[..<colon]), value: String(text[text.index(after: colon)...]))
    }
}

/// Keyset pagination: the last trace of a page, as `START-ROOTSPANID`.
public struct TraceCursor: Sendable, Hashable, CustomStringConvertible {
    public var startTimeUnixNano: UInt64
    public var rootSpanID: String

    public init(startTimeUnixNano: UInt64, rootSpanID: String) {
        self.startTimeUnixNano = startTimeUnixNano
        self.rootSpanID = rootSpanID
    }

    public init?(_ text: String) {
        guard let dash = text.firstIndex(of: "-"), let start = UInt64(text[..<dash]) else { return nil }
        self.init(startTimeUnixNano: start, rootSpanID: String(text[text.index(after: dash)...]))
    }

    public var description: String { "\(startTimeUnixNano)-\(rootSpanID)" }
}

extension StoreReader {
    /// A page of trace summaries, newest first, and the cursor of the next page (nil on the last).
    public func traceSummaries(_ query: TraceQuery) throws -> (traces: [TraceSummary], next: TraceCursor?) {
        let statement = try prepare(
            """
            SELECT project, root_span_id, start_time_unix_nano, end_time_unix_nano, span_count, error_count,
                root_name, root_service, llm_calls, input_tokens, output_tokens, total_tokens, cost_usd
            FROM traces t
            WHERE (?1 IS NULL OR project = ?1)
                AND (?2 IS NULL OR start_time_unix_nano >= ?2) AND (?3 IS NULL OR start_time_unix_nano < ?3)
                AND (?4 IS NULL OR root_service = ?4) AND (?5 IS NULL OR root_name = ?5)
                AND (?6 = 0 OR error_count > 0)
                AND (?7 IS NULL OR end_time_unix_nano - start_time_unix_nano >= ?7)
                AND (?8 IS NULL OR start_time_unix_nano < ?8 OR (start_time_unix_nano = ?8 AND root_span_id < ?9))
                AND (?10 IS NULL OR EXISTS (
                    SELECT 1 FROM spans s WHERE s.project = t.project AND s.root_span_id = t.root_span_id
                        AND json_extract(s.attributes, ?10) IN (?11, ?12)))
            ORDER BY start_time_unix_nano DESC, root_span_id DESC
            LIMIT ?13
            """)
        statement.bind(1, query.project)
        if let since = query.since { statement.bind(2, since) }
        if let until = query.until { statement.bind(3, until) }
        statement.bind(4, query.service)
        statement.bind(5, query.name)
        statement.bind(6, query.errorsOnly ? 1 : 0)
        if let minimum = query.minDurationNanos { statement.bind(7, minimum) }
        if let cursor = query.cursor {
            statement.bind(8, cursor.startTimeUnixNano)
            statement.bind(9, cursor.rootSpanID)
        }
        if let attribute = query.attribute {
            statement.bind(10, "$.\"\(attribute.key.replacingOccurrences(of: "\"", with: "\\\""))\"")
            statement.bind(11, attribute.value)
            switch attribute.value {
            case "true": statement.bind(12, 1)
            case "false": statement.bind(12, 0)
            default:
                if let int = Int64(attribute.value) {
                    statement.bind(12, int)
                } else if let double = Double(attribute.value) {
                    statement.bind(12, double)
                }
            }
        }
        let limit = max(1, min(query.limit, 1000))
        statement.bind(13, limit + 1)
        var traces: [TraceSummary] = []
        while try statement.step() {
            traces.append(
                TraceSummary(
                    project: statement.string(0), rootSpanID: statement.string(1),
                    startTimeUnixNano: statement.uint64(2), endTimeUnixNano: statement.uint64(3),
                    spanCount: Int(statement.int64(4)), errorCount: Int(statement.int64(5)),
                    rootName: statement.optionalString(6), rootService: statement.optionalString(7), orphanCount: 0,
                    llm: LLMTotals(statement, from: 8)))
        }
        var next: TraceCursor?
        if traces.count > limit {
            traces.removeLast()
            next = traces.last.map { TraceCursor(startTimeUnixNano: $0.startTimeUnixNano, rootSpanID: $0.rootSpanID) }
        }
        for index in traces.indices {
            traces[index].orphanCount = try orphanCount(project: traces[index].project, rootSpanID: traces[index].rootSpanID)
        }
        return (traces, next)
    }

    /// The summary of one trace; nil when no span of it is stored.
    /// - Parameter countingOrphans: false when the caller builds the tree anyway and counts them there
    ///   (the count looks up every span's first parent).
    public func traceSummary(rootSpanID: String, project: String, countingOrphans: Bool = true) throws -> TraceSummary? {
        let statement = try prepare(
            """
            SELECT start_time_unix_nano, end_time_unix_nano, span_count, error_count, root_name, root_service,
                llm_calls, input_tokens, output_tokens, total_tokens, cost_usd
            FROM traces WHERE project = ?1 AND root_span_id = ?2
            """)
        statement.bind(1, project)
        statement.bind(2, rootSpanID)
        guard try statement.step() else { return nil }
        return TraceSummary(
            project: project, rootSpanID: rootSpanID, startTimeUnixNano: statement.uint64(0),
            endTimeUnixNano: statement.uint64(1), spanCount: Int(statement.int64(2)), errorCount: Int(statement.int64(3)),
            rootName: statement.optionalString(4), rootService: statement.optionalString(5),
            orphanCount: countingOrphans ? try orphanCount(project: project, rootSpanID: rootSpanID) : 0,
            llm: LLMTotals(statement, from: 6))
    }

    /// Spans of the trace whose first parent is not stored.
    func orphanCount(project: String, rootSpanID: String) throws -> Int {
        let statement = try prepare(
            """
            SELECT count(*) FROM spans s
            WHERE s.project = ?1 AND s.root_span_id = ?2 AND s.span_parents IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM spans p WHERE p.project = s.project AND p.root_span_id = s.root_span_id
                    AND p.span_id = json_extract(s.span_parents, '$[0]'))
            """)
        statement.bind(1, project)
        statement.bind(2, rootSpanID)
        _ = try statement.step()
        return Int(statement.int64(0))
    }

    /// Where a span id is stored: (project, root span id) pairs, usually one. With `rootSpanID` this is
    /// an index lookup; without it, a scan of the spans table (there is no index on span ids alone,
    /// which would cost a quarter of ingest throughput).
    public func locate(spanID: String, rootSpanID: String? = nil) throws -> [(project: String, rootSpanID: String)] {
        let spanID = spanID.lowercased()
        if let rootSpanID = rootSpanID?.lowercased() {
            let statement = try prepare("SELECT 1 FROM spans WHERE project = ?1 AND root_span_id = ?2 AND span_id = ?3")
            return try projects(holding: rootSpanID).filter { project in
                statement.reset()
                statement.bind(1, project)
                statement.bind(2, rootSpanID)
                statement.bind(3, spanID)
                return try statement.step()
            }.map { ($0, rootSpanID) }
        }
        let statement = try prepare("SELECT project, root_span_id FROM spans WHERE span_id = ?1 LIMIT 100")
        statement.bind(1, spanID)
        var result: [(String, String)] = []
        while try statement.step() { result.append((statement.string(0), statement.string(1))) }
        return result
    }
}
