import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import NIOPosix
import SpindleCodec
import SpindleExport
import SpindleLLM
import SpindleModel
import SpindleStore
import SpindleTree

/// `GET /api/v1/traces`, `/api/v1/traces/{root_span_id}`, `/api/v1/spans/{span_id}[?root_span_id=]`,
/// `/api/v1/prompts`, `/api/v1/prompts/{prompt_id}/analytics`, `/api/v1/monitor-events`: JSON reads of the store.
/// Each request reads on its own connection, on NIO's blocking-I/O thread pool, never on an event loop.
struct QueryAPI: Sendable {
    let readers: ReaderPool

    init(store: SpanStore) {
        readers = ReaderPool(store: store)
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/v1/traces") { request, _ in await listTraces(request) }
        router.get("/api/v1/traces/{root_span_id}") { request, context in
            await trace(context.parameters.get("root_span_id") ?? "", request)
        }
        router.get("/api/v1/spans/{span_id}") { request, context in
            await span(context.parameters.get("span_id") ?? "", request)
        }
        router.get("/api/v1/prompts") { request, _ in await prompts(request) }
        router.get("/api/v1/prompts/{prompt_id}/analytics") { request, context in
            await promptAnalytics(context.parameters.get("prompt_id") ?? "", request)
        }
        router.get("/api/v1/monitor-events") { request, _ in await monitorEvents(request) }
    }

    func prompts(_ request: Request) async -> Response {
        let project = (request.headers[AuthMiddleware.projectHeader] ?? request.uri.queryParameters["project"].map(String.init))
        return await read { reader in
            Self.json(.ok, LLMJSON.prompts(try reader.promptVersions(project: project)))
        }
    }

    func promptAnalytics(_ promptID: String, _ request: Request) async -> Response {
        let parameters = request.uri.queryParameters
        let project = (request.headers[AuthMiddleware.projectHeader] ?? parameters["project"].map(String.init))
        let since: UInt64?
        let until: UInt64?
        let bucket: UInt64?
        do {
            since = try parameters["since"].map { try TimeArgument.parse(String($0), name: "since") }
            until = try parameters["until"].map { try TimeArgument.parse(String($0), name: "until") }
            bucket = try parameters["bucket"].map { try DurationArgument.parse(String($0), name: "bucket") }
        } catch let error as QueryError {
            return Self.error(.badRequest, error.message)
        } catch {
            return Self.error(.badRequest, "\(error)")
        }
        let bucketText = parameters["bucket"].map(String.init)
        return await read { reader in
            let versions = try reader.promptVersions(project: project, promptID: promptID)
            guard !versions.isEmpty else { return Self.error(.notFound, "no prompt \(promptID)") }
            let calls = try reader.promptCalls(promptID: promptID, project: project, since: since, until: until)
            let analytics = PromptAnalytics(promptID: promptID, calls: calls, bucketNanos: bucket)
            var labels: [String: String] = [:]
            for version in versions { labels[version.versionHash] = version.version }
            return Self.json(.ok, LLMJSON.analytics(analytics, labels: labels, bucket: bucketText))
        }
    }

    func monitorEvents(_ request: Request) async -> Response {
        let parameters = request.uri.queryParameters
        var query = MonitorEventQuery()
        query.project = (request.headers[AuthMiddleware.projectHeader] ?? parameters["project"].map(String.init))
        query.model = parameters["model"].map(String.init)
        do {
            if let flagged = parameters["flagged"] {
                guard let value = Bool(String(flagged)) else { throw QueryError("flagged must be true or false") }
                query.flagged = value
            }
            query.since = try parameters["since"].map { try TimeArgument.parse(String($0), name: "since") }
            query.until = try parameters["until"].map { try TimeArgument.parse(String($0), name: "until") }
            if let limit = parameters["limit"] {
                guard let value = Int(limit), (1...10_000).contains(value) else {
                    throw QueryError("limit must be between 1 and 10000")
                }
                query.limit = value
            }
        } catch let error as QueryError {
            return Self.error(.badRequest, error.message)
        } catch {
            return Self.error(.badRequest, "\(error)")
        }
        let finalQuery = query
        return await read { reader in Self.json(.ok, LLMJSON.monitorEvents(try reader.monitorEvents(finalQuery))) }
    }

