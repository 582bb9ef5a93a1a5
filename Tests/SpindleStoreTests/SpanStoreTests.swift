import Foundation
import Testing
@testable import SpindleStore
import SpindleModel
import SpindleTesting

/// A store in a fresh temporary directory, closed and removed after `body`.
func withStore<T>(
    _ options: StoreOptions = StoreOptions(), _ body: (SpanStore) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try SpanStore(path: directory.appendingPathComponent("test.db").path, options: options)
    defer { store.close() }
    return try await body(store)
}

@Suite struct SpanStoreTests {
    @Test func everyFieldSurvivesStorage() async throws {
        try await withStore { store in
            let traces = SampleTraces.everyField()
            let result = try await store.write(traces)
            #expect(result == WriteResult(stored: 2, duplicates: 0))
            let reader = try store.reader()
            let traceID = traces.resourceSpans[0].scopeSpans[0].spans[0].traceID
            #expect(try reader.traces(rootSpanID: traceID.hex) == traces)
            let stored = try reader.spans(rootSpanID: traceID.hex)
            #expect(stored.map(\.project) == ["default", "default"])
        }
    }

    @Test func treeColumnsFollowTheOTLPIds() async throws {
        try await withStore { store in
            let traces = SampleTraces.everyField()
            _ = try await store.write(traces)
            let reader = try store.reader()
            #expect(try reader.integer("SELECT count(*) FROM spans WHERE root_span_id = '0102030405060708090a0b0c0d0e0f10'") == 2)
            #expect(try reader.integer("SELECT count(*) FROM spans WHERE span_parents IS NULL AND span_id = '1111111111111111'") == 1)
            #expect(try reader.integer(#"SELECT count(*) FROM spans WHERE span_parents = '["1111111111111111"]'"#) == 1)
        }
    }

    @Test func theSameSpanIsStoredOnce() async throws {
        try await withStore { store in
            let traces = SampleTraces.small(count: 50)
            #expect(try await store.write(traces) == WriteResult(stored: 50, duplicates: 0))
            #expect(try await store.write(traces) == WriteResult(stored: 0, duplicates: 50))
            // Another project may hold the same ids.
            #expect(try await store.write(traces, project: "other") == WriteResult(stored: 50, duplicates: 0))
            let stats = try store.reader().stats()
            #expect(stats.spans == 100)
            #expect(stats.resources == 1)
            #expect(stats.scopes == 1)
            #expect(stats.traces == 20)
        }
    }

    @Test func aResourceInAnotherAttributeOrderIsStoredOnce() async throws {
        try await withStore { store in
            var traces = SampleTraces.small(count: 2, seed: 1)
            _ = try await store.write(traces)
            traces = SampleTraces.small(count: 2, seed: 2)
            traces.resourceSpans[0].resource.attributes.reverse()
            _ = try await store.write(traces)
            let reader = try store.reader()
            #expect(try reader.stats().resources == 1)
            let stored = try reader.spans(rootSpanID: traces.resourceSpans[0].scopeSpans[0].spans[0].traceID.hex)
            #expect(stored[0].resource.attributes.map(\.key) == ["service.name", "telemetry.sdk.language", "telemetry.sdk.name"])
        }
    }

    @Test func concurrentWritersAllCommit() async throws {
        try await withStore { store in
            try await withThrowingTaskGroup(of: WriteResult.self) { group in
                for writer in 0..<16 {
                    group.addTask { try await store.write(SampleTraces.small(count: 200, seed: UInt64(writer + 10))) }
                }
                var stored = 0
                for try await result in group { stored += result.stored }
                #expect(stored == 16 * 200)
            }
            #expect(try store.reader().stats().spans == 16 * 200)
        }
    }

