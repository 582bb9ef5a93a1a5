import ArgumentParser
import Foundation
import SpindleForward
import SpindleServer
import SpindleStore
import Yams

/// `spindle serve --config FILE`: the settings of `serve` in YAML, in the Collector's spirit (receivers,
/// storage, limits, exporters). Every key is checked; an error names the line and the key.
///
/// ```yaml
/// receivers: {http: 127.0.0.1:4318, grpc: 127.0.0.1:4317, max_body: 64MiB}
/// storage: {db: ./spindle.db, durability: normal}
/// limits: {max_queue: 64MiB, rate_limit: 50/s, outbox_max_bytes: 1GiB, outbox_full: block}
/// exporters:
///   - {kind: otlp-http, url: http://collector:4318, key_env: COLLECTOR_KEY, max_items: 8192, max_delay: 200ms}
///   - {kind: braintrust, url: https://api.braintrust.dev, project_id: p-123, key_env: BRAINTRUST_API_KEY}
/// ```
struct ConfigFile {
    var http: ListenAddress?
    var grpc: GRPCListen?
    var maxBody: ByteCount?
    var db: String?
    var durability: Durability?
    var maxQueue: ByteCount?
    var rateLimit: RateLimit?
    var outboxMaxBytes: ByteCount?
    var outboxFull: OutboxOverflow?
    var prices: String?
    var exporters: [ExporterConfiguration] = []

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static let sections: [String: Set<String>] = [
        "receivers": ["http", "grpc", "max_body"],
        "storage": ["db", "durability", "prices"],
        "limits": ["max_queue", "rate_limit", "outbox_max_bytes", "outbox_full"],
    ]
    /// Exporter keys, and the `--forward` option each becomes.
    static let exporterKeys: [String: String] = [
        "name": "name", "key_env": "key-env", "project": "project", "service": "service", "llm_only": "llm-only",
        "max_items": "max-items", "max_bytes": "max-bytes", "max_delay": "max-delay", "concurrency": "concurrency",
        "encoding": "encoding", "project_id": "project-id", "monitor": "monitor",
    ]

    init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(description: "cannot read \(path)")
        }
        try self.init(yaml: text, origin: path)
    }

    init(yaml text: String, origin: String) throws {
        func problem(_ node: Node?, _ key: String, _ message: String) -> Problem {
            Problem(description: "\(origin):\(node?.mark?.line ?? 1): \(key): \(message)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw Problem(description: "\(origin): not valid YAML: \(error)")
        }
        guard let root else { return }
        guard let top = root.mapping else { throw problem(root, "(top level)", "must be a mapping of sections") }
        for (keyNode, value) in top {
            let section = keyNode.string ?? ""
            if section == "exporters" {
                guard let list = value.sequence else { throw problem(value, "exporters", "must be a list") }
                for (index, item) in list.enumerated() {
                    let path = "exporters[\(index)]"
                    guard let fields = item.mapping else { throw problem(item, path, "must be a mapping") }
                    var kind: String?
                    var url: String?
                    var options: [String] = []
                    for (fieldNode, fieldValue) in fields {
                        let field = fieldNode.string ?? ""
                        let scalar = fieldValue.scalar?.string
                        switch field {
                        case "kind": kind = scalar
                        case "url": url = scalar
                        case "headers":
                            guard let headers = fieldValue.mapping else { throw problem(fieldValue, "\(path).headers", "must be a mapping") }
                            for (name, value) in headers { options.append("header:\(name.string ?? "")=\(value.string ?? "")") }
                        case "llm_only":
                            guard let flag = fieldValue.bool else { throw problem(fieldValue, "\(path).llm_only", "must be true or false") }
                            if flag { options.append("llm-only") }
                        default:
                            guard let option = Self.exporterKeys[field] else {
                                throw problem(
                                    fieldNode, "\(path).\(field)",
                                    "unknown key; one of kind, url, headers, \(Self.exporterKeys.keys.sorted().joined(separator: ", "))")
                            }
                            guard let scalar else { throw problem(fieldValue, "\(path).\(field)", "must be a single value") }
                            options.append("\(option)=\(scalar)")
                        }
                    }
                    guard let kind else { throw problem(item, "\(path).kind", "is required (otlp-http, braintrust, evalguard, basalt, deeprails)") }
                    guard let url else { throw problem(item, "\(path).url", "is required") }
                    do {
                        exporters.append(try ExporterConfiguration(forward: ([kind + "=" + url] + options).joined(separator: ",")))
                    } catch {
                        throw problem(item, path, error.description.replacingOccurrences(of: "--forward ", with: ""))
                    }
                }
                continue
            }
            guard let allowed = Self.sections[section] else {
                throw problem(keyNode, section, "unknown section; one of receivers, storage, limits, exporters")
            }
            guard let fields = value.mapping else { throw problem(value, section, "must be a mapping") }
            for (fieldNode, fieldValue) in fields {
                let field = fieldNode.string ?? ""
                let key = "\(section).\(field)"
                guard allowed.contains(field) else {
                    throw problem(fieldNode, key, "unknown key; one of \(allowed.sorted().joined(separator: ", "))")
                }
                guard let text = fieldValue.string else { throw problem(fieldValue, key, "must be a single value") }
                func parse<T: ExpressibleByArgument>(_ type: T.Type, _ hint: String) throws -> T {
                    guard let parsed = T(argument: text) else { throw problem(fieldValue, key, "\(text) is not \(hint)") }
                    return parsed
                }
                switch field {
                case "http": http = try parse(ListenAddress.self, "HOST:PORT")
                case "grpc": grpc = try parse(GRPCListen.self, "HOST:PORT or off")
                case "max_body": maxBody = try parse(ByteCount.self, "a size like 64MiB")
                case "db": db = text
                case "prices": prices = text
                case "durability": durability = try parse(Durability.self, "normal or full")
                case "max_queue": maxQueue = try parse(ByteCount.self, "a size like 64MiB")
                case "rate_limit": rateLimit = try parse(RateLimit.self, "a rate like 50/s")
                case "outbox_max_bytes": outboxMaxBytes = try parse(ByteCount.self, "a size like 1GiB")
                case "outbox_full": outboxFull = try parse(OutboxOverflow.self, "block or drop-oldest")
                default: break
                }
            }
        }
        if Set(exporters.map(\.name)).count != exporters.count {
            throw Problem(description: "\(origin): two exporters have the same name; give one a name")
        }
    }
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a configuration file for spindle serve --config.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a YAML configuration: every key and value, with the line of each problem.")
        @Argument(help: "The YAML file.") var file: String

        func run() throws {
            do {
                let config = try ConfigFile(path: file)
                print("\(file): OK")
                if let http = config.http { print("  receivers.http \(http)") }
                if let grpc = config.grpc { print("  receivers.grpc \(grpc)") }
                if let db = config.db { print("  storage.db \(db)") }
                for exporter in config.exporters { print("  exporter \(exporter.name) -> \(exporter.url)") }
            } catch let problem as ConfigFile.Problem {
                FileHandle.standardError.write(Data((problem.description + "\n").utf8))
                throw ExitCode(1)
            }
        }
    }
}
