import CSQLite
import Foundation
import SpindleCodec
import SpindleLLM
import SpindleModel

/// Owns the write connection and its prepared statements; used only from the writer thread.
final class SpanWriter {
    private let connection: SQLiteConnection
    private let insertSpan: SQLiteStatement
    private let insertResource: SQLiteStatement
    private let selectResource: SQLiteStatement
    private let insertScope: SQLiteStatement
    private let selectScope: SQLiteStatement
    private let upsertTrace: SQLiteStatement
    private let insertPromptVersion: SQLiteStatement
    private let selectPromptVersion: SQLiteStatement
    private let touchPromptVersion: SQLiteStatement
    private let insertRow: SQLiteStatement
    private let extractor: LLMExtractor?
    private let begin: SQLiteStatement
    private let commit: SQLiteStatement
    // Row ids of resources and scopes seen before; cleared on rollback (the rows may be gone).
    private var resourceIDs: [ResourceRecord: Int64] = [:]
    private var scopeIDs: [ScopeRecord: Int64] = [:]
    private var promptVersionIDs: [PromptVersionKey: Int64] = [:]
    private var lastPromptVersion: (key: PromptVersionKey, id: Int64)?
    private var isClosed = false

    /// Whether committed requests are recorded in the outbox (forwarding is on).
    private let recordsOutbox: Bool
    /// The span rows the current request stored: first, last, count, encoded bytes.
    private var storedRows: (first: Int64, last: Int64, count: Int, bytes: Int)?

    private let gauge: OutboxGauge
    private let outboxMaxBytes: Int?
    private let overflow: OutboxOverflow

    init(
        connection: SQLiteConnection, extractor: LLMExtractor? = nil, recordsOutbox: Bool = false,
        gauge: OutboxGauge = OutboxGauge(), outboxMaxBytes: Int? = nil, overflow: OutboxOverflow = .block
    ) throws(SQLiteError) {
        self.connection = connection
        self.extractor = extractor
        self.recordsOutbox = recordsOutbox
        self.gauge = gauge
        self.outboxMaxBytes = outboxMaxBytes
        self.overflow = overflow
        insertRow = try connection.prepare(
            "INSERT OR REPLACE INTO braintrust_rows (project, row_id, span_row) VALUES (?1, ?2, ?3)")
        insertSpan = try connection.prepare(
            """
            INSERT OR IGNORE INTO spans (project, root_span_id, span_id, span_parents, trace_state, flags, name, kind,
                start_time_unix_nano, end_time_unix_nano, status_code, status_message, attributes,
                dropped_attributes_count, events, dropped_events_count, links, dropped_links_count, resource_id, scope_id,
                llm_model, llm_request_model, llm_prompt_version, llm_latency_ms, llm_input_tokens, llm_output_tokens,
                llm_total_tokens, llm_cache_read_tokens, llm_tokens_estimated, llm_cost_usd, llm_cost_source, llm_score,
                llm_flagged, llm_is_error, llm_counted)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35)
            """)
        insertResource = try connection.prepare(
            """
            INSERT OR IGNORE INTO resources (attributes, dropped_attributes_count, schema_url, service_name)
            VALUES (?1, ?2, ?3, ?4)
            """)
        selectResource = try connection.prepare(
            "SELECT id FROM resources WHERE attributes = ?1 AND dropped_attributes_count = ?2 AND schema_url = ?3")
        insertScope = try connection.prepare(
            """
            INSERT OR IGNORE INTO scopes (name, version, attributes, dropped_attributes_count, schema_url)
            VALUES (?1, ?2, ?3, ?4, ?5)
            """)
        selectScope = try connection.prepare(
            """
            SELECT id FROM scopes WHERE name = ?1 AND version = ?2 AND attributes = ?3
                AND dropped_attributes_count = ?4 AND schema_url = ?5
            """)
        upsertTrace = try connection.prepare(
            """
            INSERT INTO traces (project, root_span_id, start_time_unix_nano, end_time_unix_nano, span_count,
                error_count, root_name, root_service, llm_calls, input_tokens, output_tokens, total_tokens, cost_usd)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            ON CONFLICT (project, root_span_id) DO UPDATE SET
                start_time_unix_nano = min(start_time_unix_nano, excluded.start_time_unix_nano),
                end_time_unix_nano = max(end_time_unix_nano, excluded.end_time_unix_nano),
                span_count = span_count + excluded.span_count,
                error_count = error_count + excluded.error_count,
                root_name = coalesce(root_name, excluded.root_name),
                root_service = coalesce(root_service, excluded.root_service),
                llm_calls = llm_calls + excluded.llm_calls,
                input_tokens = input_tokens + excluded.input_tokens,
                output_tokens = output_tokens + excluded.output_tokens,
                total_tokens = total_tokens + excluded.total_tokens,
                cost_usd = cost_usd + excluded.cost_usd
            """)
        insertPromptVersion = try connection.prepare(
            """
            INSERT OR IGNORE INTO prompt_versions (project, prompt_id, version_hash, version, template, implicit,
                first_seen_unix_nano, last_seen_unix_nano)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
            """)
        selectPromptVersion = try connection.prepare(
            "SELECT id FROM prompt_versions WHERE project = ?1 AND prompt_id = ?2 AND version_hash = ?3")
        touchPromptVersion = try connection.prepare(
            """
            UPDATE prompt_versions SET first_seen_unix_nano = min(first_seen_unix_nano, ?2),
                last_seen_unix_nano = max(last_seen_unix_nano, ?3)
            WHERE id = ?1
            """)
        begin = try connection.prepare("BEGIN IMMEDIATE")
        commit = try connection.prepare("COMMIT")
    }

