import Foundation
public import SpindleModel
import SpindleCodec
import SpindleLLM

/// A stored span with the resource and scope it came with.
public struct StoredSpan: Sendable, Hashable {
    public var project: String
    /// With `AttributeDecoding.deferred`, `span.attributes` is empty and `storedAttributes` holds them.
    public var span: Span
    public var resource: Resource
    public var resourceSchemaURL: String
    public var scope: InstrumentationScope
    public var scopeSchemaURL: String
    /// The span's attributes as stored (compact typed JSON), when the reader was asked not to decode them.
    public var storedAttributes: [UInt8]? = nil
    /// Row ids of the resource and scope: the same id is the same resource (or scope).
    public var resourceKey: Int64 = 0
    public var scopeKey: Int64 = 0
    /// The row's ids in Braintrust's tree model as stored (set for every span read from the store);
    /// nil: the span's OTLP ids in hex.
    public var tree: TreeIdentity? = nil

    /// `span_id` in Braintrust's tree model.
    public var treeSpanID: String { tree?.spanID ?? span.spanID.hex }
    /// `root_span_id`: for OTLP, the trace id.
    public var treeRootSpanID: String { tree?.rootSpanID ?? span.traceID.hex }
    /// `span_parents`: every parent, the first being where the span hangs.
    public var treeParents: [String] { tree?.parents ?? span.parentSpanID.map { [$0.hex] } ?? [] }

    /// The span with its attributes, decoding them now if the reader deferred it.
    public func decodedSpan() throws -> Span {
        guard let storedAttributes else { return span }
        var span = span
        span.attributes = try OTLPJSON.decodeAttributes(storedAttributes)
        return span
    }
}

/// A span's place in Braintrust's tree model, as stored.
public struct TreeIdentity: Sendable, Hashable {
    public var rootSpanID: String
    public var spanID: String
    public var parents: [String]
    /// The Braintrust row id, for rows that have one (merges and deletes find rows by it).
    public var rowID: String?

    public init(rootSpanID: String, spanID: String, parents: [String], rowID: String? = nil) {
        self.rootSpanID = rootSpanID
        self.spanID = spanID
        self.parents = parents
        self.rowID = rowID
    }
}

extension TraceID {
    /// The OTLP id of a tree id: itself when it is 32 hex digits, else the first 16 bytes of its SHA-256.
    public init(treeID text: String) {
        self = TraceID(hex: text) ?? TraceID(hex: PromptIdentity.sha256(text).prefix(32))!
    }
}

extension SpanID {
    /// The OTLP id of a tree id: itself when it is 16 hex digits, else the first 8 bytes of its SHA-256.
    public init(treeID text: String) {
        self = SpanID(hex: text) ?? SpanID(hex: PromptIdentity.sha256(text).prefix(16))!
    }
}

/// Whether a read decodes span attributes into the model, or hands over the stored JSON (for callers
/// that only re-serialize it, like the query API).
public enum AttributeDecoding: Sendable {
    case decoded
    case deferred
}

public struct StoreStats: Sendable, Hashable {
    public var spans: Int
    public var traces: Int
    public var resources: Int
    public var scopes: Int
    /// The database file plus its WAL.
    public var databaseBytes: Int
}

/// A read-only view of the store on its own connection. Not shared between threads: open one per use.
/// In WAL mode readers see the last committed state and never block the writer.
public final class StoreReader {
    private let connection: SQLiteConnection
    private let path: String
    private var statements: [String: SQLiteStatement] = [:]
    private var resources: [Int64: (Resource, String)] = [:]
    private var scopes: [Int64: (InstrumentationScope, String)] = [:]
    /// The root span id of the last span read: the spans of one trace share one string.
    private var lastRootSpanID = ""

    init(path: String) throws {
        self.path = path
        connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA query_only = 1")
        try connection.execute("PRAGMA cache_size = -16384")
        let version = try connection.integer("PRAGMA user_version")
        guard version == Schema.currentVersion else {
            throw SQLiteError(
                code: 0, message: "\(path) has schema version \(version), expected \(Schema.currentVersion); run spindle serve once to migrate")
        }
    }