    @Test func aFullQueueSaysOverloaded() async throws {
        try await withStore(StoreOptions(maxQueuedBytes: 200_000, retryAfterSeconds: 7)) { store in
            let release = store.holdWriter()
            // The first batch is always taken; it waits, held, while the next ones overflow the budget.
            let first = Task { try await store.write(SampleTraces.small(count: 300, seed: 1)) }
            while store.queuedBytes == 0 { try await Task.sleep(for: .milliseconds(5)) }
            await #expect {
                try await store.write(SampleTraces.small(count: 300, seed: 2))
            } throws: { error in
                guard case StoreError.overloaded(let seconds) = error else { return false }
                return seconds == 7
            }
            release()
            #expect(try await first.value.stored == 300)
            #expect(store.queuedBytes == 0)
        }
    }

    @Test func closeCommitsWhatIsQueuedThenRefuses() async throws {
        try await withStore { store in
            let release = store.holdWriter()
            let pending = Task { try await store.write(SampleTraces.small(count: 10)) }
            while store.queuedBytes == 0 { try await Task.sleep(for: .milliseconds(5)) }
            release()
            store.close()
            #expect(try await pending.value.stored == 10)
            await #expect(throws: StoreError.self) { try await store.write(SampleTraces.small(count: 1, seed: 5)) }
        }
    }

    @Test func reopeningKeepsDataAndSchema() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-reopen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("x.db").path
        let first = try SpanStore(path: path, options: StoreOptions(durability: .full))
        _ = try await first.write(SampleTraces.small(count: 5))
        first.close()
        let second = try SpanStore(path: path)
        defer { second.close() }
        let reader = try second.reader()
        #expect(try reader.integer("PRAGMA user_version") == Int64(Schema.currentVersion))
        #expect(try reader.stats().spans == 5)
    }

    /// Schema 7 moved LLM figures from their own table into the spans' rows: a database written by schema 6
    /// keeps its calls, analytics and totals.
    @Test func llmFiguresMoveIntoTheirSpans() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("x.db").path
        let root = String(repeating: "ab", count: 16)
        do {
            let old = try SQLiteConnection(path: path)
            for migration in Schema.migrations.prefix(6) { try old.execute(migration) }
            try old.execute(
                """
                PRAGMA user_version = 6;
                INSERT INTO resources (id, attributes, service_name) VALUES (1, '{"service.name":"svc"}', 'svc');
                INSERT INTO scopes (id) VALUES (1);
                INSERT INTO spans (id, root_span_id, span_id, name, start_time_unix_nano, end_time_unix_nano, attributes,
                    resource_id, scope_id)
                VALUES (1, '\(root)', '00000000000000c1', 'chat', 100, 200,
                        '{"gen_ai.operation.name":"chat","gen_ai.request.model":"gpt-4o"}', 1, 1),
                    (2, '\(root)', '00000000000000c2', 'work', 100, 300, '{}', 1, 1),
                    (3, '\(root)', '00000000000000c3', 'agent', 100, 300, '{"gen_ai.operation.name":"invoke_agent"}', 1, 1);
                INSERT INTO prompt_versions (id, project, prompt_id, version_hash, implicit, first_seen_unix_nano,
                    last_seen_unix_nano)
                VALUES (1, 'default', 'greeting', 'h1', 0, 100, 100);
                INSERT INTO llm_calls (span_row, start_time_unix_nano, model, request_model, prompt_version, latency_ms,
                    input_tokens, output_tokens, total_tokens, tokens_estimated, cost_usd, cost_source, score, flagged,
                    is_error, counted)
                VALUES (1, 100, 'gpt-4o', 'gpt-4o', 1, 0.0001, 10, 5, 15, 0, 0.25, 'price_table', 0.2, 1, 0, 1),
                    (3, 100, NULL, NULL, NULL, 0.0002, 10, 5, 15, 0, NULL, 'unknown', NULL, 0, 0, 0);
                """)
        }
        let store = try SpanStore(path: path)
        defer { store.close() }
        let reader = try store.reader()
        #expect(try reader.integer("PRAGMA user_version") == Int64(Schema.currentVersion))
        #expect(try reader.integer("SELECT count(*) FROM sqlite_master WHERE name = 'llm_calls'") == 0)
        let calls = try reader.llmCalls(rootSpanID: root, project: "default")
        #expect(Set(calls.keys) == ["00000000000000c1", "00000000000000c3"])
        let call = try #require(calls["00000000000000c1"])
        #expect(call.inputTokens == 10 && call.outputTokens == 5 && call.totalTokens == 15 && call.costUSD == 0.25)
        #expect(call.costSource == .priceTable && call.counted && calls["00000000000000c3"]?.counted == false)
        #expect(try reader.promptVersions().map(\.calls) == [1])
        let analytics = try reader.promptCalls(promptID: "greeting")
        #expect(analytics.map(\.versionHash) == ["h1"] && analytics.first?.costUSD == 0.25 && analytics.first?.score == 0.2)
        var flagged = MonitorEventQuery()
        flagged.flagged = true
        #expect(try reader.monitorEvents(flagged).map(\.spanID) == ["00000000000000c1"])
    }

    @Test func newerSchemaIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-newer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("x.db").path
        let connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA user_version = 999")
        #expect(throws: SQLiteError.self) { try SpanStore(path: path) }
    }
}

@Suite struct StoredAttributeTests {
    @Test func sqlReadsAttributesDirectly() async throws {
        try await withStore { store in
            _ = try await store.write(SampleTraces.small(count: 30))
            let reader = try store.reader()
            #expect(try reader.integer(#"SELECT count(*) FROM spans WHERE json_extract(attributes, '$."http.response.status_code"') = 200"#) == 30)
            #expect(try reader.integer(#"SELECT count(*) FROM spans WHERE json_extract(attributes, '$."app.cache_hit"') = 1"#) == 10)
            #expect(try reader.integer(#"SELECT count(*) FROM resources WHERE json_extract(attributes, '$."service.name"') = 'small-bench'"#) == 1)
        }
    }
}