    /// Writes every batch in one transaction; returns one result per batch, after COMMIT.
    func transaction(_ batches: [BatchBox]) throws(SQLiteError) -> [WriteResult] {
        try begin.step()
        begin.reset()
        do {
            var results: [WriteResult] = []
            results.reserveCapacity(batches.count)
            for box in batches {
                storedRows = nil
                var result = try write(box.batch)
                var touched: Set<[String]> = []
                for update in box.updates {
                    let (stored, roots) = try apply(update)
                    result.stored += stored
                    for root in roots { touched.insert([update.project, root]) }
                }
                for key in touched { try recomputeSummary(project: key[0], rootSpanID: key[1]) }
                let now = UInt64(Date().timeIntervalSince1970 * 1e9)
                for (project, prompt) in box.prompts { _ = try promptVersionID(prompt, project: project, at: now) }
                if recordsOutbox, let stored = storedRows {
                    // The request as received goes along only when it stored all its spans: then it says
                    // exactly what the rows hold (no duplicates of older rows, no row updates).
                    let body = stored.count == box.batch.spanCount && box.updates.isEmpty ? box.forwardBody : nil
                    let outbox = try cached(
                        """
                        INSERT INTO outbox (first_span_row, last_span_row, span_count, bytes, created_unix_nano, body_bytes)
                        VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                        """)
                    outbox.bind(1, stored.first)
                    outbox.bind(2, stored.last)
                    outbox.bind(3, stored.count)
                    outbox.bind(4, stored.bytes)
                    outbox.bind(5, now)
                    outbox.bind(6, body?.deflated.count ?? 0)
                    try outbox.step()
                    outbox.reset()
                    if let body {
                        let keep = try cached("INSERT INTO outbox_bodies (seq, deflated, crc, length) VALUES (?1, ?2, ?3, ?4)")
                        keep.bind(1, connection.lastInsertRowID)
                        keep.bindBlob(2, body.deflated)
                        keep.bind(3, body.crc)
                        keep.bind(4, body.length)
                        try keep.step()
                        keep.reset()
                    }
                    gauge.pendingBytes.withLock { $0 += stored.bytes }
                    if overflow == .dropOldest, let cap = outboxMaxBytes { try dropOldest(over: cap) }
                }
                for control in box.control { try run(control) }
                results.append(result)
            }
            try commit.step()
            commit.reset()
            return results
        } catch {
            commit.reset()
            try? connection.execute("ROLLBACK")
            resourceIDs.removeAll()
            scopeIDs.removeAll()
            promptVersionIDs.removeAll()
            lastPromptVersion = nil
            throw error
        }
    }