    /// Opens a reader on an existing database without starting a writer (for the CLI).
    public static func open(path: String) throws -> StoreReader {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SQLiteError(code: 14, message: "no database at \(path) (start `spindle serve --db \(path)` first)")
        }
        return try StoreReader(path: path)
    }

    public func stats() throws -> StoreStats {
        let pageCount = try connection.integer("PRAGMA page_count")
        let pageSize = try connection.integer("PRAGMA page_size")
        let walSize = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        return StoreStats(
            spans: Int(try connection.integer("SELECT count(*) FROM spans")),
            traces: Int(try connection.integer("SELECT count(*) FROM (SELECT DISTINCT project, root_span_id FROM spans)")),
            resources: Int(try connection.integer("SELECT count(*) FROM resources")),
            scopes: Int(try connection.integer("SELECT count(*) FROM scopes")),
            databaseBytes: Int(pageCount * pageSize) + walSize)
    }

    /// Every span of one trace, ordered by start time then span id.
    /// - Parameter helpers: a pool to borrow a second reader from when the trace is large; it is then read
    ///   in two halves at once, one on each connection. (Each half is read from its own connection's
    ///   snapshot: a span committed between the two reads may be seen in one half only, as if it had
    ///   arrived a moment later.)
    public func spans(
        rootSpanID: String, project: String? = nil, attributes: AttributeDecoding = .decoded, helpers: ReaderPool? = nil
    ) throws -> [StoredSpan] {
        let rootSpanID = rootSpanID.lowercased()
        // The span index leads with the project: name it, so the lookup never becomes a table scan.
        let projects = try project.map { [$0] } ?? self.projects(holding: rootSpanID)
        if projects.count == 1 {
            return try spans(rootSpanID: rootSpanID, inProject: projects[0], attributes: attributes, helpers: helpers)
        }
        var result: [StoredSpan] = []
        for project in projects {
            result += try spans(rootSpanID: rootSpanID, inProject: project, attributes: attributes, helpers: nil)
        }
        return result
    }

    /// The projects that hold a trace (usually one).
    public func projects(holding rootSpanID: String) throws -> [String] {
        let statement = try prepare("SELECT project FROM traces WHERE root_span_id = ?1 ORDER BY project")
        statement.bind(1, rootSpanID.lowercased())
        var projects: [String] = []
        while try statement.step() { projects.append(statement.string(0)) }
        return projects
    }

    /// From this many spans on, a trace is read in two halves when a pool of helpers is given.
    public static let splitReadThreshold = 4096

    private func spans(rootSpanID: String, inProject project: String, attributes: AttributeDecoding, helpers: ReaderPool?)
        throws -> [StoredSpan]
    {
        var rows: SpanRows
        if let helpers, let pivot = try middleSpanID(rootSpanID: rootSpanID, project: project) {
            rows = try helpers.withReader { helper in
                let halves = SplitRead(readers: [self, helper])
                DispatchQueue.concurrentPerform(iterations: 2) { half in
                    halves.read(half) { reader in
                        try reader.rows(
                            rootSpanID: rootSpanID, project: project, attributes: attributes, half: (pivot, half == 1))
                    }
                }
                var rows = try halves.result(0).get()
                let upper = try halves.result(1).get()
                rows.spans += upper.spans
                rows.starts += upper.starts
                return rows
            }
        } else {
            rows = try self.rows(rootSpanID: rootSpanID, project: project, attributes: attributes, half: nil)
        }
        // The rows come in span id order (the index's); ordering them by start time here rather than in
        // SQLite spares its sorter, which would copy every whole row, attributes included. Ties keep the
        // span id order. The keys are gathered first: reading the spans in the comparison copies them.
        let starts = rows.starts
        let order = rows.spans.indices.sorted { starts[$0] != starts[$1] ? starts[$0] < starts[$1] : $0 < $1 }
        rows.spans.permute(to: order)
        return rows.spans
    }

    /// The trace's spans, or those below the pivot span id (`upper` false) or from it on (`upper` true).
    private func rows(
        rootSpanID: String, project: String, attributes: AttributeDecoding, half: (pivot: String, upper: Bool)?
    ) throws -> SpanRows {
        let range = half.map { $0.upper ? "AND s.span_id >= ?3" : "AND s.span_id < ?3" } ?? ""
        let statement = try prepare(
            """
            SELECT \(Self.spanColumns) FROM spans s WHERE s.project = ?2 AND s.root_span_id = ?1 \(range)
            ORDER BY s.span_id
            """)
        statement.bind(1, rootSpanID)
        statement.bind(2, project)
        if let half { statement.bind(3, half.pivot) }
        var rows = SpanRows()
        while try statement.step() {
            rows.spans.append(try storedSpan(statement, attributes: attributes))
            rows.starts.append(statement.uint64(8))
        }
        return rows
    }

    /// The span id in the middle of a large trace (read from the index alone); nil for small traces.
    private func middleSpanID(rootSpanID: String, project: String) throws -> String? {
        let count = try prepare("SELECT span_count FROM traces WHERE project = ?1 AND root_span_id = ?2")
        count.bind(1, project)
        count.bind(2, rootSpanID)
        guard try count.step() else { return nil }
        let spans = Int(count.int64(0))
        count.reset()
        guard spans >= Self.splitReadThreshold else { return nil }
        let middle = try prepare(
            "SELECT span_id FROM spans WHERE project = ?1 AND root_span_id = ?2 ORDER BY span_id LIMIT 1 OFFSET ?3")
        middle.bind(1, project)
        middle.bind(2, rootSpanID)
        middle.bind(3, spans / 2)
        defer { middle.reset() }
        return try middle.step() ? middle.string(0) : nil
    }

    /// One trace as OTLP data, grouped by resource and scope (for export and comparison).
    public func traces(rootSpanID: String, project: String? = nil) throws -> TracesData {
        Self.group(try spans(rootSpanID: rootSpanID, project: project))
    }

    /// Groups stored spans by resource, then scope, keeping the order in which each first appears.
    public static func group(_ spans: [StoredSpan]) -> TracesData {
        var data = TracesData()
        for stored in spans {
            let resourceIndex =
                data.resourceSpans.firstIndex {
                    $0.resource == stored.resource && $0.schemaURL == stored.resourceSchemaURL
                }
                ?? {
                    data.resourceSpans.append(
                        ResourceSpans(resource: stored.resource, scopeSpans: [], schemaURL: stored.resourceSchemaURL))
                    return data.resourceSpans.count - 1
                }()
            let scopeIndex =
                data.resourceSpans[resourceIndex].scopeSpans.firstIndex {
                    $0.scope == stored.scope && $0.schemaURL == stored.scopeSchemaURL
                }
                ?? {
                    data.resourceSpans[resourceIndex].scopeSpans.append(
                        ScopeSpans(scope: stored.scope, spans: [], schemaURL: stored.scopeSchemaURL))
                    return data.resourceSpans[resourceIndex].scopeSpans.count - 1
                }()
            data.resourceSpans[resourceIndex].scopeSpans[scopeIndex].spans.append(stored.span)
        }
        return data
    }

    /// What `storedSpan` reads, from `spans s`. Resources and scopes are read by id, once per reader:
    /// joining them would look both up again for every span.
    static let spanColumns = """
        s.project, s.root_span_id, s.span_id, s.span_parents, s.trace_state, s.flags, s.name, s.kind,
            s.start_time_unix_nano, s.end_time_unix_nano, s.status_code, s.status_message, s.attributes,
            s.dropped_attributes_count, s.events, s.dropped_events_count, s.links, s.dropped_links_count,
            s.resource_id, s.scope_id
        """
    static let spanColumnCount: Int32 = 20

    func storedSpan(_ row: SQLiteStatement, attributes decoding: AttributeDecoding = .decoded) throws
        -> StoredSpan
    {
        let rootText = row.string(1)
        let spanText = row.string(2)
        var traceID = TraceID(hex: rootText)
        var spanID = SpanID(hex: spanText)
        var parent: SpanID?
        var parentText: String?
        var tree: TreeIdentity?
        var otlpParent = true
        if !row.isNull(3) {
            // OTLP rows hold exactly ["<16 hex digits>"]; anything else goes through the JSON parser.
            if let (id, text) = row.singleParentSpanID(3) {
                parent = id
                parentText = text
            } else {
                let parents = row.string(3)
                let all = try JSONValue.parse(parents).arrayValue?.compactMap(\.stringValue) ?? []
                parent = all.first.map(SpanID.init(treeID:))
                otlpParent = all.count <= 1 && all.allSatisfy { SpanID(hex: $0) != nil }
                if !otlpParent { tree = TreeIdentity(rootSpanID: rootText, spanID: spanText, parents: all) }
            }
        }
        // Rows with ids of their own (Braintrust's): OTLP ids derived from them, the tree from the originals.
        if traceID == nil || spanID == nil || !otlpParent {
            traceID = traceID ?? TraceID(treeID: rootText)
            spanID = spanID ?? SpanID(treeID: spanText)
            if tree == nil {
                let parents = try row.optionalString(3).map { try JSONValue.parse($0).arrayValue?.compactMap(\.stringValue) ?? [] } ?? []
                tree = TreeIdentity(rootSpanID: rootText, spanID: spanText, parents: parents)
            }
        }
        guard let traceID, let spanID else { throw SQLiteError(code: 0, message: "span \(rootText)/\(spanText) has no ids") }
        // The ids as stored, kept for OTLP rows too: trees, JSON and sorting would otherwise spell them
        // out in hex again and again.
        if tree == nil {
            let root = rootText == lastRootSpanID ? lastRootSpanID : rootText
            lastRootSpanID = root
            tree = TreeIdentity(rootSpanID: root, spanID: spanText, parents: parentText.map { [$0] } ?? [])
        }
        let span = Span(
            traceID: traceID, spanID: spanID, traceState: row.string(4), parentSpanID: parent, flags: row.uint32(5),
            name: row.string(6), kind: SpanKind(rawValue: row.int32(7)), startTimeUnixNano: row.uint64(8),
            endTimeUnixNano: row.uint64(9),
            attributes: decoding == .decoded ? try OTLPJSON.decodeAttributes(row.bytes(12)) : [],
            droppedAttributesCount: row.uint32(13),
            events: row.isNull(14) ? [] : try OTLPJSON.decodeEvents(row.bytes(14)),
            droppedEventsCount: row.uint32(15),
            links: row.isNull(16) ? [] : try OTLPJSON.decodeLinks(row.bytes(16)),
            droppedLinksCount: row.uint32(17),
            status: SpanStatus(code: StatusCode(rawValue: row.int32(10)), message: row.string(11)))
        let resourceID = row.int64(18)
        let scopeID = row.int64(19)
        let resource = try self.resource(resourceID)
        let scope = try self.scope(scopeID)
        return StoredSpan(
            project: row.string(0), span: span, resource: resource.0, resourceSchemaURL: resource.1, scope: scope.0,
            scopeSchemaURL: scope.1, storedAttributes: decoding == .deferred ? row.bytes(12) : nil,
            resourceKey: resourceID, scopeKey: scopeID, tree: tree)
    }

    /// A resource and its schema URL by row id; shared by many spans, so decoded once per reader.
    func resource(_ id: Int64) throws -> (Resource, String) {
        if let cached = resources[id] { return cached }
        let statement = try prepare("SELECT attributes, dropped_attributes_count, schema_url FROM resources WHERE id = ?1")
        statement.bind(1, id)
        guard try statement.step() else { throw SQLiteError(code: 0, message: "span refers to missing resource \(id)") }
        let resource = (
            Resource(attributes: try OTLPJSON.decodeAttributes(statement.bytes(0)), droppedAttributesCount: statement.uint32(1)),
            statement.string(2)
        )
        statement.reset()
        resources[id] = resource
        return resource
    }

    /// An instrumentation scope and its schema URL by row id, decoded once per reader.
    private func scope(_ id: Int64) throws -> (InstrumentationScope, String) {
        if let cached = scopes[id] { return cached }
        let statement = try prepare(
            "SELECT name, version, attributes, dropped_attributes_count, schema_url FROM scopes WHERE id = ?1")
        statement.bind(1, id)
        guard try statement.step() else { throw SQLiteError(code: 0, message: "span refers to missing scope \(id)") }
        let scope = (
            InstrumentationScope(
                name: statement.string(0), version: statement.string(1),
                attributes: try OTLPJSON.decodeAttributes(statement.bytes(2)), droppedAttributesCount: statement.uint32(3)),
            statement.string(4)
        )
        statement.reset()
        scopes[id] = scope
        return scope
    }

    /// Prepared statements are cached per reader: the query API runs the same few again and again.
    func prepare(_ sql: String) throws -> SQLiteStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        let statement = try connection.prepare(sql)
        statements[sql] = statement
        return statement
    }

    /// Ends every statement's read, so the next query sees the latest commit. A statement left on a row
    /// keeps the connection's WAL snapshot open: a pooled reader would otherwise answer from the past.
    func finishReads() {
        for statement in statements.values { statement.reset() }
    }

    /// Runs a query returning one integer; for tests and diagnostics.
    public func integer(_ sql: String) throws -> Int64 { try connection.integer(sql) }
}

