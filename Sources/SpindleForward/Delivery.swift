import AsyncHTTPClient
import CompressNIO
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOHTTP1
import SpindleCodec
import SpindleGRPC
import SpindleStore

/// How one batch ended.
enum DeliveryOutcome: Sendable {
    /// Accepted; `rejected` spans of it were refused by an OTLP upstream's partial success (not retried).
    case delivered(retries: Int, rejected: Int)
    /// Refused for good: these items, with the status and answer.
    case refused(items: Range<Int>, status: String, body: String?, retries: Int)
}

/// Sends a batch and sees it through: retries with exponential backoff and jitter on connection errors,
/// 408, 429, 5xx (honouring `Retry-After` in seconds or as an HTTP date); 413 splits the batch in halves;
/// other 4xx refuse it for good (a dead letter). Retries go on until delivery or shutdown: what Spindle
/// acknowledged is never given up silently.
struct Delivery: Sendable {
    let client: HTTPClient
    /// For `otlp-grpc`: the client of the upstream's TraceService.
    var grpc: GRPCClient<HTTP2ClientTransport.Posix>? = nil
    let exporter: ExporterConfiguration
    let bearer: String?
    let logger: Logger
    var initialBackoff: Duration = .milliseconds(200)
    var maxBackoff: Duration = .seconds(30)

    /// Delivers `items` (as the payload builds them); the outcomes of the parts that were refused.
    func deliver(_ items: [ForwardItem]) async throws -> [DeliveryOutcome] {
        try await deliver(items, range: 0..<items.count)
    }

    private func deliver(_ all: [ForwardItem], range: Range<Int>, retriedBefore: Int = 0) async throws -> [DeliveryOutcome] {
        let items = all[range]
        var retries = retriedBefore
        var rejected = 0
        for request in Payload.requests(items, for: exporter) {
            switch try await send(untilAnswered: request, retries: &retries) {
            case .accepted(let partial):
                rejected += partial
            case .refused(413, _) where range.count > 1:
                // Too large for the upstream: the halves go separately (ids stay the same).
                let middle = range.lowerBound + range.count / 2
                logger.info(
                    "upstream said 413; splitting the batch", metadata: ["exporter": "\(exporter.name)", "items": "\(range.count)"])
                return try await deliver(all, range: range.lowerBound..<middle, retriedBefore: retries + 1)
                    + deliver(all, range: middle..<range.upperBound)
            case .refused(let status, let answer):
                logger.warning(
                    "upstream refused a batch; kept as a dead letter",
                    metadata: ["exporter": "\(exporter.name)", "status": "\(status)", "items": "\(range.count)"])
                return [.refused(items: range, status: "HTTP \(status)", body: answer.body, retries: retries)]
            }
        }
        return [.delivered(retries: retries, rejected: rejected)]
    }

    /// An OTLP request kept as received (compressed), with its outbox row.
    struct KeptRequest: Sendable {
        var entry: OutboxEntry
        var body: DeflatedPart
    }

    /// What became of requests forwarded as received.
    struct AsReceivedOutcome: Sendable {
        var retries = 0
        /// Spans the upstream refused by partial success.
        var rejected = 0
        /// Requests the upstream would not take (a 4xx, or 413 for a single one): to send from the store,
        /// where a batch can be split by span and a refusal becomes a dead letter.
        var refused: [KeptRequest] = []
    }