    private func write(_ batch: borrowing EncodedBatch) throws(SQLiteError) -> WriteResult {
        var totals = BatchTotals()
        for groupIndex in batch.groups.indices {
            let group = Group(
                project: batch.groups[groupIndex].project, resourceID: try resourceID(batch.groups[groupIndex].resource),
                scopeID: try scopeID(batch.groups[groupIndex].scope), service: batch.groups[groupIndex].resource.serviceName)
            // Each record is read in place: copying one (a span and its encoded columns) cost as much as
            // binding it.
            try batch.groups[groupIndex].spans.withUnsafeBufferPointer { records throws(SQLiteError) in
                for index in records.indices { try insert(records[index], of: group, into: &totals) }
            }
        }
        for (key, delta) in totals.summaries {
            upsertTrace.bind(1, key.project)
            upsertTrace.bind(2, key.rootSpanID)
            upsertTrace.bind(3, delta.start)
            upsertTrace.bind(4, delta.end)
            upsertTrace.bind(5, delta.spans)
            upsertTrace.bind(6, delta.errors)
            upsertTrace.bind(7, delta.rootName)
            upsertTrace.bind(8, delta.rootService)
            upsertTrace.bind(9, delta.llmCalls)
            upsertTrace.bind(10, delta.inputTokens)
            upsertTrace.bind(11, delta.outputTokens)
            upsertTrace.bind(12, delta.totalTokens)
            upsertTrace.bind(13, delta.costUSD)
            defer { upsertTrace.reset() }
            try upsertTrace.step()
        }
        for (id, seen) in totals.promptUses {
            touchPromptVersion.bind(1, id)
            touchPromptVersion.bind(2, seen.first)
            touchPromptVersion.bind(3, seen.last)
            defer { touchPromptVersion.reset() }
            try touchPromptVersion.step()
        }
        return totals.result
    }

    /// Where a group's spans go.
    private struct Group {
        var project: String
        var resourceID: Int64
        var scopeID: Int64
        var service: String?
    }

    /// What the spans of one batch add up to, beyond their rows.
    private struct BatchTotals {
        var result = WriteResult()
        var summaries: [TraceKey: TraceSummaryDelta] = [:]
        /// Prompt version row id -> the earliest and latest call this batch.
        var promptUses: [Int64: (first: UInt64, last: UInt64)] = [:]
    }

    /// Inserts one span (and its LLM call), unless the store has it already.
    private func insert(_ record: borrowing SpanRecord, of group: Group, into totals: inout BatchTotals) throws(SQLiteError) {
        let statement = insertSpan
        // Reset (which clears every binding) however this ends: a later span must not find this one's
        // LLM figures still bound.
        defer { statement.reset() }
        statement.bind(1, group.project)
        statement.bind(2, record.rootSpanID)
        statement.bind(3, record.spanID)
        statement.bindText(4, record.spanParents)
        statement.bind(5, record.span.traceState)
        statement.bind(6, record.span.flags)
        statement.bind(7, record.span.name)
        statement.bind(8, record.span.kind.rawValue)
        statement.bind(9, record.span.startTimeUnixNano)
        statement.bind(10, record.span.endTimeUnixNano)
        statement.bind(11, record.span.status.code.rawValue)
        statement.bind(12, record.span.status.message)
        statement.bind(14, record.span.droppedAttributesCount)
        statement.bindText(15, record.events)
        statement.bind(16, record.span.droppedEventsCount)
        statement.bindText(17, record.links)
        statement.bind(18, record.span.droppedLinksCount)
        statement.bind(19, group.resourceID)
        statement.bind(20, group.scopeID)
        let llm = record.llm
        var promptVersion: Int64?
        if let llm {
            if let prompt = llm.call.prompt {
                promptVersion = try promptVersionID(prompt, project: group.project, at: record.span.startTimeUnixNano)
            }
            bindLLMColumns(llm.call, promptVersion: promptVersion)
        }
        // The largest column is bound in place rather than copied.
        try statement.withText(13, record.attributes) { () throws(SQLiteError) in _ = try statement.step() }
        guard connection.changes == 1 else {
            totals.result.duplicates += 1
            return
        }
        totals.result.stored += 1
        let row = connection.lastInsertRowID
        if let previous = storedRows {
            storedRows = (
                min(previous.first, row), max(previous.last, row), previous.count + 1, previous.bytes + record.encodedSize
            )
        } else {
            storedRows = (row, row, 1, record.encodedSize)
        }
        if let rowID = record.rowID {
            insertRow.bind(1, group.project)
            insertRow.bind(2, rowID)
            insertRow.bind(3, row)
            defer { insertRow.reset() }
            try insertRow.step()
        }
        let traceKey = TraceKey(project: group.project, rootSpanID: record.rootSpanID)
        let first = TraceSummaryDelta(record.span)  // not in the subscript's autoclosure, which cannot borrow
        totals.summaries[traceKey, default: first].add(record.span, service: group.service, call: llm?.call.isAggregate == false ? llm : nil)
        if let id = promptVersion {
            let start = record.span.startTimeUnixNano
            let seen = totals.promptUses[id] ?? (start, start)
            totals.promptUses[id] = (min(seen.first, start), max(seen.last, start))
        }
    }

