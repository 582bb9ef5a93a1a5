import AsyncHTTPClient
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
public import ServiceLifecycle
import SpindleCodec
import SpindleExport
import SpindleLLM
import SpindleModel
public import SpindleMetrics
public import SpindleStore

/// Forwards what the outbox holds to every configured exporter, each in its own loop: read the requests
/// after its cursor, batch their spans (by count, bytes and delay), send (several batches at once where
/// the upstream allows), keep refused batches as dead letters, and move the cursor past what is done.
/// A crash or stop leaves the cursor where delivery was confirmed: what was not is sent again.
public struct ForwardService: Service {
    let store: SpanStore
    let exporters: [ExporterConfiguration]
    let logger: Logger
    /// How often an idle exporter looks at the outbox.
    let pollInterval: Duration
    let metrics: SpindleMetrics?

    public init(
        store: SpanStore, exporters: [ExporterConfiguration], logger: Logger, metrics: SpindleMetrics? = nil,
        pollInterval: Duration = .milliseconds(50)
    ) {
        self.store = store
        self.metrics = metrics
        self.exporters = exporters
        self.logger = logger
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        for exporter in exporters { try await store.registerExporter(exporter.name) }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for exporter in exporters {
                    let bearer = exporter.keyEnvironment.flatMap { ProcessInfo.processInfo.environment[$0] }
                    let delivery = Delivery(client: client, exporter: exporter, bearer: bearer, logger: logger)
                    if exporter.kind == .otlpGRPC {
                        group.addTask { await loopOverGRPC(exporter, delivery) }
                    } else {
                        group.addTask { await loop(exporter, delivery) }
                    }
                }
            }
        }
        try await client.shutdown()
    }

    /// The loop with a gRPC client of the upstream running beside it.
    private func loopOverGRPC(_ exporter: ExporterConfiguration, _ delivery: Delivery) async {
        let host = exporter.url.host ?? "127.0.0.1"
        let port = exporter.url.port ?? 4317
        do {
            let transport = try HTTP2ClientTransport.Posix(
                target: host.contains(":") ? .ipv6(address: host, port: port) : .dns(host: host, port: port),
                transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                var delivery = delivery
                delivery.grpc = client
                await loop(exporter, delivery)
            }
        } catch {
            logger.error("gRPC client failed", metadata: ["exporter": "\(exporter.name)", "error": "\(error)"])
        }
    }

    private func loop(_ exporter: ExporterConfiguration, _ delivery: Delivery) async {
        logger.info("forwarding", metadata: ["exporter": "\(exporter.name)", "url": "\(exporter.url)"])
        let readers = ReaderPool(store: store, capacity: 1)
        while !Task.isCancelled {
            do {
                let sent = try await forwardOnce(exporter, delivery, readers)
                if !sent { try await Task.sleep(for: pollInterval) }
            } catch is CancellationError {
                return
            } catch {
                logger.error("forwarding failed; trying again", metadata: ["exporter": "\(exporter.name)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// One round: dead letters asked for again, then the next wave of batches. False when there was nothing.
    private func forwardOnce(_ exporter: ExporterConfiguration, _ delivery: Delivery, _ readers: ReaderPool) async throws
        -> Bool
    {
        // Dead letters that `spindle outbox retry` asked for.
        let retries = try readers.withReader { try $0.deadLetters(exporter: exporter.name, retryOnly: true) }
        for letter in retries {
            let items = try load(exporter, readers, rows: letter.firstSpanRow...letter.lastSpanRow)
            let outcomes = try await delivery.deliver(items)
            try await store.forgetDeadLetter(id: letter.id)
            let refused = try await deadLetters(exporter, items, outcomes)
            // Counted as delivered; the cursor stays where it is (`through` only moves it forward).
            try await store.recordDelivery(
                exporter: exporter.name, through: 0, spans: items.count - refused, batches: 1, retries: 0)
            metrics?.forwarded(items.count - refused, retries: 0, deadLettered: refused, exporter: exporter.name)
        }

        guard let cursor = try readers.withReader({ try $0.deliveredThrough(exporter: exporter.name) }) else { return false }
        var entries = try readers.withReader { try $0.outbox(after: cursor, limit: 10_000) }
        guard let oldest = entries.first else { return !retries.isEmpty }
        // Wait for a fuller batch, up to max-delay after the oldest request arrived.
        let pendingSpans = entries.reduce(0) { $0 + $1.spanCount }
        let age = Duration.nanoseconds(Int64(UInt64(Date().timeIntervalSince1970 * 1e9) &- oldest.createdUnixNano))
        if pendingSpans < exporter.maxItems * exporter.concurrency && age < exporter.maxDelay {
            try await Task.sleep(for: exporter.maxDelay - age)
            entries = try readers.withReader { try $0.outbox(after: cursor, limit: 10_000) }
        }
        // One wave: whole requests, in order, up to `concurrency` batches' worth and at least 8192 spans
        // (sent `concurrency` batches at a time): each wave costs an outbox listing and a commit of the
        // cursor, which with Braintrust's one batch of 1000 at a time left the exporter far behind ingest.
        // Each request's spans are read only when the wave takes it: reading the whole backlog first (up to
        // 10,000 requests) and keeping a wave of it made a long backlog slow to drain. Requests kept as
        // received go on as they are when the exporter takes them so: no spans to read back and encode again.
        let capacity = max(exporter.maxItems * exporter.concurrency, 8192)
        var builder = BatchBuilder(maxItems: exporter.maxItems, maxBytes: exporter.maxBytes)
        var waveSpans = 0
        var last = cursor
        var scanned = 0
        for entry in entries {
            // Filters can drop most spans: bound how much one wave reads, so the cursor moves often.
            if waveSpans > 0 && scanned >= max(capacity, 50_000) { break }
            if exporter.sendsRequestsAsReceived, entry.bodyBytes > 0, entry.spanCount <= exporter.maxItems,
                let body = try readers.withReader({ try $0.outboxBody(seq: entry.seq) })
            {
                if waveSpans > 0 && waveSpans + entry.spanCount > capacity { break }
                builder.add(Delivery.KeptRequest(entry: entry, body: body))
                waveSpans += entry.spanCount
            } else {
                let items = try load(exporter, readers, rows: entry.firstSpanRow...entry.lastSpanRow)
                if waveSpans > 0 && waveSpans + items.count > capacity { break }
                builder.add(contentsOf: items)
                waveSpans += items.count
            }
            scanned += entry.spanCount
            last = entry.seq
        }
        let batches = builder.finished()
        // At most `concurrency` in flight; the cursor moves only once the whole wave is through.
        let outcomes = try await withThrowingTaskGroup(of: SentBatch.self) { group in
            var all: [SentBatch] = []
            var running = 0
            for batch in batches {
                if running == exporter.concurrency, let done = try await group.next() {
                    all.append(done)
                    running -= 1
                }
                group.addTask { try await send(batch, exporter, delivery, readers) }
                running += 1
            }
            for try await done in group { all.append(done) }
            return all
        }
        var delivered = 0
        var retried = 0
        var refusedTotal = 0
        for (spans, items, results) in outcomes {
            let refused = try await deadLetters(exporter, items, results)
            refusedTotal += refused
            delivered += spans - refused
            retried += results.reduce(0) { total, outcome in
                switch outcome {
                case .delivered(let retries, _): return total + retries
                case .refused(_, _, _, let retries): return total + retries
                }
            }
        }
        try await store.recordDelivery(
            exporter: exporter.name, through: last, spans: delivered, batches: batches.count, retries: retried)
        metrics?.forwarded(delivered, retries: retried, deadLettered: refusedTotal, exporter: exporter.name)
        return true
    }

    /// What a wave sends: spans read back from the store, or requests kept as received.
    enum ForwardBatch {
        case items([ForwardItem])
        case asReceived([Delivery.KeptRequest])
    }

    /// Cuts a wave into batches of at most `maxItems` spans and about `maxBytes`, in order; a batch holds
    /// one kind (spans from the store, or requests as received).
    struct BatchBuilder {
        let maxItems: Int
        let maxBytes: Int
        private var batches: [ForwardBatch] = []
        private var items: [ForwardItem] = []
        private var requests: [Delivery.KeptRequest] = []
        private var spans = 0
        private var bytes = 0

        init(maxItems: Int, maxBytes: Int) {
            self.maxItems = maxItems
            self.maxBytes = maxBytes
        }

        mutating func add(_ item: ForwardItem) {
            let size = Payload.size(item)
            if !requests.isEmpty || (!items.isEmpty && (spans + 1 > maxItems || bytes + size > maxBytes)) { flush() }
            items.append(item)
            spans += 1
            bytes += size
        }

        /// Items in order; a run that fits the current batch whole is moved in rather than copied item by item.
        mutating func add(contentsOf incoming: [ForwardItem]) {
            var fitting = 0
            var fittingBytes = 0
            if requests.isEmpty && items.isEmpty {
                for index in incoming.indices {
                    let size = Payload.size(incoming[index])
                    guard fitting < maxItems, fitting == 0 || fittingBytes + size <= maxBytes else { break }
                    fitting += 1
                    fittingBytes += size
                }
            }
            if fitting == incoming.count && fitting > 0 {
                items = incoming
                spans = fitting
                bytes = fittingBytes
                return
            }
            for item in incoming { add(item) }
        }

        mutating func add(_ request: Delivery.KeptRequest) {
            let size = request.body.length
            if !items.isEmpty || (!requests.isEmpty && (spans + request.entry.spanCount > maxItems || bytes + size > maxBytes)) {
                flush()
            }
            requests.append(request)
            spans += request.entry.spanCount
            bytes += size
        }

        private mutating func flush() {
            if !items.isEmpty { batches.append(.items(items)) }
            if !requests.isEmpty { batches.append(.asReceived(requests)) }
            items = []
            requests = []
            spans = 0
            bytes = 0
        }

        mutating func finished() -> [ForwardBatch] {
            flush()
            return batches
        }
    }

    /// A sent batch: its spans, the items read from the store for it, and how it ended.
    typealias SentBatch = (spans: Int, items: [ForwardItem], outcomes: [DeliveryOutcome])

    /// Sends one batch. Requests kept as received that the upstream refuses are sent again from the store,
    /// where a batch splits by span and a refusal becomes a dead letter.
    private func send(_ batch: ForwardBatch, _ exporter: ExporterConfiguration, _ delivery: Delivery, _ readers: ReaderPool)
        async throws -> SentBatch
    {
        switch batch {
        case .items(let items):
            return (items.count, items, try await delivery.deliver(items))
        case .asReceived(let requests):
            let outcome = try await delivery.deliver(asReceived: requests[...])
            var outcomes: [DeliveryOutcome] = [.delivered(retries: outcome.retries, rejected: outcome.rejected)]
            var items: [ForwardItem] = []
            for request in outcome.refused {
                items += try load(exporter, readers, rows: request.entry.firstSpanRow...request.entry.lastSpanRow)
            }
            if !items.isEmpty { outcomes += try await delivery.deliver(items) }
            return (requests.reduce(0) { $0 + $1.entry.spanCount }, items, outcomes)
        }
    }

    /// Keeps the refused parts as dead letters; returns how many items they held.
    private func deadLetters(_ exporter: ExporterConfiguration, _ batch: [ForwardItem], _ outcomes: [DeliveryOutcome])
        async throws -> Int
    {
        var refused = 0
        for case .refused(let range, let status, let body, _) in outcomes {
            let rows = batch[range].map(\.row)
            try await store.recordDeadLetter(
                exporter: exporter.name, firstSpanRow: rows.min()!, lastSpanRow: rows.max()!, spanCount: range.count,
                status: status, body: body)
            refused += range.count
        }
        return refused
    }

    /// The spans of a row range that pass the exporter's filters, with their LLM calls. Only OTLP needs
    /// every span's attributes decoded; the others get them as stored (JSON), decoded for LLM calls only.
    /// Braintrust rows are written here, as each span is read: most straight from the row's columns (see
    /// `BraintrustExport.row(columns:resources:into:)`), without building the span.
    private func load(_ exporter: ExporterConfiguration, _ readers: ReaderPool, rows: ClosedRange<Int64>) throws -> [ForwardItem] {
        let decoding: AttributeDecoding = exporter.kind == .otlpHTTP || exporter.kind == .otlpGRPC ? .decoded : .deferred
        let writesRows = exporter.kind == .braintrust
        var resources = BraintrustExport.ResourceParts()
        return try readers.withReader { reader in
            var items: [ForwardItem] = []
            items.reserveCapacity(Int(min(rows.upperBound - rows.lowerBound + 1, 100_000)))
            // Rows go into one buffer, each item a slice of it: no allocation a row.
            var written = JSONWriter(capacity: writesRows ? 512 * min(items.capacity, 4096) : 0)
            var ends: [(row: Int64, end: Int)] = []
            try reader.forEachSpanRow(rows: rows, columns: writesRows ? .summary : .all) { row in
                if let project = exporter.project, !row.text(.project).elementsEqual(project.utf8) { return }
                if let service = exporter.service, try row.resource().serviceName != service { return }
                let isLLMCall = row.isLLMCall
                if !isLLMCall && exporter.llmOnly { return }
                if writesRows, !isLLMCall, try BraintrustExport.row(columns: row, resources: &resources, into: &written) {
                    ends.append((row.row, written.count))
                    return
                }
                let read = try row.read(attributes: decoding)
                var stored = read.span
                var call: LLMCall?
                if let figures = read.figures {
                    stored.span = try stored.decodedSpan()
                    stored.storedAttributes = nil
                    call = figures.call(from: stored.span)
                    if call == nil && exporter.llmOnly { return }
                }
                if writesRows {
                    BraintrustExport.row(stored, call: call, resources: &resources, into: &written)
                    ends.append((row.row, written.count))
                } else {
                    items.append(ForwardItem(content: .span(stored, call), row: row.row))
                }
            }
            if writesRows {
                let buffer = written.bytes
                var start = 0
                for (row, end) in ends {
                    items.append(ForwardItem(content: .written(buffer[start..<end]), row: row))
                    start = end
                }
            }
            return items
        }
    }
}
