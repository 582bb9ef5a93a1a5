import Foundation
import SpindleLLM

/// A project: its id (a UUID) and the name spans are stored under.
public struct Project: Sendable, Hashable {
    public var id: String
    public var name: String
}

/// An API key as listed (the key itself is never stored).
public struct APIKeyRecord: Sendable, Hashable {
    public var id: String
    public var project: Project
    /// The first characters of the key, to recognise it.
    public var prefix: String
    public var createdUnixNano: UInt64
    public var revokedUnixNano: UInt64?
}

/// Projects and API keys, on their own connection: used by `spindle keys` (also while a server runs;
/// SQLite serialises the writes) and by the server to check keys.
public final class KeyStore {
    private let connection: SQLiteConnection

    public init(path: String) throws {
        connection = try Schema.openForWriting(path: path)
    }

    /// The prefix every key starts with.
    public static let keyPrefix = "sk-spindle-"

    /// Creates a key for `project` (creating the project when new); returns the key, shown only now.
    public func createKey(project name: String) throws -> (key: String, record: APIKeyRecord) {
        let project = try projectNamed(name, create: true)!
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        let secret = String((0..<40).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        let key = Self.keyPrefix + secret
        let id = "key_" + String(format: "%016llx", generator.next() as UInt64)
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        let insert = try connection.prepare(
            "INSERT INTO api_keys (id, project_id, key_hash, key_prefix, created_unix_nano) VALUES (?1, ?2, ?3, ?4, ?5)")
        insert.bind(1, id)
        insert.bind(2, project.id)
        insert.bind(3, PromptIdentity.sha256(key))
        insert.bind(4, String(key.prefix(Self.keyPrefix.count + 4)))
        insert.bind(5, now)
        _ = try insert.step()
        return (key, APIKeyRecord(id: id, project: project, prefix: String(key.prefix(Self.keyPrefix.count + 4)), createdUnixNano: now))
    }

    /// Every key, newest first.
    public func keys() throws -> [APIKeyRecord] {
        let select = try connection.prepare(
            """
            SELECT k.id, p.id, p.name, k.key_prefix, k.created_unix_nano, k.revoked_unix_nano
            FROM api_keys k JOIN projects p ON p.id = k.project_id ORDER BY k.created_unix_nano DESC
            """)
        var keys: [APIKeyRecord] = []
        while try select.step() {
            keys.append(
                APIKeyRecord(
                    id: select.string(0), project: Project(id: select.string(1), name: select.string(2)),
                    prefix: select.string(3), createdUnixNano: select.uint64(4),
                    revokedUnixNano: select.isNull(5) ? nil : select.uint64(5)))
        }
        return keys
    }

    /// Revokes a key by id; false when there is no such (unrevoked) key.
    public func revoke(id: String) throws -> Bool {
        let update = try connection.prepare(
            "UPDATE api_keys SET revoked_unix_nano = ?2 WHERE id = ?1 AND revoked_unix_nano IS NULL")
        update.bind(1, id)
        update.bind(2, UInt64(Date().timeIntervalSince1970 * 1e9))
        _ = try update.step()
        return connection.changes == 1
    }

    /// Whether any unrevoked key exists.
    public func hasActiveKeys() throws -> Bool {
        try connection.integer("SELECT count(*) FROM api_keys WHERE revoked_unix_nano IS NULL") > 0
    }

    /// The project of an unrevoked key, nil for an unknown or revoked key.
    public func project(forKey key: String) throws -> (keyID: String, project: Project)? {
        let select = try connection.prepare(
            """
            SELECT k.id, p.id, p.name FROM api_keys k JOIN projects p ON p.id = k.project_id
            WHERE k.key_hash = ?1 AND k.revoked_unix_nano IS NULL
            """)
        select.bind(1, PromptIdentity.sha256(key))
        guard try select.step() else { return nil }
        return (select.string(0), Project(id: select.string(1), name: select.string(2)))
    }

    /// The project with this name (created when `create` and new).
    public func projectNamed(_ name: String, create: Bool = false) throws -> Project? {
        let select = try connection.prepare("SELECT id FROM projects WHERE name = ?1")
        select.bind(1, name)
        if try select.step() { return Project(id: select.string(0), name: name) }
        guard create else { return nil }
        let project = Project(id: UUID().uuidString.lowercased(), name: name)
        let insert = try connection.prepare("INSERT INTO projects (id, name, created_unix_nano) VALUES (?1, ?2, ?3)")
        insert.bind(1, project.id)
        insert.bind(2, name)
        insert.bind(3, UInt64(Date().timeIntervalSince1970 * 1e9))
        _ = try insert.step()
        return project
    }
}