    /// Binds the LLM call's figures to the span insert (parameters 21-35; other spans leave them NULL, as
    /// `reset` clears them).
    private func bindLLMColumns(_ call: borrowing LLMCall, promptVersion: Int64?) {
        let statement = insertSpan
        statement.bind(21, call.model)
        statement.bind(22, call.requestModel)
        if let promptVersion { statement.bind(23, promptVersion) } else { statement.bindNull(23) }
        statement.bind(24, call.latencyMs)
        statement.bind(25, call.tokens.input)
        statement.bind(26, call.tokens.output)
        statement.bind(27, call.tokens.total)
        statement.bind(28, call.tokens.cacheRead)
        statement.bind(29, call.tokens.estimated ? 1 : 0)
        statement.bind(30, call.cost.usd)
        statement.bind(31, call.cost.source.rawValue)
        statement.bind(32, call.meanScore)
        statement.bind(33, call.isFlagged ? 1 : 0)
        statement.bind(34, call.isError ? 1 : 0)
        statement.bind(35, call.isAggregate ? 0 : 1)  // an agent span carrying its children's usage is not counted
    }

    /// The row of a prompt version, created on first use (its label and template are the first seen).
    private func promptVersionID(_ prompt: PromptReference, project: String, at time: UInt64) throws(SQLiteError) -> Int64 {
        let key = PromptVersionKey(project: project, id: prompt.id, versionHash: prompt.versionHash)
        // Calls of one prompt come in runs: comparing with the last key costs less than hashing it.
        if let last = lastPromptVersion, last.key == key { return last.id }
        if let id = promptVersionIDs[key] {
            lastPromptVersion = (key, id)
            return id
        }
        insertPromptVersion.bind(4, prompt.version)
        insertPromptVersion.bind(5, prompt.template)
        insertPromptVersion.bind(6, prompt.isImplicit ? 1 : 0)
        insertPromptVersion.bind(7, time)
        let id = try rowID(insert: insertPromptVersion, select: selectPromptVersion) { statement in
            statement.bind(1, project)
            statement.bind(2, prompt.id)
            statement.bind(3, prompt.versionHash)
        }
        promptVersionIDs[key] = id
        lastPromptVersion = (key, id)
        return id
    }

    private func resourceID(_ record: ResourceRecord) throws(SQLiteError) -> Int64 {
        if let id = resourceIDs[record] { return id }
        insertResource.bind(4, record.serviceName)
        let id = try rowID(insert: insertResource, select: selectResource) { statement in
            statement.bindText(1, record.attributes)
            statement.bind(2, record.droppedAttributesCount)
            statement.bind(3, record.schemaURL)
        }
        resourceIDs[record] = id
        return id
    }

    private func scopeID(_ record: ScopeRecord) throws(SQLiteError) -> Int64 {
        if let id = scopeIDs[record] { return id }
        let id = try rowID(insert: insertScope, select: selectScope) { statement in
            statement.bind(1, record.name)
            statement.bind(2, record.version)
            statement.bindText(3, record.attributes)
            statement.bind(4, record.droppedAttributesCount)
            statement.bind(5, record.schemaURL)
        }
        scopeIDs[record] = id
        return id
    }

    /// The row id of a shared row (resource, scope) identified by its whole content: inserted when new,
    /// looked up otherwise. `bindKey` binds the identifying columns, the same in both statements.
    private func rowID(insert: SQLiteStatement, select: SQLiteStatement, bindKey: (SQLiteStatement) -> Void)
        throws(SQLiteError) -> Int64
    {
        bindKey(insert)
        defer { insert.reset() }
        try insert.step()
        if connection.changes == 1 { return connection.lastInsertRowID }
        bindKey(select)
        defer { select.reset() }
        guard try select.step() else { throw SQLiteError(code: 0, message: "shared row vanished during insert") }
        return select.int64(0)
    }

