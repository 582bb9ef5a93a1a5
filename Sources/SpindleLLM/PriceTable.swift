import Foundation
import SpindleCodec
import Synchronization

/// USD prices per model, from a JSON data file: the one shipped in this module (`prices.json`) or the
/// user's (`--prices FILE`, same format). Models are matched by anchored, case-insensitive patterns after
/// provider prefixes and date or version suffixes are set aside; the first matching entry wins.
public final class PriceTable: Sendable {
    public struct Entry: Sendable, Hashable {
        public var provider: String
        /// The pattern as written in the file (a regular expression for the bare model name).
        public var match: String
        /// USD per million tokens.
        public var input: Double
        public var output: Double
        public var cachedInput: Double?
        public var cacheWrite: Double?
    }

    public let asOf: String
    public let entries: [Entry]
    private let patterns: [NSRegularExpression]
    /// Why a call priced by each entry costs what it does (`Cost.reason`), written once.
    private let reasons: [String]
    /// Model name → index of its entry (or nil: no price); model names repeat, matching is not free.
    private let cache = Mutex<[String: Int?]>([:])
    /// The model looked up last and its entry: calls of one model come in runs, and comparing the name
    /// costs less than hashing it.
    private let last = Mutex<(model: String, index: Int?)?>(nil)

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses a price table document.
    public init(json bytes: [UInt8], origin: String) throws(LoadError) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw LoadError(description: "\(origin): not JSON: \(error)")
        }
        guard let asOf = document["as_of"]?.stringValue else {
            throw LoadError(description: "\(origin): missing \"as_of\" (the date the prices were taken)")
        }
        guard let models = document["models"]?.arrayValue else {
            throw LoadError(description: "\(origin): missing \"models\" array")
        }
        var entries: [Entry] = []
        var patterns: [NSRegularExpression] = []
        for (index, model) in models.enumerated() {
            let place = "\(origin): models[\(index)]"
            guard let match = model["match"]?.stringValue, !match.isEmpty else {
                throw LoadError(description: "\(place): \"match\" must be a non-empty string")
            }
            guard let input = model["input"]?.doubleValue, let output = model["output"]?.doubleValue, input >= 0,
                output >= 0
            else {
                throw LoadError(description: "\(place) (\(match)): \"input\" and \"output\" must be non-negative numbers")
            }
            guard let pattern = try? NSRegularExpression(pattern: "^(?:\(match))$", options: [.caseInsensitive]) else {
                throw LoadError(description: "\(place): \"match\" is not a valid regular expression: \(match)")
            }
            entries.append(
                Entry(
                    provider: model["provider"]?.stringValue ?? "", match: match, input: input, output: output,
                    cachedInput: model["cached_input"]?.doubleValue, cacheWrite: model["cache_write"]?.doubleValue))
            patterns.append(pattern)
        }
        self.asOf = asOf
        self.entries = entries
        self.patterns = patterns
        reasons = entries.map { "\($0.match) prices as of \(asOf)" }
    }

    /// The table shipped with Spindle.
    public static let bundled: PriceTable = {
        guard let url = Bundle.module.url(forResource: "prices", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { fatalError("prices.json is missing from the SpindleLLM bundle") }
        do {
            return try PriceTable(json: Array(data), origin: "prices.json (bundled)")
        } catch {
            fatalError("the bundled price table is invalid: \(error)")
        }
    }()

    /// A table from a file (`--prices`).
    public static func load(path: String) throws(LoadError) -> PriceTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "cannot read price table \(path)")
        }
        return try PriceTable(json: Array(data), origin: path)
    }

    /// The entry pricing `model`, if any.
    public func entry(for model: String) -> Entry? { entryIndex(for: model).map { entries[$0] } }

    private func entryIndex(for model: String) -> Int? {
        if let repeated = last.withLock({ $0?.model == model ? $0 : nil }) { return repeated.index }
        // Keyed by the name as sent: the same spelling arrives with every call of a model.
        let found: Int?
        if let cached = cache.withLock({ $0[model] }) {
            found = cached
        } else {
            found = Self.candidates(model.lowercased()).lazy.compactMap { self.firstMatch($0) }.first
            cache.withLock { table in
                if table.count > 10_000 { table.removeAll() }  // hostile senders can invent model names
                table[model] = .some(found)
            }
        }
        last.withLock { $0 = (model, found) }
        return found
    }

    private func firstMatch(_ name: String) -> Int? {
        let range = NSRange(name.startIndex..., in: name)
        return patterns.firstIndex { $0.firstMatch(in: name, range: range) != nil }
    }

    /// Bedrock region and vendor prefixes (`us.anthropic.…`), and date or version suffixes, tried in order.
    private static let regionPrefix = try! NSRegularExpression(pattern: "^(us|eu|apac|global|jp|au|ca|us-gov)\\.")
    private static let vendorPrefix = try! NSRegularExpression(
        pattern: "^(anthropic|meta|mistral|cohere|amazon|ai21|deepseek|openai|google|xai|moonshot|moonshotai|qwen|writer)\\.")
    private static let suffixes = [
        "@[^@]*$", "-v[0-9]+(:[0-9]+)?$", "-latest$", "-[0-9]{4}-[0-9]{2}-[0-9]{2}$", "-[0-9]{8}$", "-[0-9]{3}$",
    ].map { try! NSRegularExpression(pattern: $0) }

    /// The names to look up for `model`, most specific first: the bare name (lowercased, without any
    /// router path up to the last `/`, Bedrock region and vendor prefix), then with date/version suffixes
    /// removed one at a time. `us.anthropic.claude-3-5-sonnet-20241022-v2:0` → `claude-3-5-sonnet-20241022-v2:0`,
    /// `claude-3-5-sonnet-20241022`, `claude-3-5-sonnet`.
    static func candidates(_ model: String) -> [String] {
        var name = model.lowercased().trimmingCharacters(in: .whitespaces)
        if let slash = name.lastIndex(of: "/") { name = String(name[name.index(after: slash)...]) }
        name = removing(regionPrefix, from: name)
        name = removing(vendorPrefix, from: name)
        var result = [name]
        while let shorter = suffixes.lazy.map({ removing($0, from: name) }).first(where: { $0 != name }) {
            name = shorter
            result.append(name)
        }
        return result
    }

    /// `text` without the first match of `pattern`, unless that would leave nothing.
    private static func removing(_ pattern: NSRegularExpression, from text: String) -> String {
        guard let found = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(found.range, in: text), range != text.startIndex..<text.endIndex
        else { return text }
        var result = text
        result.removeSubrange(range)
        return result
    }

    /// The call's cost from its tokens: uncached input, cache reads and cache writes each at their own
    /// rate (input tokens include the cached ones, so those are not counted twice), plus output.
    public func cost(of call: LLMCall) -> Cost {
        guard let model = call.model ?? call.requestModel else {
            return Cost(usd: nil, source: .unknown, reason: "the span names no model")
        }
        // The response model is usually dated; the requested one may be what the table knows.
        guard let index = entryIndex(for: model) ?? call.requestModel.flatMap(entryIndex(for:)) else {
            return Cost(usd: nil, source: .unknown, reason: "no price for model \(model) in the price table (as of \(asOf))")
        }
        guard call.tokens.input != nil || call.tokens.output != nil else {
            return Cost(usd: nil, source: .unknown, reason: "the span carries no token counts and no text to estimate them from")
        }
        let entry = entries[index]
        let input = call.tokens.input ?? 0
        let cacheRead = call.tokens.cacheRead ?? 0
        let cacheWrite = call.tokens.cacheWrite ?? 0
        let uncached = max(0, input - cacheRead - cacheWrite)
        let perToken = 1e-6
        let usd =
            Double(uncached) * entry.input * perToken + Double(cacheRead) * (entry.cachedInput ?? entry.input) * perToken
            + Double(cacheWrite) * (entry.cacheWrite ?? entry.input) * perToken
            + Double(call.tokens.output ?? 0) * entry.output * perToken
        return Cost(usd: usd, source: .priceTable, reason: reasons[index])
    }
}