    func listTraces(_ request: Request) async -> Response {
        let parameters = request.uri.queryParameters
        var query = TraceQuery()
        query.project = (request.headers[AuthMiddleware.projectHeader] ?? parameters["project"].map(String.init))
        do {
            query.since = try parameters["since"].map { try TimeArgument.parse(String($0), name: "since") }
            query.until = try parameters["until"].map { try TimeArgument.parse(String($0), name: "until") }
            if let minimum = parameters["min_duration_ms"] {
                guard let milliseconds = Double(minimum), milliseconds >= 0 else {
                    throw QueryError("min_duration_ms must be a non-negative number")
                }
                query.minDurationNanos = UInt64(milliseconds * 1e6)
            }
            if let limit = parameters["limit"] {
                guard let value = Int(limit), (1...1000).contains(value) else {
                    throw QueryError("limit must be between 1 and 1000")
                }
                query.limit = value
            }
            if let cursor = parameters["cursor"] {
                guard let parsed = TraceCursor(String(cursor)) else { throw QueryError("cursor is not one this API gave") }
                query.cursor = parsed
            }
            if let attribute = parameters["attr"] {
                guard let parsed = AttributeFilter(String(attribute)) else { throw QueryError("attr must be key:value") }
                query.attribute = parsed
            }
            if let status = parameters["status"] {
                guard status == "error" else { throw QueryError("status supports only error") }
                query.errorsOnly = true
            }
        } catch let error as QueryError {
            return Self.error(.badRequest, error.message)
        } catch {
            return Self.error(.badRequest, "\(error)")
        }
        query.service = parameters["service"].map(String.init)
        query.name = parameters["name"].map(String.init)

        let finalQuery = query
        return await read { reader in
            let page = try reader.traceSummaries(finalQuery)
            return Self.json(.ok, SpanJSON.traceList(page.traces, next: page.next))
        }
    }

    func trace(_ rootSpanID: String, _ request: Request) async -> Response {
        let project = (request.headers[AuthMiddleware.projectHeader] ?? request.uri.queryParameters["project"].map(String.init))
        return await read { reader in
            // The pool lends a second reader for a large trace, read on two connections at once.
            guard
                let document = try TraceDocument.load(
                    rootSpanID: rootSpanID, project: project, attributes: .deferred, from: reader, helpers: readers)
            else {
                return Self.error(.notFound, "no trace \(rootSpanID.lowercased())")
            }
            return Self.json(.ok, document.treeJSON)
        }
    }

    func span(_ spanID: String, _ request: Request) async -> Response {
        let spanID = spanID.lowercased()
        let rootSpanID = request.uri.queryParameters["root_span_id"].map(String.init)
        return await read { reader in
            guard let location = try reader.locate(spanID: spanID, rootSpanID: rootSpanID).first else {
                return Self.error(.notFound, "no span \(spanID)")
            }
            let spans = try reader.spans(
                rootSpanID: location.rootSpanID, project: location.project, attributes: .deferred)
            let tree = TraceTree(stored: spans)
            guard let node = tree.index[spanID] else { return Self.error(.notFound, "no span \(spanID)") }
            let stored = spans[tree.nodes[node].span]
            let figures = try reader.llmCalls(rootSpanID: location.rootSpanID, project: location.project)[spanID]
            let call = try figures.flatMap { $0.call(from: try stored.decodedSpan()) }
            var writer = JSONWriter(capacity: 4096)
            writer.raw("{\"span\":")
            SpanJSON.span(stored, node: tree.nodes[node], into: &writer, llm: SpanJSON.LLMParts(call: call, subtree: nil))
            writer.raw(",\"ancestry\":[")
            for (index, ancestor) in tree.ancestry(of: node).dropLast().enumerated() {
                if index > 0 { writer.raw(",") }
                SpanJSON.span(spans[tree.nodes[ancestor].span], node: tree.nodes[ancestor], into: &writer)
            }
            writer.raw("]}")
            return Self.json(.ok, writer.bytes)
        }
    }

    /// Runs `body` with a pooled reader on the blocking-I/O pool.
    private func read(_ body: @escaping @Sendable (StoreReader) throws -> Response) async -> Response {
        do {
            return try await NIOThreadPool.singleton.runIfActive {
                try readers.withReader(body)
            }
        } catch {
            return Self.error(.internalServerError, "could not read the store: \(error)")
        }
    }

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var writer = JSONWriter()
        writer.raw("{\"error\":{\"message\":")
        writer.string(message)
        writer.raw("}}")
        return json(status, writer.bytes)
    }
}

struct QueryError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Bucket sizes and other spans of time: `30s`, `15m`, `1h`, `1d`.
public enum DurationArgument {
    public static func parse(_ text: String, name: String) throws -> UInt64 {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let seconds = units[unit], let amount = Double(text.dropLast()), amount > 0,
            amount * seconds <= 366 * 86400
        else { throw QueryError("\(name) must be a duration like 30s, 15m, 1h or 1d") }
        return UInt64(amount * seconds * 1e9)
    }
}

/// Times in queries: RFC 3339 (`2026-11-24T10:00:00Z`), Unix nanoseconds, or a duration back from now
/// (`15m`, `1h`, `7d`).
public enum TimeArgument {
    public static func parse(_ text: String, name: String, now: Date = Date()) throws -> UInt64 {
        if let nanos = UInt64(text), text.count > 12 { return nanos }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let seconds = units[unit], let amount = Double(text.dropLast()), amount >= 0 {
            return UInt64(max(0, now.timeIntervalSince1970 - amount * seconds) * 1e9)
        }
        if let nanos = RFC3339.unixNanos(text) { return nanos }
        throw QueryError("\(name) must be RFC 3339 (2026-11-24T10:00:00Z), Unix nanoseconds, or a duration like 15m, 1h, 7d")
    }
}
