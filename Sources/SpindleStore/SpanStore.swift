import Foundation
public import Logging
public import SpindleLLM
public import SpindleModel
public import SpindleCodec

/// How the store trades durability for speed. In WAL mode, `normal` survives a crash of the process
/// (every acknowledged transaction is in the WAL file); `full` also fsyncs each commit, surviving power loss.
public enum Durability: String, Sendable, CaseIterable {
    case normal
    case full
}

public struct StoreOptions: Sendable {
    public var durability: Durability
    /// Encoded bytes that may wait for the writer; past it, writes fail with `overloaded`.
    public var maxQueuedBytes: Int
    /// Spans committed in one transaction at most (group commit takes whatever is queued, up to this).
    public var maxSpansPerTransaction: Int
    /// What `overloaded` asks the client to wait.
    public var retryAfterSeconds: Int
    /// Finds LLM calls in incoming spans (their figures stored in the spans' `llm_*` columns); nil turns extraction off.
    public var llmExtractor: LLMExtractor?
    /// Record committed requests in the outbox, for forwarding.
    public var recordsOutbox = false
    /// With `recordsOutbox`: undelivered bytes past which `outboxOverflow` applies (nil: no cap).
    public var outboxMaxBytes: Int? = nil
    public var outboxOverflow: OutboxOverflow = .block
    /// With `recordsOutbox`: keep OTLP requests as received beside their outbox rows, for exporters that
    /// send them on unchanged (`SpanStore.write(forwardBody:)`).
    public var keepsRequestBodies = false

    public init(
        durability: Durability = .normal, maxQueuedBytes: Int = 64 << 20, maxSpansPerTransaction: Int = 50_000,
        retryAfterSeconds: Int = 1, llmExtractor: LLMExtractor? = LLMExtractor(prices: .bundled)
    ) {
        self.llmExtractor = llmExtractor
        self.durability = durability
        self.maxQueuedBytes = maxQueuedBytes
        self.maxSpansPerTransaction = maxSpansPerTransaction
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// What a committed write did.
public struct WriteResult: Sendable, Hashable {
    /// Spans newly stored.
    public var stored: Int
    /// Spans already in the store (same project, trace id and span id): kept once, as OTLP retries expect.
    public var duplicates: Int

    public init(stored: Int = 0, duplicates: Int = 0) {
        self.stored = stored
        self.duplicates = duplicates
    }
}

/// Counts since the store was opened.
public struct WriteTotals: Sendable, Hashable {
    public var transactions = 0
    public var requests = 0
    public var stored = 0
    public var duplicates = 0
}

public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The write queue is full: the client should retry after the given delay.
    case overloaded(retryAfterSeconds: Int)
    /// The store is shutting down or closed.
    case closed
    case sqlite(SQLiteError)

    public var description: String {
        switch self {
        case .overloaded(let seconds): return "write queue is full; retry in \(seconds)s"
        case .closed: return "store is closed"
        case .sqlite(let error): return "\(error)"
        }
    }
}

/// The SQLite store. One writer thread owns the only write connection and commits whatever requests
/// are queued together in one transaction (group commit); each `write` returns only after the
/// transaction holding its spans has committed. Readers open their own connections.
public final class SpanStore: Sendable {
    public let path: String
    public let options: StoreOptions
    private let queue: WriteQueue
    let outboxGauge = OutboxGauge()

    /// Opens (creating and migrating as needed) the database at `path` and starts the writer thread.
    public init(path: String, options: StoreOptions = StoreOptions(), logger: Logger = Logger(label: "spindle.store"))
        throws
    {
        self.path = path
        self.options = options
        let connection = try Schema.openForWriting(path: path)
        try connection.execute("PRAGMA synchronous = \(options.durability == .full ? "FULL" : "NORMAL")")
        try connection.execute("PRAGMA cache_size = -32768")
        try connection.execute("PRAGMA temp_store = MEMORY")
        // Checkpoint every ~16 MiB of WAL rather than 4 MiB: hot index pages are copied back less often.
        try connection.execute("PRAGMA wal_autocheckpoint = 4096")
        let writer = try SpanWriter(
            connection: connection, extractor: options.llmExtractor, recordsOutbox: options.recordsOutbox,
            gauge: outboxGauge, outboxMaxBytes: options.outboxMaxBytes, overflow: options.outboxOverflow)
        let pending = try writer.pendingOutboxBytes()
        outboxGauge.pendingBytes.withLock { $0 = Int(pending) }
        queue = WriteQueue(writer: writer, options: options, logger: logger)
        logger.info(
            "store open",
            metadata: ["path": "\(path)", "durability": "\(options.durability.rawValue)", "schema": "\(Schema.currentVersion)"])
    }

