/// What the tree builder needs to know of a span: Braintrust's model, which OTLP spans map onto
/// (`span_id` = span id, `span_parents` = [parent span id]).
public struct TreeSpan: Sendable, Hashable {
    public var spanID: String
    /// The first parent is where the span hangs in the tree; the others are listed on the node.
    public var parents: [String]
    public var startTimeUnixNano: UInt64

    public init(spanID: String, parents: [String], startTimeUnixNano: UInt64) {
        self.spanID = spanID
        self.parents = parents
        self.startTimeUnixNano = startTimeUnixNano
    }
}

/// One trace's spans arranged as a forest. Nodes refer to spans by their index in the input.
/// Built without recursion, so a trace 10,000 levels deep or 100,000 spans wide is fine.
public struct TraceTree: Sendable, Hashable {
    public struct Node: Sendable, Hashable {
        /// Index of the span in the builder's input.
        public var span: Int
        /// Children, ordered by start time, then span id.
        public var children: [Int]
        /// The first parent is not in the trace (yet): the span is shown at the top, never dropped.
        public var missingParent: Bool
        /// Parents after the first (a span with several parents appears under its first).
        public var otherParents: [String]
        /// This span's parent link closed a cycle and was cut here; it is shown at the top.
        public var cycleBroken: Bool
        /// Levels below the top (0 for roots and orphans).
        public var depth: Int
    }

    /// One node per distinct span id, in input order (a repeated span id keeps its first occurrence).
    public var nodes: [Node]
    /// Node indices at the top: true roots, orphans and cut cycles, by start time then span id.
    public var roots: [Int]
    /// Node index by span id.
    public var index: [String: Int]
    /// Span ids seen more than once in the input.
    public var duplicates: [String]

    public var orphanCount: Int { nodes.reduce(0) { $0 + ($1.missingParent ? 1 : 0) } }
    public var cycleCount: Int { nodes.reduce(0) { $0 + ($1.cycleBroken ? 1 : 0) } }

    /// Builds the forest. `spans` may come in any order.
    public init(_ spans: [TreeSpan]) {
        var index: [String: Int] = [:]
        index.reserveCapacity(spans.count)
        var nodes: [Node] = []
        nodes.reserveCapacity(spans.count)
        var inputOf: [Int] = []  // node -> input index
        var duplicates: [String] = []
        // One hash of each id to index it and one of each first parent to find it: for a trace of
        // 100,000 spans these lookups are most of the work.
        for position in spans.indices {
            if let earlier = index.updateValue(nodes.count, forKey: spans[position].spanID) {
                index[spans[position].spanID] = earlier  // a repeated id keeps its first occurrence
                duplicates.append(spans[position].spanID)
                continue
            }
            nodes.append(
                Node(
                    span: position, children: [], missingParent: false,
                    otherParents: spans[position].parents.count > 1 ? Array(spans[position].parents.dropFirst()) : [],
                    cycleBroken: false, depth: 0))
            inputOf.append(position)
        }

        // Each node's parent node, if the first parent is present (and is not the node itself).
        var parentOf = [Int?](repeating: nil, count: nodes.count)
        for node in nodes.indices {
            guard let first = spans[inputOf[node]].parents.first else { continue }
            switch index[first] {
            case .some(node): nodes[node].cycleBroken = true  // a span that is its own parent
            case .some(let parent): parentOf[node] = parent
            case .none: nodes[node].missingParent = true
            }
        }

        // Find cycles along parent links: walk up from each unvisited node; meeting a node of the
        // current walk closes a cycle, which is cut at its earliest span.
        enum Mark { case unvisited, onPath, done }
        var marks = [Mark](repeating: .unvisited, count: nodes.count)
        var path: [Int] = []
        for start in nodes.indices where marks[start] == .unvisited {
            path.removeAll(keepingCapacity: true)
            var current: Int? = start
            while let node = current, marks[node] == .unvisited {
                marks[node] = .onPath
                path.append(node)
                current = parentOf[node]
            }
            if let node = current, marks[node] == .onPath {
                let cycle = path[path.firstIndex(of: node)!...]
                let cut = cycle.min { Self.precedes(spans[inputOf[$0]], spans[inputOf[$1]]) }!
                parentOf[cut] = nil
                nodes[cut].cycleBroken = true
            }
            for node in path { marks[node] = .done }
        }

        var roots: [Int] = []
        for node in nodes.indices {
            if let parent = parentOf[node] {
                nodes[parent].children.append(node)
            } else {
                roots.append(node)
            }
        }
        // By start time, then span id; the times are gathered first so that most comparisons touch
        // neither strings nor spans.
        let starts = inputOf.map { spans[$0].startTimeUnixNano }
        let order = { (a: Int, b: Int) in
            starts[a] != starts[b] ? starts[a] < starts[b] : spans[inputOf[a]].spanID < spans[inputOf[b]].spanID
        }
        roots.sort(by: order)
        for node in nodes.indices where nodes[node].children.count > 1 { nodes[node].children.sort(by: order) }

        // Depths, top-down with an explicit stack.
        var stack = roots
        while let node = stack.popLast() {
            for child in nodes[node].children {
                nodes[child].depth = nodes[node].depth + 1
                stack.append(child)
            }
        }

        self.nodes = nodes
        self.roots = roots
        self.index = index
        self.duplicates = duplicates
    }

    static func precedes(_ a: TreeSpan, _ b: TreeSpan) -> Bool {
        (a.startTimeUnixNano, a.spanID) < (b.startTimeUnixNano, b.spanID)
    }

    /// Nodes in display order (depth first, children in order), without recursion.
    public var depthFirst: [Int] {
        var result: [Int] = []
        result.reserveCapacity(nodes.count)
        var stack = Array(roots.reversed())
        while let node = stack.popLast() {
            result.append(node)
            stack.append(contentsOf: nodes[node].children.reversed())
        }
        return result
    }

    /// Node indices from the top down to `node` (inclusive).
    public func ancestry(of node: Int) -> [Int] {
        var parentOf = [Int?](repeating: nil, count: nodes.count)
        for (parent, entry) in nodes.enumerated() { for child in entry.children { parentOf[child] = parent } }
        var chain = [node]
        while let parent = parentOf[chain.last!] { chain.append(parent) }
        return chain.reversed()
    }
}
