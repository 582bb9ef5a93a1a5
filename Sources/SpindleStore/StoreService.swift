public import Logging
public import ServiceLifecycle

/// Runs the store as part of a ServiceGroup: logs what was stored every `reportInterval` while spans
/// arrive, and on graceful shutdown commits what is queued and closes. Put it before the receivers in
/// the group so that it shuts down after them.
public struct StoreService: Service {
    public let store: SpanStore
    let logger: Logger?
    let reportInterval: Duration

    public init(store: SpanStore, logger: Logger? = nil, reportInterval: Duration = .seconds(30)) {
        self.store = store
        self.logger = logger
        self.reportInterval = reportInterval
    }

    public func run() async throws {
        if let logger {
            await cancelWhenGracefulShutdown {
                var last = store.writeTotals
                while !Task.isCancelled {
                    try? await Task.sleep(for: reportInterval)
                    let now = store.writeTotals
                    guard now != last else { continue }
                    let seconds = Double(reportInterval.components.seconds)
                    logger.info(
                        "ingest",
                        metadata: [
                            "stored": "\(now.stored - last.stored)", "duplicates": "\(now.duplicates - last.duplicates)",
                            "requests": "\(now.requests - last.requests)",
                            "transactions": "\(now.transactions - last.transactions)",
                            "spans_per_second": "\(Int(Double(now.stored - last.stored) / seconds))",
                            "total_stored": "\(now.stored)",
                        ])
                    last = now
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        let totals = store.writeTotals
        store.close()
        logger?.info(
            "store closed",
            metadata: [
                "total_stored": "\(totals.stored)", "requests": "\(totals.requests)",
                "transactions": "\(totals.transactions)",
            ])
    }
}
