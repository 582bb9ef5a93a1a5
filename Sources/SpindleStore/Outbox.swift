import Foundation
public import SpindleCodec
import Synchronization

/// One committed request in the outbox: the span rows it stored.
public struct OutboxEntry: Sendable, Hashable {
    public var seq: Int64
    public var firstSpanRow: Int64
    public var lastSpanRow: Int64
    public var spanCount: Int
    public var bytes: Int
    public var createdUnixNano: UInt64
    /// Compressed size of the request kept as received (`outboxBody(seq:)`); 0 when none was kept.
    public var bodyBytes: Int = 0
}

/// What `spindle outbox` shows for one exporter.
public struct ExporterStatus: Sendable, Hashable {
    public var exporter: String
    public var deliveredThrough: Int64
    public var pendingRequests: Int
    public var pendingSpans: Int
    public var oldestPendingUnixNano: UInt64?
    public var deliveredSpans: Int
    public var batches: Int
    public var retries: Int
    public var deadLettered: Int
    public var dropped: Int
    public var deadLetters: Int
}

/// A batch an upstream refused for good (a 4xx other than 408, 413 and 429).
public struct DeadLetter: Sendable, Hashable {
    public var id: Int64
    public var exporter: String
    public var firstSpanRow: Int64
    public var lastSpanRow: Int64
    public var spanCount: Int
    public var status: String
    public var body: String?
    public var failedUnixNano: UInt64
    public var retry: Bool
}

/// What happens when undelivered data passes `--outbox-max-bytes`.
public enum OutboxOverflow: String, Sendable, CaseIterable {
    /// Ingest answers 503 with Retry-After until the exporters catch up.
    case block
    /// The oldest undelivered requests are skipped by every exporter (counted as dropped).
    case dropOldest = "drop-oldest"
}

/// Undelivered outbox bytes, kept by the writer and read by every ingest request (for the cap).
final class OutboxGauge: Sendable {
    let pendingBytes = Mutex(0)
}

extension SpanStore {
    /// Makes `exporter` known; a new one starts at the end of the outbox (it forwards what arrives from now on).
    public func registerExporter(_ exporter: String) async throws(StoreError) {
        try await control([
            { writer in
                try writer.run(
                    """
                    INSERT OR IGNORE INTO exporter_state (exporter, delivered_through)
                    VALUES (?1, (SELECT coalesce(max(seq), 0) FROM outbox))
                    """, [.text(exporter)])
            }
        ])
    }

    /// Records that everything up to outbox `seq` is delivered (or dead-lettered) for `exporter`, drops the
    /// outbox rows every exporter is done with, and counts what was sent.
    public func recordDelivery(exporter: String, through seq: Int64, spans: Int, batches: Int, retries: Int)
        async throws(StoreError)
    {
        let gauge = outboxGauge
        try await control([
            { writer in
                try writer.run(
                    """
                    UPDATE exporter_state SET delivered_through = max(delivered_through, ?2),
                        delivered_spans = delivered_spans + ?3, batches = batches + ?4, retries = retries + ?5
                    WHERE exporter = ?1
                    """, [.text(exporter), .int(seq), .int(Int64(spans)), .int(Int64(batches)), .int(Int64(retries))])
                try writer.pruneOutbox(gauge: gauge)
            }
        ])
    }

    /// Keeps a batch the upstream refused for good, with its status and answer.
    public func recordDeadLetter(
        exporter: String, firstSpanRow: Int64, lastSpanRow: Int64, spanCount: Int, status: String, body: String?
    ) async throws(StoreError) {
        try await control([
            { writer in
                try writer.run(
                    """
                    INSERT INTO dead_letters (exporter, first_span_row, last_span_row, span_count, status, body,
                        failed_unix_nano)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                    """,
                    [
                        .text(exporter), .int(firstSpanRow), .int(lastSpanRow), .int(Int64(spanCount)), .text(status),
                        body.map { .text(String($0.prefix(4096))) } ?? .null,
                        .int(Int64(Date().timeIntervalSince1970 * 1e9)),
                    ])
                try writer.run(
                    "UPDATE exporter_state SET dead_lettered = dead_lettered + ?2 WHERE exporter = ?1",
                    [.text(exporter), .int(Int64(spanCount))])
            }
        ])
    }

