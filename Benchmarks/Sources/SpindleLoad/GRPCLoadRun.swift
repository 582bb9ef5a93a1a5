import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// The gRPC counterpart of `LoadRun`: `connections` clients, one HTTP/2 connection each, each sending
/// unary `TraceService/Export` calls back to back until the deadline.
struct GRPCLoadRun {
    let host: String
    let port: Int
    let requests: [PatchableRequest]
    let connections: Int
    let duration: Double
    let pid: Int32?
    var requestsPerConnection: Int? = nil

    static let export = MethodDescriptor(
        fullyQualifiedService: "opentelemetry.proto.collector.trace.v1.TraceService", method: "Export")

    func execute() async throws -> LoadRun.Result {
        let collector = LoadRun.Collector()
        let deadline = ContinuousClock.now + .seconds(duration)
        let started = Date()
        let peak = PeakRSS()
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let pid {
                group.addTask {
                    while ContinuousClock.now < deadline {
                        if let rss = LoadRun.residentKiB(pid: pid) { peak.record(rss) }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
            }
            for worker in 0..<connections {
                group.addTask { [requests] in
                    let transport = try HTTP2ClientTransport.Posix(
                        target: .ipv4(host: host, port: port), transportSecurity: .plaintext)
                    try await withGRPCClient(transport: transport) { client in
                        var local = LoadRun.Result()
                        var mine = requests
                        var sent: UInt32 = 0
                        var options = CallOptions.defaults
                        options.maxRequestMessageBytes = 64 << 20
                        while ContinuousClock.now < deadline && requestsPerConnection.map({ Int(sent) < $0 }) ?? true {
                            let index = Int(sent) % mine.count
                            mine[index].renew(generation: UInt32(worker + 1) << 24 | (sent + 1))
                            sent += 1
                            let begin = DispatchTime.now().uptimeNanoseconds
                            let ok = try await client.unary(
                                request: ClientRequest(message: mine[index].body), descriptor: Self.export,
                                serializer: Bytes(), deserializer: Bytes(), options: options
                            ) { response in (try? response.accepted.get()) != nil }
                            local.latencies.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9)
                            local.statuses[ok ? 0 : 14, default: 0] += 1
                            if ok { local.accepted += 1 } else { local.rejected += 1 }
                        }
                        collector.add(local, failure: nil)
                    }
                }
            }
            try await group.waitForAll()
        }
        var total = collector.total
        total.elapsed = Date().timeIntervalSince(started)
        total.peakRSSKiB = peak.value
        return total
    }
}

/// Raw bytes both ways: requests are pre-encoded.
struct Bytes: MessageSerializer, MessageDeserializer {
    func serialize<Output: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Output { Output(message) }
    func deserialize<Input: GRPCContiguousBytes>(_ serializedMessageBytes: Input) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

final class PeakRSS: @unchecked Sendable {
    private let lock = NSLock()
    private var peak: Int?
    func record(_ kiB: Int) {
        lock.lock()
        peak = max(peak ?? 0, kiB)
        lock.unlock()
    }
    var value: Int? {
        lock.lock()
        defer { lock.unlock() }
        return peak
    }
}
