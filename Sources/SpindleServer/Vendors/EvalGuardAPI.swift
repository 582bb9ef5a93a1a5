import Foundation
import Hummingbird
import SpindleCodec
import SpindleLLM
import SpindleModel

/// EvalGuard's ingest endpoints: `POST /api/v1/monitoring` (a batch of up to 100 production logs) and
/// `POST /api/v1/prompts/analytics` (one prompt usage event). Each log or event becomes one span.
struct EvalGuardAPI: Sendable {
    let ingest: VendorIngest
    static let maxLogs = 100

    /// 201 `{"projectId", "count", "flagged", "logs":[{"id", "flagged"}]}`: `id` is the log's trace id
    /// (`GET /api/v1/traces/{id}`); a log is flagged when any score is below 0.3.
    func monitoring(_ request: Request, project: String) async -> Response {
        do throws(VendorError) {
            let body = try FieldReader(try await ingest.body(request), path: "")
            let projectID = try body.uuid("projectId")
            guard let logs = try body.array("logs") else { throw VendorError.invalid("logs", "is required") }
            guard logs.count <= Self.maxLogs else {
                throw VendorError.invalid("logs", "has \(logs.count) logs; at most \(Self.maxLogs) per request")
            }
            var records: [VendorSpan] = []
            for (index, log) in logs.enumerated() {
                let fields = try FieldReader(log, path: "logs[\(index)]")
                let appID = try fields.string("appId")
                var record = VendorSpan(
                    source: "evalguard", name: "evalguard.log \(appID ?? "")", service: appID ?? "evalguard",
                    latencyMs: try fields.number("latencyMs"))
                record.model = try fields.string("model")
                record.input = try fields.string("input")
                record.output = try fields.string("output")
                record.costUSD = try fields.number("costUsd")
                record.scores = try fields.numbers("scores")
                record.attributes.append(Attribute("evalguard.project_id", .string(projectID.uuidString.lowercased())))
                if let appID { record.attributes.append(Attribute("evalguard.app_id", .string(appID))) }
                records.append(record)
            }
            try await ingest.store(VendorSpan.traces(records), project: project)

            var writer = JSONWriter()
            writer.raw("{\"projectId\":")
            writer.string(projectID.uuidString.lowercased())
            writer.raw(",\"count\":")
            writer.number(records.count)
            let flagged = records.map { $0.scores.contains { $0.value < LLMCall.flagThreshold } }
            writer.raw(",\"flagged\":")
            writer.number(flagged.filter { $0 }.count)
            writer.raw(",\"logs\":[")
            for (index, record) in records.enumerated() {
                if index > 0 { writer.raw(",") }
                writer.raw("{\"id\":")
                writer.string(record.traceID.hex)
                writer.raw(",\"flagged\":")
                writer.bool(flagged[index])
                writer.raw("}")
            }
            writer.raw("]}")
            return VendorResponse.json(.created, writer.bytes)
        } catch {
            return error.response
        }
    }

    /// 204 once stored. The event becomes a span naming the prompt (`gen_ai.prompt.name`) and its version
    /// hash, so it counts in the same prompt-version analytics as LLM spans.
    func promptAnalytics(_ request: Request, project: String) async -> Response {
        do throws(VendorError) {
            let body = try FieldReader(try await ingest.body(request), path: "")
            let promptID = try body.uuid("prompt_id").uuidString.lowercased()
            let versionHash = try body.requiredString("version_hash")
            guard !versionHash.isEmpty else { throw VendorError.invalid("version_hash", "must not be empty") }
            var record = VendorSpan(
                source: "evalguard", name: "evalguard.prompt \(promptID)", service: "evalguard",
                latencyMs: try body.number("latency_ms"))
            record.costUSD = try body.number("cost_usd")
            if let score = try body.number("score") { record.scores = [("score", score)] }
            record.attributes += [
                Attribute("gen_ai.prompt.name", .string(promptID)),
                Attribute("traceloop.prompt.version_hash", .string(versionHash)),
            ]
            try await ingest.store(VendorSpan.traces([record]), project: project)
            return Response(status: .noContent)
        } catch {
            return error.response
        }
    }
}
