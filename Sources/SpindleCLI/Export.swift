import ArgumentParser
import Foundation
import SpindleCodec
import SpindleExport
import SpindleStore

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write traces out for debugging, sharing or another OTLP receiver.",
        discussion: """
            Formats:
              tree-json   the query API's trace document: summary, flat spans, nested tree (default)
              otlp-json   an ExportTraceServiceRequest in OTLP JSON (POST it to any /v1/traces)
              otlp-proto  the same in protobuf
              braintrust  an {"events":[...]} body for Braintrust's project-logs insert
              perfetto    Chrome trace-event JSON for ui.perfetto.dev and chrome://tracing
              html        one self-contained page with a zoomable waterfall and span details

            Examples:
              spindle export 5b8efff798038103d269b633813fc60c --format html --output trace.html
              spindle export ID1 ID2 --format otlp-proto | curl -H 'Content-Type: application/x-protobuf' --data-binary @- http://collector:4318/v1/traces
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case treeJSON = "tree-json"
        case otlpJSON = "otlp-json"
        case otlpProto = "otlp-proto"
        case braintrust
        case perfetto
        case html
    }

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Root span ids (for OTLP: trace ids in hex).") var rootSpanIDs: [String]
    @Option(help: "Output format.") var format: Format = .treeJSON
    @Option(help: "Write here instead of standard output.") var output: String?
    @Option(help: "The project holding the traces, when several do.") var project: String?

    func validate() throws {
        if rootSpanIDs.isEmpty { throw ValidationError("name at least one root span id (list them with: spindle traces)") }
    }

    func run() throws {
        let reader = try StoreReader.open(path: database.db)
        let documents = try rootSpanIDs.map { id in
            guard let document = try TraceDocument.load(rootSpanID: id, project: project, from: reader) else {
                throw ValidationError("no trace \(id) in \(database.db)")
            }
            return document
        }
        let bytes: [UInt8]
        switch format {
        case .treeJSON:
            if documents.count == 1 {
                bytes = documents[0].treeJSON
            } else {
                bytes = Array("[".utf8) + documents.map(\.treeJSON).joined(separator: Array(",".utf8)) + Array("]".utf8)
            }
        case .otlpJSON: bytes = OTLPJSON.encodeTraces(try merged(documents))
        case .otlpProto: bytes = OTLPProtobuf.encodeTraces(try merged(documents))
        case .braintrust: bytes = BraintrustExport.encode(documents)
        case .perfetto: bytes = PerfettoExport.encode(documents)
        case .html: bytes = HTMLExport.encode(documents)
        }
        if let output {
            try Data(bytes).write(to: URL(fileURLWithPath: output))
            FileHandle.standardError.write(Data("wrote \(bytes.count) bytes (\(format.rawValue)) to \(output)\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }

    private func merged(_ documents: [TraceDocument]) throws -> TracesData {
        StoreReader.group(try documents.flatMap { try $0.decodedSpans })
    }
}

import SpindleModel
