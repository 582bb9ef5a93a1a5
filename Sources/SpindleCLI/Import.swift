import ArgumentParser
import Foundation
import Logging
import SpindleCodec
import SpindleModel
import SpindleStore

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read OTLP trace files into the store.",
        discussion: """
            Accepts OTLP JSON (an ExportTraceServiceRequest or TracesData), JSON Lines of them (as the OpenTelemetry Collector's file exporter writes), and OTLP protobuf (.pb, .binpb, .proto). Spans already stored are skipped; invalid ones are reported. Shows progress on large files.

            Example:
              spindle import traces.jsonl --db spindle.db
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Files to import.") var files: [String]
    @Option(help: "Project to store the spans under.") var project = "default"

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one file") }
    }

    func run() async throws {
        var logger = Logger(label: "spindle.import")
        logger.logLevel = .warning
        let store = try SpanStore(path: database.db, logger: logger)
        defer { store.close() }
        var totals = (stored: 0, duplicates: 0, rejected: 0)
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let bytes = [UInt8](data)
            let progress = Progress(label: file, total: bytes.count)
            for (range, kind) in Self.documents(in: bytes) {
                let decoded: DecodedTraces
                do {
                    switch kind {
                    case .json: decoded = try OTLPJSON.decodeTraces(bytes[range])
                    case .protobuf: decoded = try OTLPProtobuf.decodeTraces(Array(bytes[range]))
                    }
                } catch {
                    throw ValidationError("\(file): bytes \(range.lowerBound)-\(range.upperBound): \(error.message)")
                }
                let result = try await store.write(decoded.traces, project: project)
                totals.stored += result.stored
                totals.duplicates += result.duplicates
                totals.rejected += decoded.rejections.count
                progress.update(range.upperBound)
            }
            progress.finish()
        }
        print("imported \(totals.stored) spans (\(totals.duplicates) already stored, \(totals.rejected) invalid) into \(database.db)")
    }

    enum Kind { case json, protobuf }

    /// Splits a file into documents: one protobuf message, one JSON document, or one per JSON line.
    static func documents(in bytes: [UInt8]) -> [(Range<Int>, Kind)] {
        guard let first = bytes.firstIndex(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return [] }
        guard bytes[first] == UInt8(ascii: "{") else { return [(0..<bytes.count, .protobuf)] }
        var result: [(Range<Int>, Kind)] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 0x0A {
            if bytes[start..<index].contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) { result.append((start..<index, .json)) }
            start = index + 1
        }
        if bytes[start...].contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            result.append((start..<bytes.count, .json))
        }
        // A pretty-printed single document spans lines: take the file whole when lines are not documents.
        if result.count > 1, (try? JSONValue.parse(bytes[result[0].0])) == nil { return [(0..<bytes.count, .json)] }
        return result
    }
}

/// A progress bar on standard error for files over a few megabytes, redrawn at most ten times a second.
final class Progress {
    let label: String
    let total: Int
    let enabled: Bool
    var lastDraw = Date.distantPast

    init(label: String, total: Int) {
        self.label = label
        self.total = total
        enabled = total > 4 << 20 && isatty(STDERR_FILENO) != 0
    }

    func update(_ done: Int) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let fraction = Double(done) / Double(max(total, 1))
        let filled = Int(fraction * 30)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 30 - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(Int(fraction * 100))%".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\(label) done\u{1B}[K\n".utf8)) }
    }
}
