/// Per-version analytics of one prompt, computed from its calls.
public struct PromptVersionAnalytics: Sendable, Hashable {
    public var versionHash: String
    public var count = 0
    public var errors = 0
    public var latencyP50: Double?
    public var latencyP95: Double?
    public var latencyP99: Double?
    /// Sum of the known costs, and how many calls had one.
    public var costTotal = 0.0
    public var costKnown = 0
    public var inputTokens = 0
    public var outputTokens = 0
    public var totalTokens = 0
    public var scoreSum = 0.0
    public var scored = 0
    public var firstSeenUnixNano: UInt64 = .max
    public var lastSeenUnixNano: UInt64 = 0

    public init(versionHash: String) { self.versionHash = versionHash }

    public var errorRate: Double { count == 0 ? 0 : Double(errors) / Double(count) }
    /// Mean cost of the calls whose cost is known.
    public var costAverage: Double? { costKnown == 0 ? nil : costTotal / Double(costKnown) }
    public var scoreAverage: Double? { scored == 0 ? nil : scoreSum / Double(scored) }

    /// Analytics of `calls` (all of one version).
    public init(versionHash: String, calls: [PromptCallRow]) {
        self.versionHash = versionHash
        let latencies = calls.map(\.latencyMs).sorted()
        latencyP50 = Self.percentile(latencies, 50)
        latencyP95 = Self.percentile(latencies, 95)
        latencyP99 = Self.percentile(latencies, 99)
        for call in calls {
            count += 1
            if call.isError { errors += 1 }
            if let cost = call.costUSD {
                costTotal += cost
                costKnown += 1
            }
            inputTokens += call.inputTokens ?? 0
            outputTokens += call.outputTokens ?? 0
            totalTokens += call.totalTokens ?? 0
            if let score = call.score {
                scoreSum += score
                scored += 1
            }
            firstSeenUnixNano = min(firstSeenUnixNano, call.startTimeUnixNano)
            lastSeenUnixNano = max(lastSeenUnixNano, call.startTimeUnixNano)
        }
    }

    /// Nearest-rank percentile of sorted values: the smallest value with at least p% of values at or below it.
    public static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// One time bucket of a version's series.
public struct PromptAnalyticsBucket: Sendable, Hashable {
    public var startUnixNano: UInt64
    public var analytics: PromptVersionAnalytics
}

/// A prompt's analytics: per version, and optionally per version per time bucket.
public struct PromptAnalytics: Sendable {
    public var promptID: String
    public var versions: [PromptVersionAnalytics]
    /// By version hash; empty without a bucket size.
    public var series: [String: [PromptAnalyticsBucket]]

    /// Groups `calls` by version (ordered by first use) and, with `bucketNanos`, into buckets aligned to
    /// multiples of the bucket size since the Unix epoch.
    public init(promptID: String, calls: [PromptCallRow], bucketNanos: UInt64? = nil) {
        self.promptID = promptID
        var order: [String] = []
        var byVersion: [String: [PromptCallRow]] = [:]
        for call in calls {
            if byVersion[call.versionHash] == nil { order.append(call.versionHash) }
            byVersion[call.versionHash, default: []].append(call)
        }
        versions = order.map { PromptVersionAnalytics(versionHash: $0, calls: byVersion[$0]!) }
        var series: [String: [PromptAnalyticsBucket]] = [:]
        if let bucketNanos, bucketNanos > 0 {
            for version in order {
                var buckets: [UInt64: [PromptCallRow]] = [:]
                for call in byVersion[version]! {
                    buckets[call.startTimeUnixNano / bucketNanos * bucketNanos, default: []].append(call)
                }
                series[version] = buckets.keys.sorted().map {
                    PromptAnalyticsBucket(
                        startUnixNano: $0, analytics: PromptVersionAnalytics(versionHash: version, calls: buckets[$0]!))
                }
            }
        }
        self.series = series
    }
}