    /// Sends requests kept as received as one request: protobuf reads concatenated messages as one, so
    /// their bodies are joined unchanged, into one gzip body without compressing again. A 413 splits them
    /// in halves (whole requests).
    func deliver(asReceived requests: ArraySlice<KeptRequest>, retriedBefore: Int = 0) async throws -> AsReceivedOutcome {
        let body = DeflatedPart.gzip(joining: requests.lazy.map(\.body))
        var outcome = AsReceivedOutcome(retries: retriedBefore)
        let request = UpstreamRequest(url: exporter.url, body: body, gzipped: true)
        switch try await send(untilAnswered: request, retries: &outcome.retries) {
        case .accepted(let partial):
            outcome.rejected = partial
            return outcome
        case .refused(413, _) where requests.count > 1:
            let middle = requests.startIndex + requests.count / 2
            logger.info(
                "upstream said 413; splitting the batch", metadata: ["exporter": "\(exporter.name)", "requests": "\(requests.count)"])
            let first = try await deliver(asReceived: requests[..<middle], retriedBefore: outcome.retries + 1)
            let second = try await deliver(asReceived: requests[middle...])
            return AsReceivedOutcome(
                retries: first.retries + second.retries, rejected: first.rejected + second.rejected,
                refused: first.refused + second.refused)
        case .refused(let status, _):
            logger.info(
                "upstream refused requests forwarded as received; sending their spans from the store",
                metadata: ["exporter": "\(exporter.name)", "status": "\(status)", "requests": "\(requests.count)"])
            outcome.refused = Array(requests)
            return outcome
        }
    }

    /// How the upstream finally answered one request.
    private enum Answered {
        /// 2xx; the spans it refused by partial success.
        case accepted(rejected: Int)
        /// A status not worth retrying as is.
        case refused(status: Int, answer: Answer)
    }

    /// Sends `request` until the upstream answers other than "later": connection errors and retryable
    /// statuses wait (backoff with jitter, or `Retry-After`) and go again. Counts the retries.
    private func send(untilAnswered request: UpstreamRequest, retries: inout Int) async throws -> Answered {
        var attempt = 0
        while true {
            try Task.checkCancellation()
            switch await send(request) {
            case .success((let status, let answer)) where (200..<300).contains(status):
                let partial = answer.rejectedSpans ?? 0
                if partial > 0 {
                    logger.warning(
                        "upstream accepted the batch in part (partial success); the rest is not retried",
                        metadata: ["exporter": "\(exporter.name)", "rejected": "\(partial)", "message": "\(answer.body ?? "")"])
                }
                return .accepted(rejected: partial)
            case .success((let status, let answer)) where Self.isRetryable(status):
                attempt += 1
                retries += 1
                let wait = answer.retryAfter ?? backoff(attempt)
                logger.notice(
                    "upstream busy; retrying", metadata: ["exporter": "\(exporter.name)", "status": "\(status)", "in": "\(wait)"])
                try await Task.sleep(for: wait)
            case .success((let status, let answer)):
                return .refused(status: status, answer: answer)
            case .failure(let error):
                attempt += 1
                retries += 1
                let wait = backoff(attempt)
                logger.notice(
                    "upstream unreachable; retrying", metadata: ["exporter": "\(exporter.name)", "error": "\(error)", "in": "\(wait)"])
                try await Task.sleep(for: wait)
            }
        }
    }

    static func isRetryable(_ status: Int) -> Bool { status == 408 || status == 429 || (500...599).contains(status) }

    /// `initialBackoff × 2^(attempt-1)`, capped, times a random factor in [0.5, 1) so clients spread out.
    func backoff(_ attempt: Int) -> Duration {
        let exponent = min(attempt - 1, 20)
        let base = min(initialBackoff * (1 << exponent), maxBackoff)
        return base * Double.random(in: 0.5..<1)
    }

    struct Answer: Sendable {
        var body: String?
        var retryAfter: Duration?
        /// OTLP partial success: spans the upstream refused.
        var rejectedSpans: Int?
    }

