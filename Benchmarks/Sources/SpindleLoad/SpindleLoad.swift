import ArgumentParser
import Foundation
import SpindleCodec
import SpindleLLM
import SpindleModel
import SpindleSamples

@main
struct SpindleLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spindle-load",
        abstract: "Replays pre-encoded OTLP/HTTP requests against a running spindle serve and prints figures.",
        discussion: """
            Requests are encoded before the clock starts and sent over keep-alive connections, one thread
            each. Reports accepted spans/s, MB/s, latency percentiles and the server's peak RSS (--pid).
            With --decode-only it measures the protobuf decoder alone, in this process.
            """)

    enum Transport: String, ExpressibleByArgument, CaseIterable {
        case http
        case grpc
    }

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        case small
        case llm
    }

    @Option(help: "Spindle's OTLP address (HTTP port, or gRPC port with --transport grpc).") var target = "127.0.0.1:4318"
    @Option(help: "http (raw keep-alive sockets) or grpc (grpc-swift-2 client, one HTTP/2 connection a worker).")
    var transport: Transport = .http
    @Option(help: "small (~10 attributes, ~300 B a span) or llm (GenAI attributes, ~3 KiB a span).")
    var workload: Workload = .small
    @Option(name: .customLong("spans-per-request")) var spansPerRequest = 500
    @Option(name: .customLong("traces-per-request"), help: "Traces the spans of one request belong to.")
    var tracesPerRequest = 10
    @Option(name: .customLong("total-requests"), help: "Stop after this many requests (all connections together).")
    var totalRequests: Int?
    @Option(help: "Seed of the generated spans: runs with different seeds never share ids.") var seed: UInt64 = 1
    @Option(help: "Concurrent keep-alive connections.") var connections = 4
    @Option(help: "Seconds to run.") var duration = 10.0
    @Option(help: "Distinct pre-encoded requests to cycle through; their ids are renewed on every send.")
    var distinct = 50
    @Option(help: "pid of the server, to sample its RSS.") var pid: Int32?
    @Flag(name: .customLong("decode-only"), help: "Measure protobuf decoding only; no server needed.")
    var decodeOnly = false

    @Flag(
        name: .customLong("extract-only"),
        help: "Measure LLM call extraction (on decoded spans) only, with the bundled price table; no server needed.")
    var extractOnly = false
    @Flag(
        name: .customLong("store-only"),
        help: """
            Measure the store alone: decoded requests written through SpanStore (encoding, LLM extraction, \
            SQLite) into a fresh database in a temporary directory, by --connections tasks; no server needed.
            """)
    var storeOnly = false
    @Option(name: .customLong("llm-extraction"), help: "With --store-only: on or off, as spindle serve takes it.")
    var llmExtraction = "on"
    @Flag(help: "Also send the requests as OTLP JSON instead of protobuf.") var json = false
    @Option(
        help: "Send nothing: be an upstream on this port that answers 200 to every request at once (for forwarding benchmarks).")
    var sink: Int?

    func run() async throws {
        if let sink { try UpstreamSink(port: sink).run() }
        let traces = makeTraces()
        let bodies = traces.map { json ? OTLPJSON.encodeTraces($0) : OTLPProtobuf.encodeTraces($0) }
        let meanBytes = bodies.reduce(0) { $0 + $1.count } / bodies.count
        if decodeOnly {
            try runDecodeOnly(bodies, meanBytes: meanBytes)
            return
        }
        if extractOnly {
            runExtractOnly(traces)
            return
        }
        if storeOnly {
            try await StoreOnlyRun(
                traces: traces, writers: connections, duration: duration, extraction: llmExtraction != "off",
                workload: workload.rawValue
            ).execute()
            return
        }
        let parts = target.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--target must be HOST:PORT") }
        let host = String(parts[0]) == "localhost" ? "127.0.0.1" : String(parts[0])
        let requests = zip(bodies, traces).map { body, traces in
            let head =
                "POST /v1/traces HTTP/1.1\r\nHost: \(target)\r\nContent-Type: \(json ? "application/json" : "application/x-protobuf")\r\n"
                + "Content-Length: \(body.count)\r\n\r\n"
            return PatchableRequest(head: Array(head.utf8), body: body, traces: traces, json: json)
        }
        let result: LoadRun.Result
        switch transport {
        case .http:
            result = try LoadRun(
                host: host, port: port, requests: requests, connections: connections, duration: duration, pid: pid,
                requestsPerConnection: totalRequests.map { max(1, $0 / connections) }
            ).execute()
        case .grpc:
            guard !json else { throw ValidationError("gRPC carries protobuf only; drop --json") }
            result = try await GRPCLoadRun(
                host: host, port: port, requests: requests, connections: connections, duration: duration, pid: pid,
                requestsPerConnection: totalRequests.map { max(1, $0 / connections) }
            ).execute()
        }
        let seconds = result.elapsed
        let spans = Double(result.accepted * spansPerRequest)
        let bytes = Double(result.accepted * meanBytes)
        print(
            String(
                format:
                    "%@ %@: %.0f spans/s accepted, %.1f MB/s, %d requests (%d rejected; %@ %@), p50 %.2f ms, p99 %.2f ms, server peak RSS %@",
                workload.rawValue, transport == .grpc ? "grpc" : (json ? "http json" : "http protobuf"), spans / seconds, bytes / seconds / 1e6,
                result.accepted + result.rejected, result.rejected, transport == .grpc ? "gRPC codes" : "HTTP statuses",
                result.statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "),
                result.percentile(0.50) * 1e3, result.percentile(0.99) * 1e3,
                result.peakRSSKiB.map { String(format: "%.0f MiB", Double($0) / 1024) } ?? "n/a"))
        print(
            String(
                format: "  %d spans a request, %d B a request (%.0f B a span), %d connections, %.1f s",
                spansPerRequest, meanBytes, Double(meanBytes) / Double(spansPerRequest), connections, seconds))
    }

    private func makeTraces() -> [TracesData] {
        (0..<distinct).map { index in
            let seed = UInt64(index + 1) &* 7919 &+ self.seed &* 1_000_003
            return workload == .small
                ? SampleTraces.small(count: spansPerRequest, traces: tracesPerRequest, seed: seed)
                : SampleTraces.llmHeavy(count: spansPerRequest, traces: tracesPerRequest, seed: seed)
        }
    }

    private func runExtractOnly(_ traces: [TracesData]) {
        let extractor = LLMExtractor(prices: .bundled)
        let spans = traces.flatMap { $0.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) } }
        let clock = ContinuousClock()
        let start = clock.now
        var extracted = 0
        var calls = 0
        while clock.now - start < .seconds(duration) {
            for span in spans where extractor.extract(span, detail: .figures) != nil { calls += 1 }
            extracted += spans.count
        }
        let elapsed = (clock.now - start) / .seconds(1)
        print(
            String(
                format: "%@ extract-only: %.0f spans/s (%.1f µs a span, %d%% LLM calls) through the LLM extractor as ingest runs it (one thread)",
                workload.rawValue, Double(extracted) / elapsed, elapsed / Double(extracted) * 1e6, calls * 100 / max(extracted, 1)))
    }

    private func runDecodeOnly(_ bodies: [[UInt8]], meanBytes: Int) throws {
        let clock = ContinuousClock()
        let start = clock.now
        var decoded = 0
        var index = 0
        while clock.now - start < .seconds(duration) {
            let result = try OTLPProtobuf.decodeTraces(bodies[index % bodies.count])
            decoded += result.traces.spanCount
            index += 1
        }
        let elapsed = (clock.now - start) / .seconds(1)
        print(
            String(
                format: "%@ decode-only: %.0f spans/s, %.1f MB/s through the protobuf codec (one thread)",
                workload.rawValue, Double(decoded) / elapsed, Double(index * meanBytes) / elapsed / 1e6))
    }
}

