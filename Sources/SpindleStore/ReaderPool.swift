import Foundation

/// Reuses reader connections across requests, so SQLite's page cache stays warm between queries.
/// A reader is used by one thread at a time; idle ones wait in the pool (at most `capacity`).
public final class ReaderPool: @unchecked Sendable {
    private let store: SpanStore
    private let capacity: Int
    private let lock = NSLock()
    private var idle: [StoreReader] = []

    public init(store: SpanStore, capacity: Int = 4) {
        self.store = store
        self.capacity = capacity
    }

    public func withReader<T>(_ body: (StoreReader) throws -> T) throws -> T {
        lock.lock()
        let reader = idle.popLast()
        lock.unlock()
        let active = try reader ?? store.reader()
        defer {
            active.finishReads()
            lock.lock()
            if idle.count < capacity { idle.append(active) }
            lock.unlock()
        }
        return try body(active)
    }
}
