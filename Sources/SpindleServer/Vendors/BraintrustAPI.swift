import Foundation
import Hummingbird
import NIOPosix
import SpindleCodec
import SpindleModel
import SpindleStore

/// Braintrust's `POST /v1/project_logs/{project_id}/insert`: `{events:[…]}` → `{row_ids:[…]}`, one id per
/// event in order. Each row becomes a span that keeps all its fields (as `braintrust.*` attributes, which
/// the LLM extractor reads) and its own tree ids: `span_id` (default: the row id), `root_span_id`
/// (default: the span id, a row of its own) and `span_parents` (several allowed).
/// Not yet: `_is_merge` and `_object_delete` are refused with 400 rather than half-done.
struct BraintrustAPI: Sendable {
    let ingest: VendorIngest

    /// The row fields kept as they are, each as a JSON attribute.
    static let keptFields = [
        "input", "output", "expected", "error", "scores", "metadata", "tags", "metrics", "context", "span_attributes",
        "origin",
    ]

    func insert(_ request: Request, projectID: String, project: String) async -> Response {
        do throws(VendorError) {
            let body = try FieldReader(try await ingest.body(request), path: "")
            guard let events = try body.array("events") else { throw VendorError.invalid("events", "is required") }
            var spans: [Span] = []
            var trees: [SpanID: TreeIdentity] = [:]
            var rowIDs: [String] = []
            let now = UInt64(Date().timeIntervalSince1970 * 1e9)
            for (index, event) in events.enumerated() {
                let row = try FieldReader(event, path: "events[\(index)]")
                for flag in ["_is_merge", "_object_delete"] where row.value(flag) == .bool(true) {
                    throw VendorError(
                        status: .badRequest,
                        message: "\(row.name(flag)): merges and deletes are not supported by Spindle yet; send whole rows",
                        field: row.name(flag))
                }
                let id = try row.string("id") ?? UUID().uuidString.lowercased()
                let spanID = try row.string("span_id") ?? id
                let rootSpanID = try row.string("root_span_id") ?? spanID
                let parents = try (row.array("span_parents") ?? []).enumerated().map { position, parent throws(VendorError) in
                    guard let text = parent.stringValue else {
                        throw VendorError.invalid(row.name("span_parents[\(position)]"), "must be a string")
                    }
                    return text
                }
                let metrics = try row.object("metrics")
                let created = try row.time("created")
                let start = try metrics?.number("start").map { UInt64(max(0, $0) * 1e9) } ?? created ?? now
                let end = try metrics?.number("end").map { UInt64(max(0, $0) * 1e9) } ?? start
                let spanAttributes = try row.object("span_attributes")

                var attributes = [
                    Attribute("braintrust.id", .string(id)), Attribute("braintrust.project_id", .string(projectID)),
                    Attribute("spindle.source", .string("braintrust")),
                ]
                for field in Self.keptFields {
                    guard let value = row.value(field) else { continue }
                    attributes.append(Attribute("braintrust.\(field)", .string(VendorSpan.json(value))))
                }
                if let created = try row.string("created") { attributes.append(Attribute("braintrust.created", .string(created))) }
                let tree = TreeIdentity(rootSpanID: rootSpanID, spanID: spanID, parents: parents)
                let span = Span(
                    traceID: TraceID(hex: rootSpanID) ?? TraceID(derivedFrom: rootSpanID),
                    spanID: SpanID(hex: spanID) ?? SpanID(derivedFrom: spanID),
                    parentSpanID: parents.first.map { SpanID(hex: $0) ?? SpanID(derivedFrom: $0) },
                    name: try spanAttributes?.string("name") ?? "braintrust row", kind: .internal,
                    startTimeUnixNano: start, endTimeUnixNano: max(start, end), attributes: attributes,
                    status: row.value("error") == nil ? SpanStatus() : SpanStatus(code: .error, message: (row.value("error")?.stringValue ?? VendorSpan.json(row.value("error")!))))
                guard trees[span.spanID] == nil || trees[span.spanID] == tree else {
                    throw VendorError.invalid(row.name("span_id"), "\(spanID) appears twice with different tree ids")
                }
                trees[span.spanID] = tree
                spans.append(span)
                rowIDs.append(id)
            }
            let traces = TracesData(resourceSpans: [
                ResourceSpans(
                    resource: Resource(attributes: [Attribute("service.name", .string("braintrust"))]),
                    scopeSpans: [ScopeSpans(scope: InstrumentationScope(name: "spindle.vendor-api"), spans: spans)])
            ])
            try await ingest.store(traces, project: project, trees: trees)
            var writer = JSONWriter()
            writer.raw("{\"row_ids\":")
            writer.value(.array(rowIDs.map { .string($0) }))
            writer.raw("}")
            return VendorResponse.json(.ok, writer.bytes)
        } catch {
            return error.response
        }
    }
}
