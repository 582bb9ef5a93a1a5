import Crypto

/// Which prompt version a call used. Explicit ids and versions win; otherwise the version is the SHA-256
/// of the template; with no template at all, the system instructions identify an implicit prompt, so
/// teams that never registered prompts still get per-version analytics.
public enum PromptIdentity {
    /// Lowercase hex SHA-256 of the UTF-8 text.
    public static func sha256(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
    }

    /// The id of an implicit prompt: `implicit-` and the first 12 hex digits of its content hash.
    public static func implicitID(hash: String) -> String { "implicit-" + hash.prefix(12) }

    static func reference(
        id: String?, versionHash: String?, version: String?, template: String?,
        variables: [(name: String, value: String)], systemInstructions: String?
    ) -> PromptReference? {
        let templateHash = template.map(sha256)
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
        let hash = sha256(systemInstructions)
        return PromptReference(
            id: implicitID(hash: hash), version: version, versionHash: versionHash ?? hash, template: nil,
            variables: variables, isImplicit: true)
    }
}
