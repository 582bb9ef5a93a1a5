import Crypto
import Synchronization

/// Which prompt version a call used. Explicit ids and versions win; otherwise the version is the SHA-256
/// of the template; with no template at all, the system instructions identify an implicit prompt, so
/// teams that never registered prompts still get per-version analytics.
public enum PromptIdentity {
    /// Lowercase hex SHA-256 of the UTF-8 text.
    public static func sha256(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(text.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Hashes of the templates and instructions seen most recently: each comes with every call of its prompt.
    private static let remembered = Mutex<[String: String]>([:])

    /// The last text hashed and its hash: calls of one prompt come in runs, and comparing the text (often
    /// the very same string) costs less than hashing it for the dictionary.
    private static let last = Mutex<(text: String, hash: String)>(("", sha256("")))

    static func rememberedSHA256(_ text: String) -> String {
        if let repeated = last.withLock({ $0.text == text ? $0.hash : nil }) { return repeated }
        let hash: String
        if let known = remembered.withLock({ $0[text] }) {
            hash = known
        } else {
            hash = sha256(text)
            remembered.withLock { remembered in
                if remembered.count >= 1024 { remembered.removeAll() }
                remembered[text] = hash
            }
        }
        last.withLock { $0 = (text, hash) }
        return hash
    }

    /// The id of an implicit prompt: `implicit-` and the first 12 hex digits of its content hash.
    public static func implicitID(hash: String) -> String {
        // The hash is most often the very string of the last call (see `rememberedSHA256`).
        if let repeated = lastImplicitID.withLock({ $0.hash == hash ? $0.id : nil }) { return repeated }
        let id = "implicit-" + hash.prefix(12)
        lastImplicitID.withLock { $0 = (hash, id) }
        return id
    }

    private static let lastImplicitID = Mutex<(hash: String, id: String)>(("", ""))

    public static func reference(
        id: String?, versionHash: String?, version: String?, template: String?,
        variables: [(name: String, value: String)], systemInstructions: String?
    ) -> PromptReference? {
        let templateHash = template.map(rememberedSHA256)
        if let id {
            return PromptReference(
                id: id, version: version, versionHash: versionHash ?? version ?? templateHash ?? "unversioned",
                template: template, variables: variables)
        }
        if let templateHash {
            // A template without a name: the template is the prompt, its hash the version.
            return PromptReference(
                id: implicitID(hash: templateHash), version: version, versionHash: versionHash ?? templateHash,
                template: template, variables: variables, isImplicit: true)
        }
        guard let systemInstructions, !systemInstructions.isEmpty else { return nil }
        let hash = rememberedSHA256(systemInstructions)
        return PromptReference(
            id: implicitID(hash: hash), version: version, versionHash: versionHash ?? hash, template: nil,
            variables: variables, isImplicit: true)
    }
}