    /// Marks an exporter's dead letters to be sent again (`spindle outbox retry`); false when it has none.
    /// Works on the database directly, so also while a server runs.
    public static func requestRetry(path: String, exporter: String) throws -> Int {
        let connection = try Schema.openForWriting(path: path)
        let statement = try connection.prepare("UPDATE dead_letters SET retry = 1 WHERE exporter = ?1 AND retry = 0")
        statement.bind(1, exporter)
        _ = try statement.step()
        return Int(connection.changes)
    }

    /// Deletes an exporter's dead letters (`spindle outbox drop EXPORTER --dead`).
    public static func dropDeadLetters(path: String, exporter: String) throws -> Int {
        let connection = try Schema.openForWriting(path: path)
        let statement = try connection.prepare("DELETE FROM dead_letters WHERE exporter = ?1")
        statement.bind(1, exporter)
        _ = try statement.step()
        return Int(connection.changes)
    }

    /// Removes a dead letter once it has been delivered on retry.
    public func forgetDeadLetter(id: Int64) async throws(StoreError) {
        try await control([{ writer in try writer.run("DELETE FROM dead_letters WHERE id = ?1", [.int(id)]) }])
    }

    /// Undelivered outbox bytes (all exporters).
    public var outboxPendingBytes: Int { outboxGauge.pendingBytes.withLock { $0 } }
}

extension SpanWriter {
    /// Deletes the outbox rows every exporter has passed and recomputes the pending bytes.
    func pruneOutbox(gauge: OutboxGauge) throws(SQLiteError) {
        try run(
            "DELETE FROM outbox WHERE seq <= (SELECT coalesce(min(delivered_through), 0) FROM exporter_state)", [])
        try run(
            "DELETE FROM outbox_bodies WHERE seq <= (SELECT coalesce(min(delivered_through), 0) FROM exporter_state)", [])
        gauge.pendingBytes.withLock { $0 = Int((try? pendingOutboxBytes()) ?? 0) }
    }
}

extension StoreReader {
    /// Outbox rows after `seq`, oldest first.
    public func outbox(after seq: Int64, limit: Int) throws -> [OutboxEntry] {
        let statement = try prepare(
            """
            SELECT seq, first_span_row, last_span_row, span_count, bytes, created_unix_nano, body_bytes FROM outbox
            WHERE seq > ?1 ORDER BY seq LIMIT ?2
            """)
        statement.bind(1, seq)
        statement.bind(2, limit)
        var entries: [OutboxEntry] = []
        while try statement.step() {
            entries.append(
                OutboxEntry(
                    seq: statement.int64(0), firstSpanRow: statement.int64(1), lastSpanRow: statement.int64(2),
                    spanCount: Int(statement.int64(3)), bytes: Int(statement.int64(4)), createdUnixNano: statement.uint64(5),
                    bodyBytes: Int(statement.int64(6))))
        }
        return entries
    }

    /// The OTLP request (protobuf, compressed) an outbox row kept as received; nil when it kept none or is gone.
    public func outboxBody(seq: Int64) throws -> DeflatedPart? {
        let statement = try prepare("SELECT deflated, crc, length FROM outbox_bodies WHERE seq = ?1")
        statement.bind(1, seq)
        guard try statement.step() else { return nil }
        return DeflatedPart(deflated: statement.bytes(0), crc: statement.uint32(1), length: Int(statement.int64(2)))
    }

    /// Where an exporter is in the outbox; nil when it was never registered.
    public func deliveredThrough(exporter: String) throws -> Int64? {
        let statement = try prepare("SELECT delivered_through FROM exporter_state WHERE exporter = ?1")
        statement.bind(1, exporter)
        return try statement.step() ? statement.int64(0) : nil
    }

    /// Each span stored in rows `first...last` (what outbox ranges hold), in row order, with its row, handed
    /// over without an array in between (a stored span is a large value: each copy costs).
    public func forEachSpan(
        rows: ClosedRange<Int64>, attributes decoding: AttributeDecoding = .decoded, _ body: (consuming StoredSpan, Int64) throws -> Void
    ) throws {
        try forEachSpanRow(rows: rows) { row in try body(try row.read(attributes: decoding).span, row.row) }
    }

