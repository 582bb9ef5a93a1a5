import Testing
import SpindleTree

func span(_ id: String, _ parents: [String] = [], _ start: UInt64 = 0) -> TreeSpan {
    TreeSpan(spanID: id, parents: parents, startTimeUnixNano: start)
}

extension TraceTree {
    /// `id(child,child(...))` for readable assertions.
    func render(_ spans: [TreeSpan]) -> String {
        func name(_ node: Int) -> String {
            let entry = nodes[node]
            var text = spans[entry.span].spanID
            if entry.missingParent { text += "?" }
            if entry.cycleBroken { text += "!" }
            if !entry.children.isEmpty { text += "(" + entry.children.map(name).joined(separator: ",") + ")" }
            return text
        }
        return roots.map(name).joined(separator: " ")
    }
}

@Suite struct TraceTreeTests {
    @Test func childrenOrderByStartThenID() {
        let spans = [span("r", [], 0), span("b", ["r"], 20), span("a", ["r"], 10), span("c", ["r"], 10)]
        let tree = TraceTree(spans)
        #expect(tree.render(spans) == "r(a,c,b)")
        #expect(tree.nodes[tree.index["b"]!].depth == 1)
    }

    @Test func childBeforeParentInInput() {
        let spans = [span("grandchild", ["child"], 3), span("child", ["root"], 2), span("root", [], 1)]
        #expect(TraceTree(spans).render(spans) == "root(child(grandchild))")
    }

    @Test func missingParentIsShownAsOrphanAndReattachedWhenItArrives() {
        var spans = [span("root", [], 1), span("orphan", ["gone"], 2), span("kid", ["orphan"], 3)]
        var tree = TraceTree(spans)
        #expect(tree.render(spans) == "root orphan?(kid)")
        #expect(tree.orphanCount == 1)
        spans.append(span("gone", ["root"], 1))
        tree = TraceTree(spans)
        #expect(tree.render(spans) == "root(gone(orphan(kid)))")
        #expect(tree.orphanCount == 0)
    }

    @Test func duplicateSpanKeepsTheFirst() {
        let spans = [span("root", [], 1), span("a", ["root"], 2), span("a", ["root"], 2)]
        let tree = TraceTree(spans)
        #expect(tree.render(spans) == "root(a)")
        #expect(tree.duplicates == ["a"])
    }

    @Test func severalParentsHangUnderTheFirstAndListTheOthers() {
        let spans = [span("p1", [], 1), span("p2", [], 2), span("join", ["p1", "p2"], 3)]
        let tree = TraceTree(spans)
        #expect(tree.render(spans) == "p1(join) p2")
        #expect(tree.nodes[tree.index["join"]!].otherParents == ["p2"])
    }

    @Test func cyclesAreCutAtTheirEarliestSpan() {
        let spans = [span("a", ["c"], 5), span("b", ["a"], 6), span("c", ["b"], 7), span("root", [], 1)]
        let tree = TraceTree(spans)
        #expect(tree.render(spans) == "root a!(b(c))")
        #expect(tree.cycleCount == 1)
        let selfLoop = [span("x", ["x"], 1)]
        #expect(TraceTree(selfLoop).render(selfLoop) == "x!")
    }

    @Test func aHundredThousandWide() {
        var spans = [span("root", [], 0)]
        for index in 0..<100_000 { spans.append(span("c\(index)", ["root"], UInt64(100_000 - index))) }
        let tree = TraceTree(spans.reversed())
        #expect(tree.roots.count == 1)
        let root = tree.nodes[tree.roots[0]]
        #expect(root.children.count == 100_000)
        #expect(tree.nodes[root.children[0]].span == 0)  // c99999 starts first; it is first in the reversed input
    }

    @Test func tenThousandDeep() {
        var spans = [span("s0", [], 0)]
        for level in 1..<10_000 { spans.append(span("s\(level)", ["s\(level - 1)"], UInt64(level))) }
        spans.shuffle()
        let tree = TraceTree(spans)
        #expect(tree.roots.count == 1)
        let deepest = tree.index["s9999"]!
        #expect(tree.nodes[deepest].depth == 9_999)
        #expect(tree.ancestry(of: deepest).count == 10_000)
        #expect(tree.depthFirst.count == 10_000)
        // A cycle through all of them is found and cut too.
        spans = spans.map { $0.spanID == "s0" ? span("s0", ["s9999"], 0) : $0 }
        let cyclic = TraceTree(spans)
        #expect(cyclic.cycleCount == 1)
        #expect(cyclic.nodes[cyclic.index["s0"]!].cycleBroken)
    }
}