    /// What one batch adds to a trace's summary row.
    private struct TraceSummaryDelta {
        var start: UInt64
        var end: UInt64
        var spans = 0
        var errors = 0
        var rootName: String?
        var rootService: String?
        var llmCalls = 0
        var inputTokens = 0
        var outputTokens = 0
        var totalTokens = 0
        var costUSD = 0.0

        init(_ first: Span) {
            start = first.startTimeUnixNano
            end = first.endTimeUnixNano
        }

        /// A span, and the LLM call it counts (if any).
        mutating func add(_ span: Span, service: String?, call: LLMRecord? = nil) {
            start = min(start, span.startTimeUnixNano)
            end = max(end, span.endTimeUnixNano)
            spans += 1
            if span.status.code == .error { errors += 1 }
            if span.parentSpanID == nil && rootName == nil {
                rootName = span.name
                rootService = service
            }
            if let call { add(call) }
        }

        mutating func add(_ record: LLMRecord) {
            llmCalls += 1
            inputTokens += record.call.tokens.input ?? 0
            outputTokens += record.call.tokens.output ?? 0
            totalTokens += record.call.tokens.total ?? 0
            costUSD += record.call.cost.usd ?? 0
        }
    }

    private struct TraceKey: Hashable {
        var project: String
        var rootSpanID: String
    }

    private struct PromptVersionKey: Hashable {
        var project: String
        var id: String
        var versionHash: String
    }

    /// Applies a change to a Braintrust row: the old span (if any) goes and the new one (if any) is stored
    /// in its place. Returns the spans stored and the traces touched (whose summaries must be computed again).
    private func apply(_ update: RowUpdate) throws(SQLiteError) -> (stored: Int, roots: Set<String>) {
        let find = try cached("SELECT span_row FROM braintrust_rows WHERE project = ?1 AND row_id = ?2")
        find.bind(1, update.project)
        find.bind(2, update.rowID)
        let spanRow: Int64? = try find.step() ? find.int64(0) : nil
        find.reset()
        var existing: Span?
        var roots: Set<String> = []
        if let spanRow {
            let load = try cached(
                """
                SELECT root_span_id, span_id, span_parents, name, kind, start_time_unix_nano, end_time_unix_nano,
                    status_code, status_message, attributes, events
                FROM spans WHERE id = ?1
                """)
            load.bind(1, spanRow)
            if try load.step() {
                let root = load.string(0)
                roots.insert(root)
                let parents = load.isNull(2) ? [] : ((try? JSONValue.parse(load.string(2)))?.arrayValue?.compactMap(\.stringValue) ?? [])
                existing = Span(
                    traceID: TraceID(treeID: root),
                    spanID: SpanID(treeID: load.string(1)),
                    parentSpanID: parents.first.map(SpanID.init(treeID:)), name: load.string(3),
                    kind: SpanKind(rawValue: load.int32(4)), startTimeUnixNano: load.uint64(5), endTimeUnixNano: load.uint64(6),
                    attributes: (try? OTLPJSON.decodeAttributes(load.bytes(9))) ?? [],
                    events: load.isNull(10) ? [] : ((try? OTLPJSON.decodeEvents(load.bytes(10))) ?? []),
                    status: SpanStatus(code: StatusCode(rawValue: load.int32(7)), message: load.string(8)))
            }
            load.reset()
            let delete = try cached("DELETE FROM spans WHERE id = ?1")
            delete.bind(1, spanRow)
            try delete.step()
            delete.reset()
            let forget = try cached("DELETE FROM braintrust_rows WHERE project = ?1 AND row_id = ?2")
            forget.bind(1, update.project)
            forget.bind(2, update.rowID)
            defer { forget.reset() }
            try forget.step()
        }
        var stored = 0
        if let replacement = update.change(existing) {
            roots.insert(replacement.tree.rootSpanID)
            let traces = TracesData(resourceSpans: [
                ResourceSpans(
                    resource: Resource(attributes: [Attribute("service.name", .string("braintrust"))]),
                    scopeSpans: [ScopeSpans(scope: InstrumentationScope(name: "spindle.vendor-api"), spans: [replacement.span])])
            ])
            let batch = EncodedBatch(
                project: update.project, traces: traces, extractor: extractor,
                trees: [replacement.span.spanID: replacement.tree])
            stored = try write(batch).stored
        }
        return (stored, roots)
    }