    /// Each span row in rows `first...last`, in row order, as SQLite holds it: for readers that build the
    /// span only when they need it, or copy its columns straight into what they write. With `.summary`,
    /// only some columns are read (see `StoredSpanRow.Columns`); the rest cost a lookup when asked for.
    public func forEachSpanRow(
        rows: ClosedRange<Int64>, columns: StoredSpanRow.Columns = .all, _ body: (borrowing StoredSpanRow) throws -> Void
    ) throws {
        let statement = try prepare(
            """
            SELECT \(columns == .all ? Self.spanRowColumns : Self.spanSummaryColumns)
            FROM spans s
            WHERE s.id BETWEEN ?1 AND ?2 ORDER BY s.id
            """)
        statement.bind(1, rows.lowerBound)
        statement.bind(2, rows.upperBound)
        while try statement.step() {
            try body(StoredSpanRow(reader: self, statement: statement, columns: columns))
        }
    }

    /// What a `StoredSpanRow` holds: the span's columns, its row id, its LLM figures.
    static let spanRowColumns = "\(spanColumns), s.id, \(StoredLLMCall.columns)"

    /// `spanRowColumns` where a summary has them, NULL elsewhere (SQLite reads a constant once).
    static let spanSummaryColumns = """
        s.project, s.root_span_id, s.span_id, s.span_parents, NULL, NULL, s.name, NULL, s.start_time_unix_nano,
            s.end_time_unix_nano, s.status_code, s.status_message, s.attributes, NULL, NULL, NULL, NULL, NULL,
            s.resource_id, NULL, s.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, s.llm_counted
        """

    /// The whole row `id` (as `forEachSpanRow` reads it with `.all`), for `body`.
    func withSpanRow<T>(id: Int64, _ body: (SQLiteStatement) throws -> T) throws -> T {
        let statement = try prepare("SELECT \(Self.spanRowColumns) FROM spans s WHERE s.id = ?1")
        statement.bind(1, id)
        defer { statement.reset() }
        guard try statement.step() else { throw SQLiteError(code: 0, message: "span row \(id) is gone") }
        return try body(statement)
    }

    /// Dead letters, oldest first; with `retryOnly`, those `spindle outbox retry` asked to send again.
    public func deadLetters(exporter: String? = nil, retryOnly: Bool = false) throws -> [DeadLetter] {
        let statement = try prepare(
            """
            SELECT id, exporter, first_span_row, last_span_row, span_count, status, body, failed_unix_nano, retry
            FROM dead_letters WHERE (?1 IS NULL OR exporter = ?1) AND (?2 = 0 OR retry = 1) ORDER BY id
            """)
        statement.bind(1, exporter)
        statement.bind(2, retryOnly ? 1 : 0)
        var letters: [DeadLetter] = []
        while try statement.step() {
            letters.append(
                DeadLetter(
                    id: statement.int64(0), exporter: statement.string(1), firstSpanRow: statement.int64(2),
                    lastSpanRow: statement.int64(3), spanCount: Int(statement.int64(4)), status: statement.string(5),
                    body: statement.optionalString(6), failedUnixNano: statement.uint64(7), retry: statement.int64(8) != 0))
        }
        return letters
    }

    /// Per exporter: where it is, what waits, what was sent, retried, dead-lettered, dropped.
    public func exporterStatuses() throws -> [ExporterStatus] {
        let statement = try prepare(
            """
            SELECT e.exporter, e.delivered_through,
                (SELECT count(*) FROM outbox o WHERE o.seq > e.delivered_through),
                (SELECT coalesce(sum(span_count), 0) FROM outbox o WHERE o.seq > e.delivered_through),
                (SELECT min(created_unix_nano) FROM outbox o WHERE o.seq > e.delivered_through),
                e.delivered_spans, e.batches, e.retries, e.dead_lettered, e.dropped,
                (SELECT count(*) FROM dead_letters d WHERE d.exporter = e.exporter)
            FROM exporter_state e ORDER BY e.exporter
            """)
        var statuses: [ExporterStatus] = []
        while try statement.step() {
            statuses.append(
                ExporterStatus(
                    exporter: statement.string(0), deliveredThrough: statement.int64(1),
                    pendingRequests: Int(statement.int64(2)), pendingSpans: Int(statement.int64(3)),
                    oldestPendingUnixNano: statement.isNull(4) ? nil : statement.uint64(4),
                    deliveredSpans: Int(statement.int64(5)), batches: Int(statement.int64(6)),
                    retries: Int(statement.int64(7)), deadLettered: Int(statement.int64(8)), dropped: Int(statement.int64(9)),
                    deadLetters: Int(statement.int64(10))))
        }
        return statuses
    }
}
