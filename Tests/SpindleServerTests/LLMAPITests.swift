import Foundation
import Testing
import SpindleCodec
import SpindleModel
import SpindleTesting

/// A chat span in OTel GenAI attributes (current conventions).
private func chatSpan(
    _ traceID: TraceID, id: UInt64, parent: UInt64?, startMs: UInt64, latencyMs: UInt64, model: String = "gpt-4o-mini",
    prompt: (name: String, version: String)? = nil, tokens: (Int64, Int64) = (100, 50), cost: Double? = nil,
    score: Double? = nil, failed: Bool = false, base: UInt64 = 1_700_000_000_000_000_000
) -> Span {
    var attributes: [Attribute] = [
        Attribute("gen_ai.operation.name", .string("chat")),
        Attribute("gen_ai.provider.name", .string("openai")),
        Attribute("gen_ai.request.model", .string(model)),
        Attribute("gen_ai.usage.input_tokens", .int(tokens.0)),
        Attribute("gen_ai.usage.output_tokens", .int(tokens.1)),
        Attribute("gen_ai.request.temperature", .double(0.5)),
        Attribute(
            "gen_ai.input.messages",
            .string(#"[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"Question \#(id)"}]}]"#)),
        Attribute(
            "gen_ai.output.messages",
            .string(#"[{"role":"assistant","parts":[{"type":"text","content":"Answer \#(id)"}],"finish_reason":"stop"}]"#)),
    ]
    if let prompt {
        attributes.append(Attribute("gen_ai.prompt.name", .string(prompt.name)))
        attributes.append(Attribute("gen_ai.prompt.version", .string(prompt.version)))
    }
    if let cost { attributes.append(Attribute("gen_ai.usage.cost", .double(cost))) }
    let start = base + startMs * 1_000_000
    return Span(
        traceID: traceID, spanID: SpanID(id), parentSpanID: parent.map(SpanID.init), name: "chat \(model)", kind: .client,
        startTimeUnixNano: start, endTimeUnixNano: start + latencyMs * 1_000_000, attributes: attributes,
        events: score.map {
            [
                SpanEvent(
                    timeUnixNano: start, name: "gen_ai.evaluation.result",
                    attributes: [
                        Attribute("gen_ai.evaluation.name", .string("relevance")),
                        Attribute("gen_ai.evaluation.score.value", .double($0)),
                    ])
            ]
        } ?? [],
        status: SpanStatus(code: failed ? .error : .ok))
}

private func request(_ spans: [Span], service: String = "support-bot") -> [UInt8] {
    OTLPProtobuf.encodeTraces(
        TracesData(resourceSpans: [
            ResourceSpans(
                resource: Resource(attributes: [Attribute("service.name", .string(service))]),
                scopeSpans: [ScopeSpans(spans: spans)])
        ]))
}

@Suite struct LLMAPITests {
    let traceID = TraceID(high: 0x11, low: 0x22)

    @Test func subtreeAndTraceTotalsStayRightWhenChildrenArriveLate() async throws {
        try await withServer { server in
            // An agent span carrying its children's aggregate usage, and one chat call under it.
            var agent = Span(
                traceID: traceID, spanID: SpanID(1), name: "invoke_agent helper", startTimeUnixNano: 1_700_000_000_000_000_000,
                endTimeUnixNano: 1_700_000_002_000_000_000,
                attributes: [
                    Attribute("gen_ai.operation.name", .string("invoke_agent")),
                    Attribute("gen_ai.usage.input_tokens", .int(300)),
                    Attribute("gen_ai.usage.output_tokens", .int(150)),
                ])
            agent.kind = .internal
            let first = chatSpan(traceID, id: 2, parent: 1, startMs: 10, latencyMs: 400, tokens: (100, 50))
            #expect(try await server.postTraces(request([agent, first])).status == 200)

            var body = try await server.getJSON("/api/v1/traces/\(traceID.hex)").body
            #expect(body["summary"]?["llm_calls"] == .int(1))
            #expect(body["summary"]?["input_tokens"] == .int(100))

            // The second call arrives in a later request; a grandchild of the agent, under a tool span.
            let tool = Span(
                traceID: traceID, spanID: SpanID(3), parentSpanID: SpanID(1), name: "search",
                startTimeUnixNano: 1_700_000_000_500_000_000, endTimeUnixNano: 1_700_000_001_500_000_000)
            let second = chatSpan(traceID, id: 4, parent: 3, startMs: 600, latencyMs: 300, tokens: (200, 100), score: 0.2)
            #expect(try await server.postTraces(request([second, tool])).status == 200)

            body = try await server.getJSON("/api/v1/traces/\(traceID.hex)").body
            let summary = try #require(body["summary"])
            // The agent's own usage (the aggregate) is not counted on top of its children.
            #expect(summary["llm_calls"] == .int(2))
            #expect(summary["input_tokens"] == .int(300))
            #expect(summary["output_tokens"] == .int(150))
            #expect(summary["total_tokens"] == .int(450))
            let expectedCost = try #require(summary["cost_usd"]?.doubleValue)
            #expect(expectedCost > 0)

            let spans = try #require(body["spans"]?.arrayValue)
            func span(_ id: UInt64) throws -> JSONValue {
                try #require(spans.first { $0["span_id"]?.stringValue == SpanID(id).hex })
            }
            let agentJSON = try span(1)
            #expect(agentJSON["llm"]?["aggregate"] == .bool(true))
            #expect(agentJSON["subtree"]?["llm_calls"] == .int(2))
            #expect(agentJSON["subtree"]?["input_tokens"] == .int(300))
            #expect(agentJSON["subtree"]?["cost_usd"]?.doubleValue == expectedCost)
            #expect(try span(3)["subtree"]?["llm_calls"] == .int(1))
            #expect(try span(3)["subtree"]?["input_tokens"] == .int(200))
            #expect(try span(3)["llm"] == nil)

            let call = try #require(try span(4)["llm"])
            #expect(call["model"] == .string("gpt-4o-mini"))
            #expect(call["provider"] == .string("openai"))
            #expect(call["temperature"] == .double(0.5))
            #expect(call["tokens"]?["input"] == .int(200))
            #expect(call["scores"]?["relevance"] == .double(0.2))
            #expect(call["flagged"] == .bool(true))
            #expect(call["cost"]?["source"] == .string("price_table"))
            #expect(call["input"]?.arrayValue?.last?["text"] == .string("Question 4"))
            #expect(call["output"]?.arrayValue?.first?["text"] == .string("Answer 4"))
            #expect(call["prompt"]?["implicit"] == .bool(true))
            // Nested tree nodes carry the subtree totals too.
            #expect(body["tree"]?.arrayValue?.first?["subtree"]?["llm_calls"] == .int(2))
        }
    }

    @Test func promptAnalyticsMatchAnIndependentComputation() async throws {
        // 40 calls of version 1 and 25 of version 2, with varied latency, cost, score and failures,
        // spread over three hours.
        struct Call {
            var version: String
            var startMs: UInt64
            var latency: UInt64
            var cost: Double
            var score: Double
            var failed: Bool
        }
        var generator = SplitMix(seed: 7)
        var calls: [Call] = []
        for index in 0..<65 {
            let version = index < 40 ? "1" : "2"
            calls.append(
                Call(
                    version: version, startMs: UInt64(index) * 160_000, latency: 50 + generator.next() % 2000,
                    cost: Double(generator.next() % 1000) / 100_000, score: Double(generator.next() % 100) / 100,
                    failed: generator.next() % 7 == 0))
        }
        let spans = calls.enumerated().map { index, call in
            chatSpan(
                TraceID(high: 0x5, low: UInt64(index + 1)), id: UInt64(index + 1), parent: nil, startMs: call.startMs,
                latencyMs: call.latency, prompt: ("support-answer", call.version), cost: call.cost, score: call.score,
                failed: call.failed)
        }
        try await withServer { server in
            #expect(try await server.postTraces(request(spans)).status == 200)

            let prompts = try await server.getJSON("/api/v1/prompts").body
            let listed = try #require(prompts["prompts"]?.arrayValue)
            #expect(listed.count == 1)
            #expect(listed[0]["prompt_id"] == .string("support-answer"))
            #expect(listed[0]["implicit"] == .bool(false))
            #expect(listed[0]["calls"] == .int(65))
            #expect(Set(listed[0]["versions"]?.arrayValue?.compactMap { $0["version"]?.stringValue } ?? []) == ["1", "2"])

            let (status, analytics) = try await server.getJSON("/api/v1/prompts/support-answer/analytics?bucket=1h")
            #expect(status == 200)
            let versions = try #require(analytics["versions"]?.arrayValue)
            #expect(versions.count == 2)
            for version in versions {
                let label = try #require(version["version"]?.stringValue)
                let mine = calls.filter { $0.version == label }
                let latencies = mine.map { Double($0.latency) }.sorted()
                func nearestRank(_ p: Double) -> Double { latencies[Int((p / 100 * Double(latencies.count)).rounded(.up)) - 1] }
                #expect(version["count"] == .int(Int64(mine.count)))
                #expect(version["errors"] == .int(Int64(mine.filter(\.failed).count)))
                #expect(version["error_rate"]?.doubleValue == Double(mine.filter(\.failed).count) / Double(mine.count))
                #expect(version["latency_ms"]?["p50"]?.doubleValue == nearestRank(50))
                #expect(version["latency_ms"]?["p95"]?.doubleValue == nearestRank(95))
                #expect(version["latency_ms"]?["p99"]?.doubleValue == nearestRank(99))
                let costTotal = mine.reduce(0) { $0 + $1.cost }
                #expect(abs((version["cost_usd"]?["total"]?.doubleValue ?? -1) - costTotal) < 1e-12)
                #expect(abs((version["cost_usd"]?["avg"]?.doubleValue ?? -1) - costTotal / Double(mine.count)) < 1e-12)
                let scoreAverage = mine.reduce(0) { $0 + $1.score } / Double(mine.count)
                #expect(abs((version["score_avg"]?.doubleValue ?? -1) - scoreAverage) < 1e-12)
                #expect(version["tokens"]?["input"] == .int(Int64(100 * mine.count)))
                // Hour buckets, aligned to the epoch: counts add up to the version's.
                let series = try #require(version["series"]?.arrayValue)
                var expectedBuckets: [UInt64: Int] = [:]
                for call in mine {
                    let start = 1_700_000_000_000_000_000 + call.startMs * 1_000_000
                    expectedBuckets[start / 3_600_000_000_000 * 3_600_000_000_000, default: 0] += 1
                }
                #expect(series.compactMap { $0["count"]?.intValue } == expectedBuckets.keys.sorted().map { expectedBuckets[$0]! })
            }

            // A time window.
            let windowed = try await server.getJSON(
                "/api/v1/prompts/support-answer/analytics?since=\(1_700_000_000_000_000_000 + 40 * 160_000 * 1_000_000)"
            ).body
            #expect(windowed["versions"]?.arrayValue?.map { $0["version"]?.stringValue } == ["2"])
            #expect((try await server.request("GET", "/api/v1/prompts/nope/analytics")).status == 404)
            #expect((try await server.request("GET", "/api/v1/prompts/support-answer/analytics?bucket=soon")).status == 400)

            // Monitor events: one per call; flagged ones have a score below 0.3.
            let flagged = try await server.getJSON("/api/v1/monitor-events?flagged=true&limit=1000").body
            let events = try #require(flagged["events"]?.arrayValue)
            #expect(events.count == calls.filter { $0.score < 0.3 }.count)
            let event = try #require(events.first)
            #expect(event["flagged"] == .bool(true))
            #expect(event["evalguard"]?["appId"] == .string("support-bot"))
            #expect(event["evalguard"]?["model"] == .string("gpt-4o-mini"))
            #expect(event["deeprails"]?["model_input"]?["context"] == .string("Be brief."))
            #expect(event["deeprails"]?["tokens"]?["input_tokens"] == .int(100))
            #expect(event["deeprails"]?["temperature"] == .double(0.5))
            let all = try await server.getJSON("/api/v1/monitor-events?limit=1000&model=gpt-4o-mini").body
            #expect(all["events"]?.arrayValue?.count == 65)
            #expect(try await server.getJSON("/api/v1/monitor-events?model=gpt-5").body["events"]?.arrayValue?.count == 0)
            #expect((try await server.request("GET", "/api/v1/monitor-events?flagged=maybe")).status == 400)
        }
    }
}
