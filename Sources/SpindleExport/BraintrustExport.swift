import Foundation
public import SpindleCodec
import SpindleModel

/// A Braintrust project-logs insert body, `{"events":[...]}`, one row per span: the span's ids as the
/// row's tree (`span_id`, `root_span_id`, `span_parents`), its timing in `metrics`, its name and kind in
/// `span_attributes`, its attributes in `metadata`, and `error` for a failed span. (LLM input, output and
/// token metrics come with the LLM mapping.)
public enum BraintrustExport {
    public static func encode(_ documents: [TraceDocument]) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.raw("{\"events\":[")
        var first = true
        for document in documents {
            for node in document.tree.depthFirst {
                let stored = document.span(node)
                let span = stored.span
                if !first { writer.raw(",") }
                first = false
                writer.raw("{\"id\":\"")
                writer.rawUTF8(span.spanID.hex)
                writer.raw("\",")
                SpanJSON.treeIdentity(span, into: &writer)
                writer.raw(",\"created\":")
                writer.string(iso8601(span.startTimeUnixNano))
                writer.raw(",\"span_attributes\":{\"name\":")
                writer.string(span.name)
                writer.raw(",\"type\":")
                writer.string(span.kind == .client ? "llm" : "task")
                writer.raw("},\"metrics\":{\"start\":")
                writer.number(Double(span.startTimeUnixNano) / 1e9)
                writer.raw(",\"end\":")
                writer.number(Double(span.endTimeUnixNano) / 1e9)
                writer.raw("},\"metadata\":")
                SpanJSON.attributes(span.attributes + stored.resource.attributes.map { Attribute("resource." + $0.key, $0.value) }, into: &writer)
                if span.status.code == .error {
                    writer.raw(",\"error\":")
                    writer.string(span.status.message.isEmpty ? "error" : span.status.message)
                }
                writer.raw("}")
            }
        }
        writer.raw("]}")
        return writer.bytes
    }

    static func iso8601(_ nanos: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(nanos) / 1e9))
    }
}