extension Array {
    /// Reorders in place so that `self[i]` becomes the element that was at `order[i]`, moving elements
    /// through the permutation's cycles rather than copying them into a new array.
    mutating func permute(to order: [Int]) {
        var done = [Bool](repeating: false, count: count)
        withUnsafeMutableBufferPointer { elements in
            for start in elements.indices where !done[start] {
                var position = start
                while true {
                    done[position] = true
                    let next = order[position]
                    if next == start { break }
                    elements.swapAt(position, next)
                    position = next
                }
            }
        }
    }
}

/// Stored spans with their start times, in span id order.
struct SpanRows {
    var spans: [StoredSpan] = []
    var starts: [UInt64] = []
}

/// The two halves of a split read: each is read by its own thread on its own reader (which is why
/// handing the readers over is safe) and taken once both are done.
private final class SplitRead: @unchecked Sendable {
    private let readers: [StoreReader]
    private var halves: [Result<SpanRows, Error>?] = [nil, nil]
    private let lock = NSLock()

    init(readers: [StoreReader]) { self.readers = readers }

    func read(_ index: Int, _ body: (StoreReader) throws -> SpanRows) {
        let result = Result { try body(readers[index]) }
        lock.withLock { halves[index] = result }
    }

    func result(_ index: Int) -> Result<SpanRows, Error> {
        lock.withLock { halves[index]! }
    }
}

