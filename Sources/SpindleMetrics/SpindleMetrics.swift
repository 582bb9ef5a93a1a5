public import Prometheus
import Synchronization

/// Spindle's counters, in Prometheus' text format on `GET /metrics` (swift-prometheus): spans received,
/// stored and rejected per receiver; spans forwarded, retries and dead letters per exporter; the outbox.
public final class SpindleMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let received = Mutex<[String: Counter]>([:])
    private let rejected = Mutex<[String: Counter]>([:])
    private let exporters = Mutex<[String: ExporterCounters]>([:])
    private let stored: Counter
    private let storedSeen = Mutex<Int>(0)
    private let outboxBytes: Gauge

    struct ExporterCounters: Sendable {
        var forwarded: Counter
        var retries: Counter
        var deadLettered: Counter
        var pending: Gauge
    }

    public init() {
        stored = registry.makeCounter(name: "spindle_stored_spans_total", help: "Spans committed to the store.")
        outboxBytes = registry.makeGauge(
            name: "spindle_outbox_pending_bytes", help: "Encoded bytes some exporter has not delivered yet.")
    }

    /// Spans that arrived through a receiver (`otlp-http`, `otlp-grpc`, a vendor API).
    public func received(_ spans: Int, via receiver: String) {
        counter(received, receiver, "spindle_received_spans_total", "Spans received, by receiver.").increment(by: Int64(spans))
    }

    /// Spans refused (invalid, partial success) or requests refused (counted as their spans).
    public func rejected(_ spans: Int, via receiver: String) {
        counter(rejected, receiver, "spindle_rejected_spans_total", "Spans rejected, by receiver.").increment(by: Int64(spans))
    }

    /// The store's running total of committed spans (read at scrape time).
    public func storedTotal(_ total: Int) {
        let delta = storedSeen.withLock { seen in
            defer { seen = max(seen, total) }
            return max(0, total - seen)
        }
        if delta > 0 { stored.increment(by: Int64(delta)) }
    }

    public func forwarded(_ spans: Int, retries: Int, deadLettered: Int, exporter: String) {
        let counters = self.counters(for: exporter)
        if spans > 0 { counters.forwarded.increment(by: Int64(spans)) }
        if retries > 0 { counters.retries.increment(by: Int64(retries)) }
        if deadLettered > 0 { counters.deadLettered.increment(by: Int64(deadLettered)) }
    }

    public func outbox(pendingSpans: Int, exporter: String) { counters(for: exporter).pending.set(Int64(pendingSpans)) }
    public func outbox(pendingBytes: Int) { outboxBytes.set(Int64(pendingBytes)) }

    /// The text exposition.
    public func render() -> [UInt8] { registry.emitToBuffer() }

    private func counter(_ table: borrowing Mutex<[String: Counter]>, _ label: String, _ name: String, _ help: String) -> Counter {
        table.withLock { counters in
            if let counter = counters[label] { return counter }
            let counter = registry.makeCounter(name: name, labels: [("receiver", label)], help: help)
            counters[label] = counter
            return counter
        }
    }

    private func counters(for exporter: String) -> ExporterCounters {
        exporters.withLock { table in
            if let counters = table[exporter] { return counters }
            let labels = [("exporter", exporter)]
            let counters = ExporterCounters(
                forwarded: registry.makeCounter(
                    name: "spindle_forwarded_spans_total", labels: labels, help: "Spans delivered upstream, by exporter."),
                retries: registry.makeCounter(
                    name: "spindle_forward_retries_total", labels: labels, help: "Delivery attempts retried, by exporter."),
                deadLettered: registry.makeCounter(
                    name: "spindle_dead_lettered_spans_total", labels: labels,
                    help: "Spans in batches an upstream refused for good, by exporter."),
                pending: registry.makeGauge(
                    name: "spindle_outbox_pending_spans", labels: labels, help: "Spans waiting for delivery, by exporter."))
            table[exporter] = counters
            return counters
        }
    }
}
