import Foundation
import SpindleModel
import SpindleStore

/// The trace as an indented waterfall for a terminal: tree glyphs, a timing bar per span, duration,
/// status and a few key attributes. ANSI colour only when asked (the CLI asks when stdout is a TTY).
public enum TerminalTree {
    /// Deeper levels are drawn at this indentation, with the real depth printed.
    static let maxIndent = 24
    static let keyAttributes = [
        "gen_ai.request.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "llm.model_name",
        "http.request.method", "http.route", "url.path", "http.response.status_code", "db.system", "rpc.method",
        "messaging.destination.name", "error.type",
    ]

    public static func render(_ document: TraceDocument, color: Bool, nameWidth: Int = 44, barWidth: Int = 32) -> String {
        let paint = Paint(enabled: color)
        let summary = document.summary
        var lines: [String] = []
        var header = paint.bold("trace \(document.rootSpanID)")
        header += "  " + [
            summary.rootService, "\(summary.spanCount) spans", formatDuration(summary.durationNanos),
            summary.errorCount > 0 ? paint.red("\(summary.errorCount) errors") : nil,
            summary.orphanCount > 0 ? paint.yellow("\(summary.orphanCount) orphans") : nil,
        ].compactMap { $0 }.joined(separator: " · ")
        lines.append(header)

        let traceStart = summary.startTimeUnixNano
        let total = max(summary.durationNanos, 1)
        var stack: [(node: Int, prefix: String, isLast: Bool, top: Bool)] = document.tree.roots.enumerated().reversed().map {
            ($0.element, "", $0.offset == document.tree.roots.count - 1, true)
        }
        while let (node, prefix, isLast, top) = stack.popLast() {
            let entry = document.tree.nodes[node]
            let span = document.span(node).span
            let glyph = top ? "" : (isLast ? "└─ " : "├─ ")
            var label = prefix + glyph
            if entry.depth > maxIndent { label += "…\(entry.depth) " }
            label += span.name
            let padded = label.count >= nameWidth ? String(label.prefix(nameWidth - 1)) + "…" : label.padding(toLength: nameWidth, withPad: " ", startingAt: 0)

            let offset = span.startTimeUnixNano >= traceStart ? span.startTimeUnixNano - traceStart : 0
            let startColumn = min(barWidth - 1, Int(Double(offset) / Double(total) * Double(barWidth)))
            let length = max(1, min(barWidth - startColumn, Int((Double(span.durationNanos) / Double(total) * Double(barWidth)).rounded())))
            let bar = String(repeating: " ", count: startColumn) + String(repeating: "█", count: length)
                + String(repeating: " ", count: barWidth - startColumn - length)
            let barPainted = span.status.code == .error ? paint.red(bar) : paint.cyan(bar)

            var notes: [String] = []
            if span.status.code == .error {
                notes.append(paint.red("✗ " + (span.status.message.isEmpty ? "error" : span.status.message)))
            }
            if entry.missingParent, let parent = span.parentSpanID { notes.append(paint.yellow("⚠ missing parent \(parent.hex)")) }
            if entry.cycleBroken { notes.append(paint.yellow("⚠ parent link cut (cycle)")) }
            if !entry.otherParents.isEmpty { notes.append("also under \(entry.otherParents.joined(separator: ","))") }
            for key in keyAttributes {
                guard notes.count < 4, let value = span.attributes[key: key] else { continue }
                notes.append(paint.dim("\(key)=\(short(value))"))
            }
            var line = "\(padded) \(barPainted) \(formatDuration(span.durationNanos).padding(toLength: 9, withPad: " ", startingAt: 0)) \(notes.joined(separator: "  "))"
            while line.last == " " { line.removeLast() }
            lines.append(line)

            let childPrefix =
                entry.depth >= maxIndent ? prefix : prefix + (top ? "" : (isLast ? "   " : "│  "))
            for (index, child) in entry.children.enumerated().reversed() {
                stack.append((child, childPrefix, index == entry.children.count - 1, false))
            }
        }
        return lines.joined(separator: "\n")
    }

    public static func formatDuration(_ nanos: UInt64) -> String {
        let milliseconds = Double(nanos) / 1e6
        if milliseconds < 1 { return String(format: "%.2f ms", milliseconds) }
        if milliseconds < 1000 { return String(format: "%.1f ms", milliseconds) }
        return String(format: "%.2f s", milliseconds / 1000)
    }

    static func short(_ value: AttributeValue) -> String {
        let text: String
        switch value {
        case .string(let string): text = string
        case .int(let int): text = String(int)
        case .double(let double): text = String(double)
        case .bool(let bool): text = String(bool)
        default: text = "…"
        }
        return text.count > 40 ? String(text.prefix(39)) + "…" : text
    }

    struct Paint {
        var enabled: Bool
        func wrap(_ code: String, _ text: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        func bold(_ text: String) -> String { wrap("1", text) }
        func red(_ text: String) -> String { wrap("31", text) }
        func yellow(_ text: String) -> String { wrap("33", text) }
        func cyan(_ text: String) -> String { wrap("36", text) }
        func dim(_ text: String) -> String { wrap("2", text) }
    }
}
