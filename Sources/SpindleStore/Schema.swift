/// Attribute columns hold the compact typed JSON that `JSONWriter.compactAttributes` describes: an object
/// of plain JSON values (`json_extract(attributes, '$."http.route"')` works), with integers written without
/// a fraction, doubles with one, and tagged OTLP `AnyValue` objects for bytes, NaN, nested key-value lists
/// and empty values; a list with a repeated key is kept in the OTLP `KeyValue` array form.
///
/// The database schema, as an ordered list of migrations. `PRAGMA user_version` records how many have
/// run; opening a database runs the rest in one transaction. Never edit a shipped migration: append one.
enum Schema {
    static let migrations: [String] = [
        // 1: resources, scopes and spans.
        """
        CREATE TABLE resources (
            id INTEGER PRIMARY KEY,
            attributes TEXT NOT NULL,                 -- compact typed JSON object (see below)
            dropped_attributes_count INTEGER NOT NULL DEFAULT 0,
            schema_url TEXT NOT NULL DEFAULT '',
            service_name TEXT,                        -- service.name, copied out for queries
            UNIQUE (attributes, dropped_attributes_count, schema_url)
        );
        CREATE TABLE scopes (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            version TEXT NOT NULL DEFAULT '',
            attributes TEXT NOT NULL DEFAULT '{}',
            dropped_attributes_count INTEGER NOT NULL DEFAULT 0,
            schema_url TEXT NOT NULL DEFAULT '',
            UNIQUE (name, version, attributes, dropped_attributes_count, schema_url)
        );
        CREATE TABLE spans (
            id INTEGER PRIMARY KEY,
            project TEXT NOT NULL DEFAULT 'default',
            root_span_id TEXT NOT NULL,               -- OTLP: the trace id in hex
            span_id TEXT NOT NULL,                    -- OTLP: the span id in hex
            span_parents TEXT,                        -- JSON array of parent span ids; NULL for a root
            trace_state TEXT NOT NULL DEFAULT '',
            flags INTEGER NOT NULL DEFAULT 0,
            name TEXT NOT NULL,
            kind INTEGER NOT NULL DEFAULT 0,
            start_time_unix_nano INTEGER NOT NULL,    -- uint64 stored by bit pattern
            end_time_unix_nano INTEGER NOT NULL,
            status_code INTEGER NOT NULL DEFAULT 0,
            status_message TEXT NOT NULL DEFAULT '',
            attributes TEXT NOT NULL DEFAULT '{}',    -- compact typed JSON object (see below)
            dropped_attributes_count INTEGER NOT NULL DEFAULT 0,
            events TEXT,                              -- OTLP JSON Event array (compact attributes); NULL when none
            dropped_events_count INTEGER NOT NULL DEFAULT 0,
            links TEXT,                               -- OTLP JSON Link array (compact attributes); NULL when none
            dropped_links_count INTEGER NOT NULL DEFAULT 0,
            resource_id INTEGER NOT NULL REFERENCES resources (id),
            scope_id INTEGER NOT NULL REFERENCES scopes (id),
            UNIQUE (project, root_span_id, span_id)
        );
        """,
        // 2: per-trace summaries kept up to date by the writer. (No index on span_id alone: it cost a
        // quarter of ingest throughput; a span is found through its trace, or by a scan.)
        """
        CREATE TABLE traces (
            project TEXT NOT NULL,
            root_span_id TEXT NOT NULL,
            start_time_unix_nano INTEGER NOT NULL,    -- earliest span start
            end_time_unix_nano INTEGER NOT NULL,      -- latest span end
            span_count INTEGER NOT NULL,
            error_count INTEGER NOT NULL,             -- spans with status ERROR
            root_name TEXT,                           -- NULL until a span without parents arrives
            root_service TEXT,
            PRIMARY KEY (project, root_span_id)
        ) WITHOUT ROWID;
        CREATE INDEX traces_by_start ON traces (start_time_unix_nano DESC, root_span_id DESC);
        CREATE INDEX traces_by_root ON traces (root_span_id);
        INSERT INTO traces
            SELECT s.project, s.root_span_id, min(s.start_time_unix_nano), max(s.end_time_unix_nano), count(*),
                sum(s.status_code = 2),
                (SELECT name FROM spans r WHERE r.project = s.project AND r.root_span_id = s.root_span_id
                    AND r.span_parents IS NULL ORDER BY r.start_time_unix_nano LIMIT 1),
                (SELECT res.service_name FROM spans r JOIN resources res ON res.id = r.resource_id
                    WHERE r.project = s.project AND r.root_span_id = s.root_span_id AND r.span_parents IS NULL
                    ORDER BY r.start_time_unix_nano LIMIT 1)
            FROM spans s GROUP BY s.project, s.root_span_id;
        """,
        // 3: LLM calls found in spans, stored with their span (keyed by its row): the figures queries filter
        // and add up. Messages are not copied: they are read again from the span's own attributes (copying
        // them doubled the bytes written per LLM span and cost 55% of ingest throughput). Prompt versions,
        // and LLM totals per trace. Spans stored before this migration are not read for LLM calls.
        """
        CREATE TABLE prompt_versions (
            id INTEGER PRIMARY KEY,
            project TEXT NOT NULL,
            prompt_id TEXT NOT NULL,
            version_hash TEXT NOT NULL,
            version TEXT,                             -- the label the spans gave, if any
            template TEXT,
            implicit INTEGER NOT NULL,                -- identified by its template or system instructions
            first_seen_unix_nano INTEGER NOT NULL,
            last_seen_unix_nano INTEGER NOT NULL,
            UNIQUE (project, prompt_id, version_hash)
        );
        CREATE TABLE llm_calls (
            span_row INTEGER PRIMARY KEY REFERENCES spans (id),
            start_time_unix_nano INTEGER NOT NULL,
            model TEXT,
            request_model TEXT,
            prompt_version INTEGER REFERENCES prompt_versions (id),
            latency_ms REAL NOT NULL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            total_tokens INTEGER,
            cache_read_tokens INTEGER,
            tokens_estimated INTEGER NOT NULL,
            cost_usd REAL,                            -- NULL when unknown, never 0 for unknown
            cost_source TEXT NOT NULL,                -- span, price_table or unknown
            score REAL,                               -- mean of the call's scores
            flagged INTEGER NOT NULL,                 -- a score below 0.3
            is_error INTEGER NOT NULL,
            counted INTEGER NOT NULL                  -- 0: an agent span carrying its children's usage
        );
        CREATE INDEX llm_calls_by_start ON llm_calls (start_time_unix_nano);
        CREATE INDEX llm_calls_by_prompt ON llm_calls (prompt_version, start_time_unix_nano)
            WHERE prompt_version IS NOT NULL;
        ALTER TABLE traces ADD COLUMN llm_calls INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE traces ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE traces ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE traces ADD COLUMN total_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE traces ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
        """,
        // 4: projects and their API keys (only a SHA-256 of each key is kept).
        """
        CREATE TABLE projects (
            id TEXT PRIMARY KEY,                      -- a UUID
            name TEXT NOT NULL UNIQUE,                -- what spans.project holds
            created_unix_nano INTEGER NOT NULL
        );
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,                      -- key_<hex>, for listing and revoking
            project_id TEXT NOT NULL REFERENCES projects (id),
            key_hash TEXT NOT NULL UNIQUE,            -- SHA-256 of the key, hex
            key_prefix TEXT NOT NULL,                 -- its first characters, to recognise it
            created_unix_nano INTEGER NOT NULL,
            revoked_unix_nano INTEGER
        );
        CREATE TABLE braintrust_rows (             -- rows inserted through the Braintrust API, by row id
            project TEXT NOT NULL,
            row_id TEXT NOT NULL,
            span_row INTEGER NOT NULL REFERENCES spans (id),
            PRIMARY KEY (project, row_id)
        ) WITHOUT ROWID;
        """,
        // 5: forwarding. Every committed request that stored spans adds one outbox row naming the span rows it
        // stored, in the same transaction; each exporter keeps a cursor into the outbox (everything up to it
        // is delivered or dead-lettered), so an acknowledged span is always delivered or still pending.
        """
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,    -- never reused, so cursors only move forward
            first_span_row INTEGER NOT NULL,
            last_span_row INTEGER NOT NULL,
            span_count INTEGER NOT NULL,
            bytes INTEGER NOT NULL,                   -- encoded size, for the outbox size cap
            created_unix_nano INTEGER NOT NULL
        );
        CREATE TABLE exporter_state (
            exporter TEXT PRIMARY KEY,
            delivered_through INTEGER NOT NULL,       -- outbox seq
            delivered_spans INTEGER NOT NULL DEFAULT 0,
            batches INTEGER NOT NULL DEFAULT 0,
            retries INTEGER NOT NULL DEFAULT 0,
            dead_lettered INTEGER NOT NULL DEFAULT 0,
            dropped INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE TABLE dead_letters (
            id INTEGER PRIMARY KEY,
            exporter TEXT NOT NULL,
            first_span_row INTEGER NOT NULL,
            last_span_row INTEGER NOT NULL,
            span_count INTEGER NOT NULL,
            status TEXT NOT NULL,                     -- e.g. "HTTP 400"
            body TEXT,
            failed_unix_nano INTEGER NOT NULL,
            retry INTEGER NOT NULL DEFAULT 0          -- 1: spindle outbox retry asked for it again
        );
        """,
        // 6: OTLP requests forwarded as received. When an OTLP exporter takes every span, a request whose
        // spans were all stored keeps its protobuf bytes beside its outbox row, compressed so that they join
        // with others into one gzip body (`DeflatedPart`): the exporter sends them on (concatenated, which
        // protobuf reads as one request) instead of reading the spans back and encoding them again. Kept
        // apart from `outbox` so that listing the outbox stays small.
        """
        ALTER TABLE outbox ADD COLUMN body_bytes INTEGER NOT NULL DEFAULT 0;  -- 0: no body kept
        CREATE TABLE outbox_bodies (
            seq INTEGER PRIMARY KEY,                  -- the outbox row's seq
            deflated BLOB NOT NULL,                   -- ExportTraceServiceRequest, protobuf, raw deflate
            crc INTEGER NOT NULL,                     -- CRC-32 of the protobuf bytes
            length INTEGER NOT NULL                   -- their length
        );
        """,
        // 7: an LLM call's figures move into its span's row. A table of their own cost a statement and a
        // B-tree insert a call besides its two indexes; in the span's row they cost a few columns of a row
        // written anyway (measured: 0.2-0.6 µs a call less). `llm_counted` is NULL for spans that are no
        // LLM call.
        // The prompt index covers what prompt analytics reads (`llm_counted` too, which its queries name), so that
        // they never read the spans' rows.
        """
        ALTER TABLE spans ADD COLUMN llm_model TEXT;
        ALTER TABLE spans ADD COLUMN llm_request_model TEXT;
        ALTER TABLE spans ADD COLUMN llm_prompt_version INTEGER REFERENCES prompt_versions (id);
        ALTER TABLE spans ADD COLUMN llm_latency_ms REAL;
        ALTER TABLE spans ADD COLUMN llm_input_tokens INTEGER;
        ALTER TABLE spans ADD COLUMN llm_output_tokens INTEGER;
        ALTER TABLE spans ADD COLUMN llm_total_tokens INTEGER;
        ALTER TABLE spans ADD COLUMN llm_cache_read_tokens INTEGER;
        ALTER TABLE spans ADD COLUMN llm_tokens_estimated INTEGER;
        ALTER TABLE spans ADD COLUMN llm_cost_usd REAL;           -- NULL when unknown, never 0 for unknown
        ALTER TABLE spans ADD COLUMN llm_cost_source TEXT;        -- span, price_table or unknown
        ALTER TABLE spans ADD COLUMN llm_score REAL;              -- mean of the call's scores
        ALTER TABLE spans ADD COLUMN llm_flagged INTEGER;         -- a score below 0.3
        ALTER TABLE spans ADD COLUMN llm_is_error INTEGER;
        ALTER TABLE spans ADD COLUMN llm_counted INTEGER;         -- 0: an agent span carrying its children's usage
        UPDATE spans SET llm_model = c.model, llm_request_model = c.request_model, llm_prompt_version = c.prompt_version,
            llm_latency_ms = c.latency_ms, llm_input_tokens = c.input_tokens, llm_output_tokens = c.output_tokens,
            llm_total_tokens = c.total_tokens, llm_cache_read_tokens = c.cache_read_tokens,
            llm_tokens_estimated = c.tokens_estimated, llm_cost_usd = c.cost_usd, llm_cost_source = c.cost_source,
            llm_score = c.score, llm_flagged = c.flagged, llm_is_error = c.is_error, llm_counted = c.counted
        FROM llm_calls c WHERE c.span_row = spans.id;
        DROP TABLE llm_calls;
        CREATE INDEX spans_llm_by_start ON spans (start_time_unix_nano) WHERE llm_counted = 1;
        CREATE INDEX spans_llm_by_prompt ON spans (llm_prompt_version, start_time_unix_nano, llm_latency_ms, llm_input_tokens,
            llm_output_tokens, llm_total_tokens, llm_cost_usd, llm_score, llm_is_error, llm_counted)
            WHERE llm_prompt_version IS NOT NULL AND llm_counted = 1;
        """,
    ]

