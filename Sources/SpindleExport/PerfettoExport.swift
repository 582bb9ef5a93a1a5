import SpindleCodec
import SpindleModel

/// Chrome trace-event JSON, which chrome://tracing and ui.perfetto.dev open: one complete ("X") event
/// per span, one process per trace, one thread row per tree depth, times in microseconds.
public enum PerfettoExport {
    public static func encode(_ documents: [TraceDocument]) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.raw("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[")
        var first = true
        func comma() {
            if !first { writer.raw(",") }
            first = false
        }
        for (process, document) in documents.enumerated() {
            comma()
            writer.raw("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":")
            writer.number(process + 1)
            writer.raw(",\"args\":{\"name\":")
            writer.string("\(document.summary.rootService ?? "trace") \(document.rootSpanID)")
            writer.raw("}}")
            var depths = Set<Int>()
            for node in document.tree.depthFirst {
                let entry = document.tree.nodes[node]
                let span = document.span(node).span
                depths.insert(entry.depth)
                comma()
                writer.raw("{\"ph\":\"X\",\"name\":")
                writer.string(span.name)
                writer.raw(",\"cat\":")
                writer.string(span.kind.description)
                writer.raw(",\"pid\":")
                writer.number(process + 1)
                writer.raw(",\"tid\":")
                writer.number(entry.depth + 1)
                writer.raw(",\"ts\":")
                writer.number(Double(span.startTimeUnixNano) / 1e3)
                writer.raw(",\"dur\":")
                writer.number(Double(span.durationNanos) / 1e3)
                writer.raw(",\"args\":{\"span_id\":\"")
                writer.rawUTF8(span.spanID.hex)
                writer.raw("\",\"status\":")
                writer.string(span.status.code.description)
                writer.raw(",\"attributes\":")
                SpanJSON.attributes(span.attributes, into: &writer)
                writer.raw("}}")
            }
            for depth in depths.sorted() {
                comma()
                writer.raw("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":")
                writer.number(process + 1)
                writer.raw(",\"tid\":")
                writer.number(depth + 1)
                writer.raw(",\"args\":{\"name\":\"depth ")
                writer.number(depth)
                writer.raw("\"}}")
            }
        }
        writer.raw("]}")
        return writer.bytes
    }
}
