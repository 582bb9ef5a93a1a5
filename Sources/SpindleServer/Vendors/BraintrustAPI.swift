import Foundation
import Hummingbird
import NIOPosix
import SpindleCodec
import SpindleModel
import SpindleStore

/// Braintrust's `POST /v1/project_logs/{project_id}/insert`: `{events:[…]}` → `{row_ids:[…]}`, one id per
/// event in order. Each row becomes a span that keeps all its fields (as `braintrust.*` attributes, which
/// the LLM extractor reads) and its own tree ids: `span_id` (default: the row id), `root_span_id`
/// (default: the span id, a row of its own) and `span_parents` (several allowed). Rows are found by id:
/// inserting an id again replaces its row, `_is_merge` deep-merges into it (creating it when absent;
/// `_merge_paths` replace instead of descending), `_object_delete` deletes it. The events of a request
/// are applied in order, on the writer thread, in one transaction.
struct BraintrustAPI: Sendable {
    let ingest: VendorIngest

    /// The row fields kept as they are, each as a JSON attribute.
    static let keptFields = [
        "input", "output", "expected", "error", "scores", "metadata", "tags", "metrics", "context", "span_attributes",
        "origin", "created",
    ]
    /// Fields that say what to do with the row rather than what it holds.
    static let controlFields: Set<String> = ["_is_merge", "_merge_paths", "_object_delete", "_parent_id"]

    func insert(_ request: Request, projectID: String, project: String) async -> Response {
        do throws(VendorError) {
            let body = try FieldReader(try await ingest.body(request), path: "")
            guard let events = try body.array("events") else { throw VendorError.invalid("events", "is required") }
            var updates: [RowUpdate] = []
            var rowIDs: [String] = []
            for (index, event) in events.enumerated() {
                let row = try FieldReader(event, path: "events[\(index)]")
                let id = try row.string("id") ?? UUID().uuidString.lowercased()
                let fields = row.object.filter { !Self.controlFields.contains($0.key) && $0.key != "id" }
                // Built (so validated) now, so that a bad row fails the request before anything is written.
                let whole = try Self.span(row: .object(fields), id: id, projectID: projectID, path: row.path)
                if row.value("_object_delete") == .bool(true) {
                    updates.append(RowUpdate(rowID: id) { _ in nil })
                } else if row.value("_is_merge") == .bool(true) {
                    let paths = try (row.array("_merge_paths") ?? []).enumerated().map { position, path throws(VendorError) in
                        guard let keys = path.arrayValue?.compactMap(\.stringValue), keys.count == path.arrayValue?.count else {
                            throw VendorError.invalid(row.name("_merge_paths[\(position)]"), "must be an array of strings")
                        }
                        return keys
                    }
                    updates.append(
                        RowUpdate(rowID: id) { existing in
                            let base = existing.map(Self.row(of:)) ?? .object([])
                            let merged = Self.merge(base, .object(fields), at: [], replacing: Set(paths))
                            // The patch was checked above; should the merge still not make a row, keep the old one.
                            return (try? Self.span(row: merged, id: id, projectID: projectID, path: row.path))
                                ?? (try? Self.span(row: base, id: id, projectID: projectID, path: row.path))
                        })
                } else {
                    updates.append(RowUpdate(rowID: id) { _ in whole })
                }
                rowIDs.append(id)
            }
            try await ingest.store(TracesData(), project: project, updates: updates)
            var writer = JSONWriter()
            writer.raw("{\"row_ids\":")
            writer.value(.array(rowIDs.map { .string($0) }))
            writer.raw("}")
            return VendorResponse.json(.ok, writer.bytes)
        } catch {
            return error.response
        }
    }

    /// A row's fields back from its span's attributes.
    static func row(of span: Span) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        for field in ["span_id", "root_span_id", "span_parents"] + keptFields {
            guard let text = span.attributes[key: "braintrust.\(field)"]?.stringValue, let value = try? JSONValue.parse(text)
            else { continue }
            members.append((field, value))
        }
        return .object(members)
    }

    /// `patch` deep-merged into `base`: objects merge key by key, anything else (and anything at one of the
    /// `replacing` paths) replaces.
    static func merge(_ base: JSONValue, _ patch: JSONValue, at path: [String], replacing: Set<[String]>) -> JSONValue {
        guard case .object(var members) = base, case .object(let changes) = patch, !replacing.contains(path) else {
            return patch
        }
        for (key, value) in changes {
            if let index = members.firstIndex(where: { $0.key == key }) {
                members[index].value = merge(members[index].value, value, at: path + [key], replacing: replacing)
            } else {
                members.append((key, value))
            }
        }
        return .object(members)
    }

    /// The span (and tree ids) a row is stored as.
    static func span(row value: JSONValue, id: String, projectID: String, path: String) throws(VendorError)
        -> (span: Span, tree: TreeIdentity)
    {
        let row = try FieldReader(value, path: path)
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
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        let start = try metrics?.number("start").map { UInt64(max(0, $0) * 1e9) } ?? created ?? now
        let end = try metrics?.number("end").map { UInt64(max(0, $0) * 1e9) } ?? start
        let spanAttributes = try row.object("span_attributes")

        var attributes = [
            Attribute("braintrust.id", .string(id)), Attribute("braintrust.project_id", .string(projectID)),
            Attribute("spindle.source", .string("braintrust")),
            Attribute("braintrust.span_id", .string(VendorSpan.json(.string(spanID)))),
            Attribute("braintrust.root_span_id", .string(VendorSpan.json(.string(rootSpanID)))),
            Attribute("braintrust.span_parents", .string(VendorSpan.json(.array(parents.map { .string($0) })))),
        ]
        for field in keptFields {
            guard let value = row.value(field) else { continue }
            attributes.append(Attribute("braintrust.\(field)", .string(VendorSpan.json(value))))
        }
        let error = row.value("error")
        let span = Span(
            traceID: TraceID(treeID: rootSpanID),
            spanID: SpanID(treeID: spanID),
            parentSpanID: parents.first.map(SpanID.init(treeID:)),
            name: try spanAttributes?.string("name") ?? "braintrust row", kind: .internal, startTimeUnixNano: start,
            endTimeUnixNano: max(start, end), attributes: attributes,
            status: error.map { SpanStatus(code: .error, message: $0.stringValue ?? VendorSpan.json($0)) } ?? SpanStatus())
        return (span, TreeIdentity(rootSpanID: rootSpanID, spanID: spanID, parents: parents, rowID: id))
    }
}