    static var currentVersion: Int { migrations.count }

    /// A write connection on the database at `path`, created and migrated as needed.
    static func openForWriting(path: String) throws(SQLiteError) -> SQLiteConnection {
        let connection = try SQLiteConnection(path: path)
        // 8 KiB pages (for new files; an existing file keeps its size): span rows with LLM messages run to
        // 2-3 KiB, and 4 KiB pages held one of them each. Measured: LLM-heavy ingest 26,700 -> 36,000-48,000
        // spans/s, small spans 124,000-139,000 -> 151,000-156,000.
        try connection.execute("PRAGMA page_size = 8192")
        try connection.execute("PRAGMA journal_mode = WAL")
        try migrate(connection)
        return connection
    }

    static func migrate(_ connection: SQLiteConnection) throws(SQLiteError) {
        let version = Int(try connection.integer("PRAGMA user_version"))
        guard version < migrations.count else {
            if version > migrations.count {
                throw SQLiteError(
                    code: 0,
                    message: "database schema version \(version) is newer than this Spindle knows (\(migrations.count))")
            }
            return
        }
        try connection.execute("BEGIN IMMEDIATE")
        do {
            for index in version..<migrations.count {
                try connection.execute(migrations[index])
            }
            try connection.execute("PRAGMA user_version = \(migrations.count)")
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }
}
