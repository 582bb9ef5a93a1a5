import Hummingbird
import SpindleCodec
import SpindleLLM
import SpindleStore

/// `POST /api/v1/prompts` `{prompt_id, version?, version_hash?, template?}` → 201
/// `{prompt_id, version, version_hash}`: makes a prompt version known before any call uses it (Basalt's
/// log warns about unknown ones). The version hash is the one given, else the version label, else the
/// SHA-256 of the template, as for prompts seen in spans.
struct PromptRegistration: Sendable {
    let ingest: VendorIngest

    func register(_ request: Request) async -> Response {
        do throws(VendorError) {
            let body = try FieldReader(try await ingest.body(request), path: "")
            let id = try body.requiredString("prompt_id")
            guard !id.isEmpty else { throw VendorError.invalid("prompt_id", "must not be empty") }
            let version = try body.string("version")
            let template = try body.string("template")
            let versionHash = try body.string("version_hash")
            guard version != nil || template != nil || versionHash != nil else {
                throw VendorError.invalid("version", "give a version, a version_hash or a template")
            }
            guard
                let prompt = PromptIdentity.reference(
                    id: id, versionHash: versionHash, version: version, template: template, variables: [],
                    systemInstructions: nil)
            else { throw VendorError.invalid("prompt_id", "is required") }
            let project = request.headers[AuthMiddleware.projectHeader] ?? "default"
            do throws(StoreError) {
                try await ingest.store.register([prompt], project: project)
            } catch {
                throw VendorError(status: .serviceUnavailable, message: "could not register the prompt: \(error)", retryAfter: 1)
            }
            var writer = JSONWriter()
            writer.raw("{\"prompt_id\":")
            writer.string(prompt.id)
            writer.raw(",\"version\":")
            if let version { writer.string(version) } else { writer.null() }
            writer.raw(",\"version_hash\":")
            writer.string(prompt.versionHash)
            writer.raw("}")
            return VendorResponse.json(.created, writer.bytes)
        } catch {
            return error.response
        }
    }
}