    /// Stores `traces` under `project`; returns once they are committed. With `projectAttribute`, a
    /// resource carrying that attribute (a string) puts its spans under the project it names instead.
    /// `trees` gives spans with tree ids of their own (Braintrust rows) those ids, by span id; `updates`
    /// change such rows after the inserts, in the same transaction.
    public func write(
        _ traces: TracesData, project: String = "default", projectAttribute: String? = nil,
        trees: [SpanID: TreeIdentity] = [:], updates: [RowUpdate] = [], forwardBody: DeflatedPart? = nil
    ) async throws(StoreError) -> WriteResult {
        let box = BatchBox(
            EncodedBatch(
                project: project, traces: traces, extractor: options.llmExtractor, projectAttribute: projectAttribute,
                trees: trees),
            updates: updates.map { update in
                var update = update
                update.project = project
                return update
            },
            forwardBody: keepsRequestBodies ? forwardBody : nil)
        if box.batch.spanCount == 0 && updates.isEmpty { return WriteResult() }
        // The outbox cap, `block` policy: refuse new data until the exporters catch up.
        if options.recordsOutbox, options.outboxOverflow == .block, let cap = options.outboxMaxBytes,
            outboxGauge.pendingBytes.withLock({ $0 }) > cap
        {
            throw .overloaded(retryAfterSeconds: options.retryAfterSeconds)
        }
        let result: Result<WriteResult, StoreError> = await withCheckedContinuation { continuation in
            queue.enqueue(box) { continuation.resume(returning: $0) }
        }
        // Free the encoded rows here, on the request's thread, not on the writer's.
        box.batch = EncodedBatch.empty
        box.forwardBody = nil
        return try result.get()
    }

    /// Whether `write(forwardBody:)` keeps the request it is given (some exporter sends requests on as received).
    public var keepsRequestBodies: Bool { options.recordsOutbox && options.keepsRequestBodies }

    /// Stops taking writes, commits everything already queued, and closes the write connection.
    /// Safe to call more than once.
    public func close() { queue.close() }

    /// A new read-only view on the database (its own connection).
    public func reader() throws -> StoreReader { try StoreReader(path: path) }

    /// Bytes currently waiting for the writer.
    public var queuedBytes: Int { queue.queuedBytes }

    /// What the writer has committed since the store was opened.
    public var writeTotals: WriteTotals { queue.writeTotals }

    /// Runs control writes (forwarding state) in the writer's next transaction; returns once committed.
    func control(_ writes: [@Sendable (SpanWriter) throws -> Void]) async throws(StoreError) {
        let box = BatchBox(EncodedBatch.empty, control: writes)
        let result: Result<WriteResult, StoreError> = await withCheckedContinuation { continuation in
            queue.enqueue(box) { continuation.resume(returning: $0) }
        }
        _ = try result.get()
    }

    /// Records prompt versions as known (before any call used them); returns once committed.
    public func register(_ prompts: [PromptReference], project: String) async throws(StoreError) {
        let box = BatchBox(EncodedBatch.empty, prompts: prompts.map { (project, $0) })
        let result: Result<WriteResult, StoreError> = await withCheckedContinuation { continuation in
            queue.enqueue(box) { continuation.resume(returning: $0) }
        }
        _ = try result.get()
    }

    /// Pauses the writer before its next transaction until the returned closure is called.
    /// For tests of backpressure: lets the queue fill deterministically.
    func holdWriter() -> @Sendable () -> Void { queue.hold() }
}

/// One request's encoded spans, shared by reference between the request and the writer so that the
/// writer never owns (and so never frees) them: the request drops them once its write is answered.
final class BatchBox: @unchecked Sendable {
    var batch: EncodedBatch
    /// Row updates applied after the batch's inserts, in order, in the same transaction.
    var updates: [RowUpdate]
    /// Prompt versions registered without a call (`POST /api/v1/prompts`), with the project.
    var prompts: [(project: String, prompt: PromptReference)]
    /// Small writes of the forwarder (cursors, dead letters), run in the writer's transaction.
    var control: [@Sendable (SpanWriter) throws -> Void]
    /// The OTLP request as received (protobuf, compressed), kept beside the outbox row when all its spans are stored.
    var forwardBody: DeflatedPart?
    init(
        _ batch: EncodedBatch, updates: [RowUpdate] = [], prompts: [(project: String, prompt: PromptReference)] = [],
        control: [@Sendable (SpanWriter) throws -> Void] = [], forwardBody: DeflatedPart? = nil
    ) {
        self.forwardBody = forwardBody
        self.batch = batch
        self.updates = updates
        self.prompts = prompts
        self.control = control
    }
}

/// A value bound into a control write.
enum SQLiteValue: Sendable {
    case int(Int64)
    case text(String)
    case null
}

/// A change to a row stored through the Braintrust API, found by its row id and applied on the writer
/// thread (so concurrent merges of one row cannot lose each other's fields).
public struct RowUpdate: Sendable {
    public var rowID: String
    /// Given the row's current span (nil when there is none), the span that replaces it (with its tree
    /// ids and row id), or nil to delete the row.
    public var change: @Sendable (Span?) -> (span: Span, tree: TreeIdentity)?
    /// Set by `SpanStore.write`: the project the row belongs to.
    var project = ""

