import Foundation
import SpindleLLM
import SpindleModel
import SpindleStore

/// The store alone, without HTTP or a second process: decoded requests are written through `SpanStore`
/// (encoding, LLM extraction, the writer thread, SQLite) by several tasks, as the receivers write them.
/// Prints spans/s and this process's CPU a span; with nothing else on the cores, the figures move less
/// from run to run than a served run's, which makes it the tool for comparing two builds of the store.
struct StoreOnlyRun {
    let traces: [TracesData]
    let writers: Int
    let duration: Double
    let extraction: Bool
    let workload: String

    func execute() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-store-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = StoreOptions()
        if !extraction { options.llmExtractor = nil }
        let store = try SpanStore(path: directory.appendingPathComponent("store.db").path, options: options)
        defer { store.close() }

        let clock = ContinuousClock()
        let cpuBefore = Self.cpuSeconds()
        let start = clock.now
        let deadline = start + .seconds(duration)
        let stored = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<max(writers, 1) {
                group.addTask {
                    var stored = 0
                    var generation = UInt32(writer)
                    while clock.now < deadline {
                        let request = Self.renewed(traces[Int(generation) % traces.count], generation: generation)
                        stored += try await store.write(request).stored
                        generation &+= UInt32(max(writers, 1))
                    }
                    return stored
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = (clock.now - start) / .seconds(1)
        let cpu = Self.cpuSeconds() - cpuBefore
        print(
            String(
                format: "%@ store-only (extraction %@): %.0f spans/s stored, %.1f µs of CPU a span, %d writers, %.1f s",
                workload, extraction ? "on" : "off", Double(stored) / elapsed, cpu / Double(max(stored, 1)) * 1e6, writers,
                elapsed))
    }

    /// The request with fresh ids (the generation in the first four bytes of each) and its times moved
    /// forward a second a generation, so that every write stores new spans.
    static func renewed(_ traces: TracesData, generation: UInt32) -> TracesData {
        let tag = UInt64(generation) << 32
        let shift = UInt64(generation & 0xFF_FFFF) * 1_000_000_000
        func renew(_ id: UInt64) -> UInt64 { id & 0xFFFF_FFFF | tag }
        var traces = traces
        for r in traces.resourceSpans.indices {
            for s in traces.resourceSpans[r].scopeSpans.indices {
                for index in traces.resourceSpans[r].scopeSpans[s].spans.indices {
                    let original = traces.resourceSpans[r].scopeSpans[s].spans[index]
                    var span = original
                    span.traceID.high = renew(original.traceID.high)
                    span.spanID = SpanID(renew(original.spanID.value))
                    span.parentSpanID = original.parentSpanID.map { SpanID(renew($0.value)) }
                    span.startTimeUnixNano = original.startTimeUnixNano &+ shift
                    span.endTimeUnixNano = original.endTimeUnixNano &+ shift
                    traces.resourceSpans[r].scopeSpans[s].spans[index] = span
                }
            }
        }
        return traces
    }

    /// User and system CPU time this process has used.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
