public import ServiceLifecycle

/// Runs the store as part of a ServiceGroup: on graceful shutdown it commits what is queued and closes.
/// Put it before the receivers in the group so that it shuts down after them.
public struct StoreService: Service {
    public let store: SpanStore

    public init(store: SpanStore) { self.store = store }

    public func run() async throws {
        try? await gracefulShutdown()
        store.close()
    }
}