/// A span's row while `StoreReader.forEachSpanRow` reads it: its columns as SQLite holds them, the stored
/// span built from them when asked, its LLM figures. Valid only inside the call that hands it over.
public struct StoredSpanRow: ~Copyable {
    let reader: StoreReader
    let statement: SQLiteStatement
    let columns: Columns

    /// Which columns a row holds.
    public enum Columns: Sendable {
        /// Every one.
        case all
        /// Project, ids, parents, name, times, status, attributes, resource, and whether the span is an
        /// LLM call (NULL elsewhere): what a row written straight from its columns needs. Reading fewer
        /// columns is cheaper.
        case summary
    }

    /// The columns of `StoreReader.spanColumns`, by position.
    public enum Column: Int32 {
        case project = 0, rootSpanID, spanID, spanParents, traceState, flags, name, kind, startTimeUnixNano,
            endTimeUnixNano, statusCode, statusMessage, attributes, droppedAttributesCount, events,
            droppedEventsCount, links, droppedLinksCount, resourceID, scopeID
    }

    /// The row id (`spans.id`).
    public var row: Int64 { statement.int64(StoreReader.spanColumnCount) }

    /// Whether the span is an LLM call (it has stored figures).
    public var isLLMCall: Bool { !statement.isNull(Self.firstLLMColumn + StoredLLMCall.countedOffset) }