    private func send(_ request: UpstreamRequest) async -> Result<(Int, Answer), Error> {
        if let grpc { return await sendGRPC(request, grpc) }
        var http = HTTPClientRequest(url: request.url.absoluteString)
        http.method = .POST
        var body = ByteBuffer(bytes: request.body)
        if exporter.kind == .otlpHTTP {
            http.headers.add(name: "Content-Type", value: exporter.json ? "application/json" : "application/x-protobuf")
            if request.gzipped {
                http.headers.add(name: "Content-Encoding", value: "gzip")
            } else if let compressed = try? body.compress(
                // The fastest level: on loopback and LANs the CPU matters more than the last bytes.
                with: .gzip(configuration: .init(compressionLevel: .fastestCompression)))
            {
                body = compressed
                http.headers.add(name: "Content-Encoding", value: "gzip")
            }
        } else {
            http.headers.add(name: "Content-Type", value: "application/json")
        }
        if let bearer { http.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        for header in exporter.headers { http.headers.add(name: header.name, value: header.value) }
        http.body = .bytes(body)
        do {
            let response = try await client.execute(http, timeout: .seconds(30))
            let text = try await response.body.collect(upTo: 64 << 10)
            var answer = Answer(
                body: String(buffer: text), retryAfter: response.headers.first(name: "Retry-After").flatMap(Self.retryAfter))
            if exporter.kind == .otlpHTTP, (200..<300).contains(Int(response.status.code)) {
                answer.rejectedSpans = Self.partialSuccess(Array(buffer: text), json: exporter.json)
                answer.body = nil
            }
            return .success((Int(response.status.code), answer))
        } catch {
            return .failure(error)
        }
    }

    /// gRPC statuses in the HTTP terms the retry policy speaks: retryable codes (OTLP's list) as 503,
    /// RESOURCE_EXHAUSTED as 429 when the server says when to retry (RetryInfo) and as 413 otherwise (the
    /// message was too large: split), the rest as 400 (refused for good).
    private func sendGRPC(_ request: UpstreamRequest, _ client: GRPCClient<HTTP2ClientTransport.Posix>) async
        -> Result<(Int, Answer), Error>
    {
        var metadata = Metadata()
        if let bearer { metadata.addString("Bearer \(bearer)", forKey: "authorization") }
        for header in exporter.headers { metadata.addString(header.value, forKey: header.name.lowercased()) }
        var options = CallOptions.defaults
        options.compression = .gzip
        options.maxRequestMessageBytes = 256 << 20
        options.timeout = .seconds(30)
        var message = request.body
        if request.gzipped {  // gRPC compresses messages itself
            var buffer = ByteBuffer(bytes: message)
            guard let inflated = try? buffer.decompress(with: .gzip()) else {
                return .success((400, Answer(body: "could not inflate a kept request")))
            }
            message = Array(buffer: inflated)
        }
        do {
            let outcome = try await client.unary(
                request: ClientRequest(message: message, metadata: metadata), descriptor: OTLPGRPCTraceService.export,
                serializer: RawBytesCoder(), deserializer: RawBytesCoder(), options: options
            ) { response -> Result<[UInt8], RPCError> in response.accepted.flatMap { $0.message } }
            switch outcome {
            case .success(let bytes):
                return .success((200, Answer(rejectedSpans: Self.partialSuccess(bytes, json: false))))
            case .failure(let error):
                let answer = Answer(body: "gRPC \(error.code): \(error.message)")
                switch error.code {
                case .unavailable, .aborted, .deadlineExceeded, .cancelled, .outOfRange, .dataLoss:
                    return .success((503, answer))
                case .resourceExhausted:
                    let retryInfo = error.metadata[binaryValues: "grpc-status-details-bin"].contains { _ in true }
                    return .success((retryInfo ? 429 : 413, answer))
                default:
                    return .success((400, answer))
                }
            }
        } catch {
            return .failure(error)
        }
    }

    /// The rejected span count of an `ExportTraceServiceResponse` (protobuf, or OTLP JSON).
    static func partialSuccess(_ bytes: [UInt8], json: Bool) -> Int? {
        if json {
            guard let value = try? JSONValue.parse(bytes), let partial = value["partialSuccess"] else { return nil }
            return partial["rejectedSpans"]?.intValue
        }
        return OTLPProtobuf.decodeResponse(bytes).map { Int($0.rejectedSpans) }
    }

    /// `Retry-After` as seconds or as an HTTP date.
    static func retryAfter(_ value: String) -> Duration? {
        if let seconds = Int(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(max(0, Int(date.timeIntervalSinceNow * 1000)))
    }
}