/// One timed run: `connections` threads, each replaying requests until the deadline.
struct LoadRun {
    let host: String
    let port: Int
    let requests: [PatchableRequest]
    let connections: Int
    let duration: Double
    let pid: Int32?
    var requestsPerConnection: Int? = nil

    struct Result {
        var accepted = 0
        var rejected = 0
        var statuses: [Int: Int] = [:]
        var latencies: [Double] = []
        var elapsed = 0.0
        var peakRSSKiB: Int?

        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
    }

    func execute() throws -> Result {
        let collector = Collector()
        let deadline = Date().addingTimeInterval(duration)
        let started = Date()
        let group = DispatchGroup()
        for worker in 0..<connections {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                var local = Result()
                do {
                    let connection = try HTTPConnection(host: host, port: port)
                    var mine = requests
                    var sent: UInt32 = 0
                    while Date() < deadline && requestsPerConnection.map({ Int(sent) < $0 }) ?? true {
                        // A generation no other worker uses: every send stores new spans.
                        let index = Int(sent) % mine.count
                        mine[index].renew(generation: UInt32(worker + 1) << 24 | (sent + 1))
                        sent += 1
                        let begin = DispatchTime.now().uptimeNanoseconds
                        let status = try connection.roundTrip(mine[index].bytes)
                        local.latencies.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9)
                        local.statuses[status, default: 0] += 1
                        if status == 200 { local.accepted += 1 } else { local.rejected += 1 }
                    }
                } catch {
                    collector.add(local, failure: error)
                    return
                }
                collector.add(local, failure: nil)
            }
            thread.start()
        }
        var peak: Int?
        while group.wait(timeout: .now() + .milliseconds(200)) == .timedOut {
            if let pid, let rss = Self.residentKiB(pid: pid) { peak = max(peak ?? 0, rss) }
        }
        if let failure = collector.failure { throw failure }
        var total = collector.total
        total.elapsed = Date().timeIntervalSince(started)
        total.peakRSSKiB = peak
        return total
    }

    /// Where the workers leave their results.
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var total = Result()
        private(set) var failure: (any Error)?

        func add(_ local: Result, failure: (any Error)?) {
            lock.lock()
            defer { lock.unlock() }
            total.accepted += local.accepted
            total.rejected += local.rejected
            total.latencies += local.latencies
            total.statuses.merge(local.statuses, uniquingKeysWith: +)
            if let failure { self.failure = failure }
        }
    }

    static func residentKiB(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}