    /// The span, with its attributes decoded or kept as stored, and its LLM figures when it is a call.
    /// A summary row reads its whole row again for them.
    public func read(attributes decoding: AttributeDecoding = .decoded) throws -> (span: StoredSpan, figures: StoredLLMCall?) {
        func read(_ statement: SQLiteStatement) throws -> (span: StoredSpan, figures: StoredLLMCall?) {
            let span = try reader.storedSpan(statement, attributes: decoding)
            guard !statement.isNull(Self.firstLLMColumn + StoredLLMCall.countedOffset) else { return (span, nil) }
            return (span, StoredLLMCall(spanID: statement.string(Column.spanID.rawValue), statement, from: Self.firstLLMColumn))
        }
        if columns == .all { return try read(statement) }
        return try reader.withSpanRow(id: row, read)
    }

    private static let firstLLMColumn = StoreReader.spanColumnCount + 1

    /// Whether the column is NULL.
    public func isNull(_ column: Column) -> Bool { statement.isNull(column.rawValue) }

    /// An integer column.
    public func integer(_ column: Column) -> Int64 { statement.int64(column.rawValue) }

    /// A text column's UTF-8 bytes (empty for NULL), valid until the row's next column read as another type
    /// or the next row: use them at once.
    public func text(_ column: Column) -> UnsafeBufferPointer<UInt8> { statement.textBytes(column.rawValue) }

    /// The span's resource.
    public func resource() throws -> Resource { try reader.resource(integer(.resourceID)).0 }
}
