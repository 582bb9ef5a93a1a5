import Foundation

/// One upstream Spindle forwards to, and how.
public struct ExporterConfiguration: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case otlpHTTP = "otlp-http"
        case otlpGRPC = "otlp-grpc"
        case braintrust
        case evalguard
        case basalt
        case deeprails
    }

    public var kind: Kind
    /// Unique among the exporters; names the exporter's place in the outbox.
    public var name: String
    /// For OTLP the full `/v1/traces` URL (a base URL gets the path added); for the vendors their base URL.
    public var url: URL
    public var headers: [(name: String, value: String)] = []
    /// The environment variable holding the bearer key (read at start, never printed).
    public var keyEnvironment: String?
    /// Only spans of this project / service; only LLM calls.
    public var project: String?
    public var service: String?
    public var llmOnly = false
    /// Batches: at most this many items and bytes, and sent at the latest this long after the oldest waited.
    public var maxItems = 8192
    public var maxBytes = 4 << 20
    public var maxDelay: Duration = .milliseconds(200)
    /// Batches in flight at once. Braintrust keeps one, so rows of a trace arrive in order.
    public var concurrency = 2
    /// OTLP: protobuf (default) or JSON.
    public var json = false
    /// Braintrust: the project id in the insert path.
    public var projectID: String?
    /// DeepRails: the monitor events go to.
    public var monitorID: String?

    public init(kind: Kind, name: String, url: URL) {
        self.kind = kind
        self.name = name
        self.url = url
        switch kind {
        case .evalguard: maxItems = 100  // EvalGuard takes at most 100 logs a request
        case .basalt, .deeprails: maxItems = 1  // one record a request
        case .otlpGRPC: break
        case .braintrust:
            concurrency = 1
            maxItems = 1000  // rows are applied one by one upstream (merges): smaller requests answer in time
        case .otlpHTTP: break
        }
    }

    /// Whether OTLP requests kept as received can go to this exporter unchanged: it sends OTLP protobuf
    /// and takes every span (no filter).
    public var sendsRequestsAsReceived: Bool {
        (kind == .otlpGRPC || (kind == .otlpHTTP && !json)) && project == nil && service == nil && !llmOnly
    }

    public static func == (lhs: ExporterConfiguration, rhs: ExporterConfiguration) -> Bool { lhs.name == rhs.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `--forward KIND=URL[,option=value…]`, options: `name`, `key-env`, `header:NAME=VALUE`,
    /// `project`, `service`, `llm-only`, `max-items`, `max-bytes`, `max-delay` (`200ms`, `2s`),
    /// `concurrency`, `encoding=json|protobuf`, `project-id` (braintrust), `monitor` (deeprails).
    public init(forward text: String) throws(ParseError) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, let equals = first.firstIndex(of: "=") else {
            throw ParseError(description: "--forward \(text): expected KIND=URL, e.g. otlp-http=http://collector:4318")
        }
        let kindName = String(first[..<equals])
        guard let kind = Kind(rawValue: kindName) else {
            throw ParseError(
                description: "--forward \(text): unknown exporter \(kindName); one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let urlText = String(first[first.index(after: equals)...])
        guard var url = URL(string: urlText), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ParseError(description: "--forward \(text): \(urlText) is not an http(s) URL")
        }
        if kind == .otlpHTTP && !url.path.hasSuffix("/v1/traces") { url = url.appendingPathComponent("v1/traces") }
        self.init(kind: kind, name: "\(kind.rawValue):\(url.host!):\(url.port ?? (scheme == "https" ? 443 : 80))", url: url)
        for option in parts.dropFirst() {
            let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
            let key = pair[0]
            let value = pair.count > 1 ? pair[1] : ""
            func number() throws(ParseError) -> Int {
                guard let number = Int(value), number > 0 else {
                    throw ParseError(description: "--forward \(text): \(key) takes a positive number")
                }
                return number
            }
            switch key {
            case "name": name = value
            case "key-env": keyEnvironment = value
            case "project": project = value
            case "service": service = value
            case "llm-only": llmOnly = true
            case "max-items": maxItems = try number()
            case "max-bytes": maxBytes = try number()
            case "concurrency": concurrency = try number()
            case "max-delay":
                let milliseconds = value.hasSuffix("ms") ? Int(value.dropLast(2)) : Int(value.dropLast()).map { $0 * 1000 }
                guard let milliseconds, milliseconds >= 0, value.hasSuffix("s") else {
                    throw ParseError(description: "--forward \(text): max-delay takes e.g. 200ms or 2s")
                }
                maxDelay = .milliseconds(milliseconds)
            case "encoding":
                guard value == "json" || value == "protobuf" else {
                    throw ParseError(description: "--forward \(text): encoding is json or protobuf")
                }
                json = value == "json"
            case "project-id": projectID = value
            case "monitor": monitorID = value
            default:
                if key.hasPrefix("header:") {
                    headers.append((String(key.dropFirst(7)), value))
                } else {
                    throw ParseError(description: "--forward \(text): unknown option \(key)")
                }
            }
        }
        if kind == .braintrust && projectID == nil {
            throw ParseError(description: "--forward \(text): braintrust needs project-id=ID")
        }
        if kind == .deeprails && monitorID == nil {
            throw ParseError(description: "--forward \(text): deeprails needs monitor=ID")
        }
        if kind == .evalguard { maxItems = min(maxItems, 100) }
        if [.evalguard, .basalt, .deeprails].contains(kind) { llmOnly = true }  // they take LLM calls only
    }
}
