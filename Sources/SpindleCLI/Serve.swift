import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import SpindleForward
import SpindleGRPC
import SpindleLLM
import SpindleMetrics
import SpindleServer
import SpindleStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive OTLP traces and store them in SQLite.",
        discussion: """
            Listens for OTLP/HTTP on --http (POST /v1/traces, protobuf or JSON, gzip or deflate) and OTLP/gRPC on --grpc (TraceService/Export), and answers only after the spans are committed to the database. Both listeners share one store and one writer. GET /healthz answers once the store is open and the listeners are up.

            LLM calls in the spans (OTel GenAI, OpenInference, OpenLLMetry, Braintrust and Langfuse attributes) are normalized as they arrive: model, messages, tokens, parameters, prompt version, cost. Costs missing from the spans are computed from the bundled price table, or from --prices FILE (the same JSON format: {"as_of", "models":[{"match", "input", "output", "cached_input", "cache_write"}]}, USD per million tokens).

            SIGINT or SIGTERM stops accepting requests, commits what is queued and closes the database.

            Examples:
              spindle serve
              spindle serve --db /var/lib/spindle/traces.db --durability full
              spindle serve --http 0.0.0.0:4318 --grpc off
              spindle serve --prices ./our-prices.json
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("A YAML file with the settings below (spindle config check FILE); what it sets replaces the defaults, and its exporters join --forward's.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Address for OTLP/HTTP.", valueName: "host:port"))
    var http: ListenAddress = .defaultHTTP

    @Option(help: ArgumentHelp("Address for OTLP/gRPC, or off.", valueName: "host:port|off"))
    var grpc: GRPCListen = .address(.defaultGRPC)

    @Option(
        name: .customLong("max-body"),
        help: ArgumentHelp(
            "Largest request accepted, after decompression (bytes, or with KiB/MiB/GiB). Larger: 413 (HTTP), RESOURCE_EXHAUSTED (gRPC).",
            valueName: "bytes"))
    var maxBody: ByteCount = ByteCount(bytes: 64 << 20)

    @Option(
        help: ArgumentHelp(
            "normal: an acknowledged span survives a crash of Spindle. full: it also survives power loss (fsync per commit).",
            valueName: "normal|full"))
    var durability: Durability = .normal

    @Option(
        name: .customLong("max-queue"),
        help: ArgumentHelp(
            "Encoded span data that may wait for the writer; past it requests get 503 with Retry-After.",
            valueName: "bytes"))
    var maxQueue: ByteCount = ByteCount(bytes: 64 << 20)

    @Option(help: ArgumentHelp("A price table (JSON) to use instead of the bundled one.", valueName: "file"))
    var prices: String?

    @Option(
        name: .customLong("llm-extraction"),
        help: ArgumentHelp("Find and normalize LLM calls in incoming spans.", valueName: "on|off"))
    var llmExtraction: Switch = .on

    @Option(
        name: .customLong("forward"),
        help: ArgumentHelp(
            "Forward to an upstream (repeatable): otlp-http=URL, otlp-grpc=http://HOST:PORT, braintrust=URL,project-id=ID, evalguard=URL,project-id=UUID, basalt=URL, deeprails=URL,monitor=ID; options ,key-env=VAR ,header:NAME=VALUE ,project=P ,service=S ,llm-only ,max-items=N ,max-bytes=N ,max-delay=200ms ,concurrency=N ,encoding=json ,name=NAME.",
            valueName: "kind=url[,options]"))
    var forward: [String] = []

    @Option(
        name: .customLong("outbox-max-bytes"),
        help: ArgumentHelp("Undelivered data kept for the exporters; past it, see --outbox-full.", valueName: "bytes"))
    var outboxMaxBytes: ByteCount = ByteCount(bytes: 1 << 30)

    @Option(
        name: .customLong("outbox-full"),
        help: ArgumentHelp("block: ingest answers 503 with Retry-After until the exporters catch up; drop-oldest: skip the oldest undelivered data (counted).", valueName: "block|drop-oldest"))
    var outboxFull: OutboxOverflow = .block

    @Flag(help: "Allow binding a non-loopback address without any API key (auth off). Not for networks you do not trust.")
    var insecure = false

    @Option(
        name: .customLong("rate-limit"),
        help: ArgumentHelp("Requests per second per API key (e.g. 50/s); past it: 429 with Retry-After. Off by default.", valueName: "N/s"))
    var rateLimit: RateLimit?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    /// Large answers (an 11 MB trace) and request bodies are allocated and freed again and again. By
    /// default glibc maps each of them fresh and unmaps it on free, so every request pays page faults
    /// for its whole size (measured: about 15 % of a 10,000-span trace's fetch). Serving them from the
    /// heap, and keeping freed heap memory, removes that; the cost is that RSS stays at its peak.
    static func keepLargeBuffersMapped() {
        #if canImport(Glibc)
        // mallopt is declared in <malloc.h>, which the Glibc module leaves out: look it up instead.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-3, 32 << 20)  // M_MMAP_THRESHOLD: glibc's largest allowed value
        _ = mallopt(-1, 256 << 20)  // M_TRIM_THRESHOLD
        #endif
    }

    func run() async throws {
        Self.keepLargeBuffersMapped()
        var serve = self
        var configured: [ExporterConfiguration] = []
        if let path = config {
            do {
                let file = try ConfigFile(path: path)
                serve.apply(file)
                configured = file.exporters
            } catch let problem as ConfigFile.Problem {
                throw ValidationError(problem.description)
            }
        }
        try await serve.start(configured: configured)
    }

    /// The file's settings over the defaults.
    private mutating func apply(_ file: ConfigFile) {
        if let value = file.http { http = value }
        if let value = file.grpc { grpc = value }
        if let value = file.maxBody { maxBody = value }
        if let value = file.db { database.db = value }
        if let value = file.durability { durability = value }
        if let value = file.maxQueue { maxQueue = value }
        if let value = file.rateLimit { rateLimit = value }
        if let value = file.outboxMaxBytes { outboxMaxBytes = value }
        if let value = file.outboxFull { outboxFull = value }
        if let value = file.prices { prices = value }
    }

    /// - Parameter configured: exporters from --config (in addition to --forward).
    private func start(configured: [ExporterConfiguration]) async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "spindle")

        let priceTable: PriceTable
        do {
            priceTable = try prices.map { path throws(PriceTable.LoadError) in try PriceTable.load(path: path) } ?? .bundled
        } catch {
            throw ValidationError("--prices: \(error)")
        }
        let extractor = llmExtraction == .on ? LLMExtractor(prices: priceTable) : nil
        var exporters = configured
        do {
            exporters += try forward.map { text throws(ExporterConfiguration.ParseError) in try ExporterConfiguration(forward: text) }
        } catch {
            throw ValidationError(error.description)
        }
        if Set(exporters.map(\.name)).count != exporters.count {
            throw ValidationError("two --forward exporters have the same name; give one ,name=NAME")
        }

        let store: SpanStore
        do {
            store = try SpanStore(
                path: database.db,
                options: {
                    var options = StoreOptions(durability: durability, maxQueuedBytes: maxQueue.bytes, llmExtractor: extractor)
                    options.recordsOutbox = !exporters.isEmpty
                    options.keepsRequestBodies = exporters.contains(where: \.sendsRequestsAsReceived)
                    options.outboxMaxBytes = outboxMaxBytes.bytes
                    options.outboxOverflow = outboxFull
                    return options
                }(),
                logger: Logger(label: "spindle.store"))
        } catch {
            throw ValidationError("cannot open the database at \(database.db): \(error)")
        }
        let authenticator: Authenticator
        do {
            authenticator = try makeAuthenticator(logger: logger)
        } catch {
            store.close()
            throw error
        }
        let metrics = SpindleMetrics()
        let application = SpindleHTTPServer.makeApplication(
            store: store, configuration: ServerConfiguration(http: http, maxBodyBytes: maxBody.bytes),
            logger: Logger(label: "spindle.http"), authenticator: authenticator, metrics: metrics)

        // Services stop in reverse order: the listeners first, then the store commits and closes.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StoreService(store: store, logger: Logger(label: "spindle.store"))),
        ]
        if !exporters.isEmpty {
            services.append(.init(service: ForwardService(
                        store: store, exporters: exporters, logger: Logger(label: "spindle.forward"), metrics: metrics)))
        }
        services.append(.init(service: application))
        if case .address(let address) = grpc {
            services.append(
                .init(
                    service: OTLPGRPCServer(
                        store: store, address: address, maxMessageBytes: maxBody.bytes,
                        logger: Logger(label: "spindle.grpc"), authenticator: authenticator, metrics: metrics)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info(
            "Spindle starting",
            metadata: [
                "db": "\(database.db)", "http": "\(http)", "grpc": "\(grpc)", "max_body": "\(maxBody)",
                "durability": "\(durability.rawValue)", "llm_extraction": "\(llmExtraction)",
                "prices": "\(prices ?? "bundled") (as of \(priceTable.asOf), \(priceTable.entries.count) models)",
            ])
        try await group.run()
        store.close()
        logger.info("Spindle stopped; database closed")
    }

    /// Keys in the database: every request needs one. None: auth is off, allowed only when every
    /// listener is on loopback (or with --insecure).
    private func makeAuthenticator(logger: Logger) throws -> Authenticator {
        let hasKeys = try KeyStore(path: database.db).hasActiveKeys()
        if hasKeys {
            logger.info(
                "auth on: every request needs Authorization: Bearer KEY (spindle keys list)",
                metadata: ["rate_limit": "\(rateLimit.map { "\($0.perSecond)/s" } ?? "off")"])
            return try Authenticator(mode: .keys, databasePath: database.db, rateLimit: rateLimit?.perSecond)
        }
        var addresses = [http]
        if case .address(let address) = grpc { addresses.append(address) }
        let exposed = addresses.filter { !$0.isLoopback }
        if !exposed.isEmpty && !insecure {
            throw ValidationError(
                "\(exposed.map(\.description).joined(separator: ", ")) is reachable beyond this machine and no API key exists: "
                    + "create one with `spindle keys create --project NAME --db \(database.db)`, or pass --insecure to run without auth")
        }
        logger.notice(
            exposed.isEmpty
                ? "auth off: no API key exists and Spindle listens on loopback only; spans go to the project the request names (x-spindle-project, resource attribute spindle.project) or default"
                : "auth off (--insecure) on a non-loopback address: anyone who reaches it can write and read")
        return try Authenticator(mode: .open, databasePath: database.db)
    }
}