    /// The trace's summary row computed from its spans again (after a row was replaced or deleted).
    private func recomputeSummary(project: String, rootSpanID: String) throws(SQLiteError) {
        let delete = try cached("DELETE FROM traces WHERE project = ?1 AND root_span_id = ?2")
        delete.bind(1, project)
        delete.bind(2, rootSpanID)
        try delete.step()
        delete.reset()
        let insert = try cached(
            """
            INSERT INTO traces (project, root_span_id, start_time_unix_nano, end_time_unix_nano, span_count, error_count,
                root_name, root_service, llm_calls, input_tokens, output_tokens, total_tokens, cost_usd)
            SELECT s.project, s.root_span_id, min(s.start_time_unix_nano), max(s.end_time_unix_nano), count(*),
                sum(s.status_code = 2),
                (SELECT name FROM spans r WHERE r.project = ?1 AND r.root_span_id = ?2 AND r.span_parents IS NULL
                    ORDER BY r.start_time_unix_nano LIMIT 1),
                (SELECT res.service_name FROM spans r JOIN resources res ON res.id = r.resource_id
                    WHERE r.project = ?1 AND r.root_span_id = ?2 AND r.span_parents IS NULL
                    ORDER BY r.start_time_unix_nano LIMIT 1),
                coalesce(sum(s.llm_counted), 0), coalesce(sum(s.llm_input_tokens * s.llm_counted), 0),
                coalesce(sum(s.llm_output_tokens * s.llm_counted), 0), coalesce(sum(s.llm_total_tokens * s.llm_counted), 0),
                coalesce(sum(s.llm_cost_usd * s.llm_counted), 0)
            FROM spans s
            WHERE s.project = ?1 AND s.root_span_id = ?2
            GROUP BY s.project, s.root_span_id
            """)
        insert.bind(1, project)
        insert.bind(2, rootSpanID)
        defer { insert.reset() }
        try insert.step()
    }

    private var statements: [String: SQLiteStatement] = [:]

    /// Runs `sql` with `values` bound in order (control writes: exporter cursors, dead letters).
    func run(_ sql: String, _ values: [SQLiteValue]) throws(SQLiteError) {
        let statement = try cached(sql)
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .int(let int): statement.bind(position, int)
            case .text(let text): statement.bind(position, text)
            case .null: statement.bindNull(position)
            }
        }
        defer { statement.reset() }
        try statement.step()
    }

    /// `drop-oldest`: moves every exporter past the oldest undelivered requests until the outbox fits.
    private func dropOldest(over cap: Int) throws(SQLiteError) {
        while gauge.pendingBytes.withLock({ $0 }) > cap {
            let oldest = try cached(
                """
                SELECT seq, span_count FROM outbox
                WHERE seq > (SELECT coalesce(min(delivered_through), 0) FROM exporter_state) ORDER BY seq LIMIT 1
                """)
            guard try oldest.step() else {
                oldest.reset()
                return
            }
            let seq = oldest.int64(0)
            let spans = oldest.int64(1)
            oldest.reset()
            try run(
                """
                UPDATE exporter_state SET dropped = dropped + ?2, delivered_through = ?1 WHERE delivered_through < ?1
                """, [.int(seq), .int(spans)])
            try pruneOutbox(gauge: gauge)
        }
    }

    private func run(_ control: @Sendable (SpanWriter) throws -> Void) throws(SQLiteError) {
        do {
            try control(self)
        } catch let error as SQLiteError {
            throw error
        } catch {
            throw SQLiteError(code: 0, message: "\(error)")
        }
    }

    /// Bytes of the outbox rows some exporter has not passed yet.
    func pendingOutboxBytes() throws(SQLiteError) -> Int64 {
        let statement = try cached(
            "SELECT coalesce(sum(bytes), 0) FROM outbox WHERE seq > (SELECT coalesce(min(delivered_through), 0) FROM exporter_state)")
        defer { statement.reset() }
        _ = try statement.step()
        return statement.int64(0)
    }

    /// Statements for rare work (row updates), prepared on first use.
    func cached(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let statement = statements[sql] { return statement }
        let statement = try connection.prepare(sql)
        statements[sql] = statement
        return statement
    }

    /// Checkpoints the WAL into the database file so a closed store is one file again.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}