    public init(rowID: String, change: @escaping @Sendable (Span?) -> (span: Span, tree: TreeIdentity)?) {
        self.rowID = rowID
        self.change = change
    }
}

/// The bounded queue in front of the writer thread, and the thread itself.
private final class WriteQueue: @unchecked Sendable {
    private struct Job {
        var box: BatchBox
        var completion: (Result<WriteResult, StoreError>) -> Void
        /// Read once at enqueue: after completion the box belongs to the request again.
        var size: Int
        var batch: EncodedBatch { box.batch }
    }

    // All mutable state below is guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var pendingBytes = 0
    private var closing = false
    private var finished = false
    private var held = false
    private var totals = WriteTotals()

    private let writer: SpanWriter
    private let options: StoreOptions
    private let logger: Logger

    init(writer: SpanWriter, options: StoreOptions, logger: Logger) {
        self.writer = writer
        self.options = options
        self.logger = logger
        let thread = Thread { [self] in run() }
        thread.name = "spindle-writer"
        thread.start()
    }

    var queuedBytes: Int {
        condition.lock()
        defer { condition.unlock() }
        return pendingBytes
    }

    var writeTotals: WriteTotals {
        condition.lock()
        defer { condition.unlock() }
        return totals
    }

    func enqueue(_ box: BatchBox, completion: @escaping (Result<WriteResult, StoreError>) -> Void) {
        let batch = box.batch
        condition.lock()
        if closing {
            condition.unlock()
            completion(.failure(.closed))
            return
        }
        // One request larger than the whole budget is still taken when nothing else waits.
        if pendingBytes > 0 && pendingBytes + batch.encodedSize > options.maxQueuedBytes {
            condition.unlock()
            completion(.failure(.overloaded(retryAfterSeconds: options.retryAfterSeconds)))
            return
        }
        pending.append(Job(box: box, completion: completion, size: batch.encodedSize))
        pendingBytes += batch.encodedSize
        condition.signal()
        condition.unlock()
    }

    func hold() -> @Sendable () -> Void {
        condition.lock()
        held = true
        condition.unlock()
        return { [self] in
            condition.lock()
            held = false
            condition.broadcast()
            condition.unlock()
        }
    }

    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while (pending.isEmpty || held) && !closing { condition.wait() }
            if pending.isEmpty {
                writer.close()
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            var take = 0
            var spans = 0
            while take < pending.count
                && (take == 0 || spans + pending[take].batch.spanCount <= options.maxSpansPerTransaction)
            {
                spans += pending[take].batch.spanCount
                take += 1
            }
            let jobs = Array(pending.prefix(take))
            pending.removeFirst(take)
            condition.unlock()

            commit(jobs)

            // The budget is released only now, so the byte bound covers batches being written too.
            condition.lock()
            pendingBytes -= jobs.reduce(0) { $0 + $1.size }
            condition.unlock()
        }
    }

    /// Commits all jobs in one transaction. If that fails, retries each alone so that one bad request
    /// cannot fail the others.
    private func commit(_ jobs: [Job]) {
        do {
            let results = try writer.transaction(jobs.map(\.box))
            condition.lock()
            totals.transactions += 1
            totals.requests += jobs.count
            for result in results {
                totals.stored += result.stored
                totals.duplicates += result.duplicates
            }
            condition.unlock()
            for (job, result) in zip(jobs, results) { job.completion(.success(result)) }
        } catch {
            if jobs.count > 1 {
                logger.warning("group commit failed; retrying requests one by one", metadata: ["error": "\(error)"])
                for job in jobs { commit([job]) }
            } else {
                logger.error("write failed", metadata: ["error": "\(error)"])
                jobs[0].completion(.failure(.sqlite(error)))
            }
        }
    }
}
