import Foundation
public import SpindleStore
import Synchronization

/// Who may write and read which project. With API keys (`spindle keys create`), every request needs
/// `Authorization: Bearer KEY` and reaches only the key's project; without any key (allowed only on
/// loopback, or with `--insecure`), auth is off and requests name their project themselves.
public final class Authenticator: Sendable {
    public enum Mode: Sendable, Equatable {
        /// No keys: the project comes from the request (header, resource attribute, `default`).
        case open
        /// Every request carries a key; its project is the only one it reaches.
        case keys
    }

    public enum Decision: Sendable, Equatable {
        /// Go on, under this project (nil: the request did not name one and auth is off); with a key, also
        /// the project's id.
        case allow(project: String?, projectID: String? = nil)
        /// 401: no key, or one that is unknown or revoked.
        case unauthenticated(String)
        /// 403: the key's project is not the one asked for.
        case forbidden(String)
        /// 429: the key is over its rate limit.
        case rateLimited(retryAfterSeconds: Int)
    }

    public let mode: Mode
    private let keys: Mutex<KeyStore?>
    /// Keys checked recently: key hash-free lookup by the key itself, with when the answer expires.
    private let known = Mutex<[String: (project: Project, keyID: String, expires: Date)]>([:])
    private let rateLimit: Double?
    private let buckets = Mutex<[String: (tokens: Double, updated: Date)]>([:])
    /// How long a key check is trusted before the database is asked again (so revocation takes effect).
    static let recheckAfter: TimeInterval = 5

    /// - Parameter rateLimit: requests per second per key; nil for none.
    public init(mode: Mode, databasePath: String, rateLimit: Double? = nil) throws {
        self.mode = mode
        keys = Mutex(mode == .keys ? try KeyStore(path: databasePath) : nil)
        self.rateLimit = rateLimit
    }

    /// The decision for a request with this `Authorization` header asking for `project` (nil: none named).
    public func authorize(authorization: String?, project requested: String?) -> Decision {
        guard mode == .keys else { return .allow(project: requested) }
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
            return .unauthenticated("missing API key: send Authorization: Bearer sk-spindle-… (spindle keys create)")
        }
        let key = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard let (project, keyID) = lookUp(key) else {
            return .unauthenticated("unknown or revoked API key")
        }
        if let requested, requested != project.name {
            return .forbidden("this key belongs to project \(project.name), not \(requested)")
        }
        if let wait = spend(keyID) { return .rateLimited(retryAfterSeconds: wait) }
        return .allow(project: project.name, projectID: project.id)
    }

    private func lookUp(_ key: String) -> (project: Project, keyID: String)? {
        let now = Date()
        if let hit = known.withLock({ $0[key] }), hit.expires > now { return (hit.project, hit.keyID) }
        let found = keys.withLock { store in (try? store?.project(forKey: key)) ?? nil }
        known.withLock { known in
            if known.count > 10_000 { known.removeAll() }
            if let found {
                known[key] = (found.project, found.keyID, now.addingTimeInterval(Self.recheckAfter))
            } else {
                known[key] = nil
            }
        }
        return found.map { ($0.project, $0.keyID) }
    }

    /// Takes one token from the key's bucket (capacity: one second's worth); the seconds to wait when empty.
    private func spend(_ keyID: String) -> Int? {
        guard let rate = rateLimit, rate > 0 else { return nil }
        let now = Date()
        return buckets.withLock { buckets in
            var bucket = buckets[keyID] ?? (rate, now)
            bucket.tokens = min(rate, bucket.tokens + now.timeIntervalSince(bucket.updated) * rate)
            bucket.updated = now
            defer { buckets[keyID] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }
}
