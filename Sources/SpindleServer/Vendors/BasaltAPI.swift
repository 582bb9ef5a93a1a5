import Foundation
import Hummingbird
import NIOPosix
import SpindleCodec
import SpindleModel
import SpindleStore

/// Basalt's `POST /monitor/log`: one prompt output, stored as a span of the prompt `slug` (version and
/// tag kept). Tokens and cost are computed when absent (from the text, and from the tokens and model with
/// the price table). The answer warns when no such prompt, version (or, without a version, no version
/// labelled with the tag) is known to Spindle; prompts are known from the prompt versions seen in spans.
struct BasaltAPI: Sendable {
    let ingest: VendorIngest
    let readers: ReaderPool

    func log(_ request: Request, project: String) async -> Response {
        do throws(VendorError) {
            let body = try FieldReader(try await ingest.body(request), path: "")
            let slug = try body.requiredString("slug")
            guard !slug.isEmpty else { throw VendorError.invalid("slug", "must not be empty") }
            let output = try body.requiredString("output")
            let version = try body.string("version")
            let tag = try body.string("tag")
            let metadata = try body.object("metadata")
            var record = VendorSpan(
                source: "basalt", name: try body.string("name") ?? slug, service: "basalt",
                start: try body.time("startTime"), end: try body.time("endTime"))
            if record.start > record.end { record.start = record.end }
            record.input = try body.string("input")
            record.output = output
            if let model = try body.string("model") {
                record.model = model
            } else if let metadata {
                record.model = try metadata.string("model")
            }
            record.inputTokens = try body.number("inputTokens").map { Int($0) }
            record.outputTokens = try body.number("outputTokens").map { Int($0) }
            record.costUSD = try body.number("cost")
            record.attributes.append(Attribute("gen_ai.prompt.name", .string(slug)))
            if let version { record.attributes.append(Attribute("gen_ai.prompt.version", .string(version))) }
            if let tag { record.attributes.append(Attribute("basalt.tag", .string(tag))) }
            if let ideal = try body.string("idealOutput") { record.attributes.append(Attribute("basalt.ideal_output", .string(ideal))) }
            for (index, variable) in (try body.array("variables") ?? []).enumerated() {
                let fields = try FieldReader(variable, path: "variables[\(index)]")
                let label = try fields.requiredString("label")
                let value = fields.value("value").map { $0.stringValue ?? VendorSpan.json($0) } ?? ""
                record.attributes.append(Attribute("gen_ai.prompt.variable.\(label)", .string(value)))
            }
            for key in ["organization", "user"] {
                if let object = try body.object(key) {
                    for member in object.object {
                        record.attributes.append(
                            Attribute("basalt.\(key).\(member.key)", .string(member.value.stringValue ?? VendorSpan.json(member.value))))
                    }
                }
            }
            if let metadata {
                record.attributes.append(Attribute("basalt.metadata", .string(VendorSpan.json(.object(metadata.object)))))
            }

            // Known before this log is stored: the log itself must not make its prompt known.
            let warning = try await self.warning(slug: slug, version: version, tag: tag, project: project)
            try await ingest.store(VendorSpan.traces([record]), project: project)

            var writer = JSONWriter()
            writer.raw("{\"trace\":{\"id\":")
            writer.string(record.traceID.hex)
            writer.raw("},\"log\":{\"id\":")
            writer.string(record.spanID.hex)
            writer.raw("},\"warning\":")
            if let warning { writer.string(warning) } else { writer.null() }
            writer.raw("}")
            return VendorResponse.json(.ok, writer.bytes)
        } catch {
            return error.response
        }
    }

    private func warning(slug: String, version: String?, tag: String?, project: String) async throws(VendorError) -> String? {
        let versions: [PromptVersionRow]
        do {
            versions = try await NIOThreadPool.singleton.runIfActive {
                try readers.withReader { try $0.promptVersions(project: project, promptID: slug) }
            }
        } catch {
            throw VendorError(status: .internalServerError, message: "could not read the store: \(error)")
        }
        let labels = Set(versions.compactMap(\.version))
        if versions.isEmpty { return "No prompt found with the slug \(slug)" }
        // As Basalt resolves them: a version, when given, names the prompt version; else the tag does.
        if let version {
            return labels.contains(version) ? nil : "No version \(version) of prompt \(slug) found"
        }
        if let tag, !labels.contains(tag) { return "No version of prompt \(slug) tagged \(tag) found" }
        return nil
    }
}
