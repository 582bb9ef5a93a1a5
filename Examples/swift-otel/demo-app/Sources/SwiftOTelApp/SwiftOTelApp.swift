import ArgumentParser
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// Answers a question with a fake retrieval-augmented pipeline, traced with swift-distributed-tracing and exported
/// by swift-otel to an OTLP collector such as Spindle. One question makes one trace:
///
///     handle-question            SERVER
///     ├── retrieve-documents     INTERNAL
///     │   └── embed-query        CLIENT    gen_ai.request.model, gen_ai.usage.input_tokens
///     ├── llm.chat               CLIENT    status ERROR: a fake rate limit
///     └── llm.chat               CLIENT    the retry, gen_ai.usage.input_tokens / output_tokens
@main
struct SwiftOTelApp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-otel-app",
        abstract: "Send a small traced \"RAG\" request to an OTLP collector (Spindle) with swift-otel.")

    enum ExportProtocol: String, ExpressibleByArgument, CaseIterable {
        case grpc, http
    }

    @Option(name: .customLong("protocol"), help: "OTLP transport: grpc or http (HTTP/protobuf).")
    var exportProtocol: ExportProtocol = .grpc

    @Option(
        help: ArgumentHelp(
            "Collector URL. Default: http://127.0.0.1:4317 for grpc, http://127.0.0.1:4318/v1/traces for http.",
            valueName: "url"))
    var endpoint: String?

    @Option(help: "How many questions (traces) to send.")
    var questions = 1

    func run() async throws {
        var config = OTel.Configuration.default
        config.serviceName = "swift-otel-app"
        // Traces only. With logs enabled, bootstrap would also take over swift-log (and send every log record to
        // the collector); with metrics enabled it would push metrics to an endpoint Spindle doesn't serve.
        config.logs.enabled = false
        config.metrics.enabled = false
        switch exportProtocol {
        case .grpc:
            config.traces.otlpExporter.protocol = .grpc
            config.traces.otlpExporter.endpoint = endpoint ?? "http://127.0.0.1:4317"
        case .http:
            config.traces.otlpExporter.protocol = .httpProtobuf
            // An endpoint set in code is used verbatim, so it must include /v1/traces. (Only the base URL from
            // OTEL_EXPORTER_OTLP_ENDPOINT gets the signal path appended.)
            config.traces.otlpExporter.endpoint = endpoint ?? "http://127.0.0.1:4318/v1/traces"
        }
        // Note: swift-otel applies the standard OTEL_* environment variables on top of this configuration, so e.g.
        // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT wins over --endpoint.
        let observability = try OTel.bootstrap(configuration: config)

        // The batch span processor exports every 5 s and flushes on graceful shutdown. Running the app as a service
        // whose completion shuts the group down gracefully is what makes the spans leave before the process exits:
        // services stop in reverse order, so `observability` stops last and flushes after the app has finished.
        let logger = Logger(label: "swift-otel-app")
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: observability),
                    .init(
                        service: QuestionAnswering(count: questions, logger: logger),
                        successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                logger: logger))
        try await group.run()
    }
}

struct QuestionAnswering: Service {
    var count: Int
    var logger: Logger

    func run() async throws {
        let samples = [
            "How do I rotate the signing keys?", "What is the refund policy for annual plans?",
            "Which regions support data residency?",
        ]
        for index in 0..<count {
            let question = samples[index % samples.count]
            let answer = try await handle(question: question)
            logger.info("answered", metadata: ["question": "\(question)", "answer": "\(answer)"])
        }
    }
}

func handle(question: String) async throws -> String {
    try await withSpan("handle-question", ofKind: .server) { span in
        span.attributes["question.length"] = question.count
        let documents = try await retrieveDocuments(for: question)
        let answer = try await chat(question: question, documents: documents)
        span.attributes["answer.length"] = answer.count
        return answer
    }
}

func retrieveDocuments(for question: String) async throws -> [String] {
    try await withSpan("retrieve-documents") { span in
        _ = try await embed(question)
        try await Task.sleep(for: .milliseconds(15))  // the vector search
        let documentIDs = ["doc-17", "doc-4", "doc-42"]
        span.attributes["retrieval.top_k"] = documentIDs.count
        span.attributes["retrieval.document_ids"] = documentIDs
        return documentIDs
    }
}

func embed(_ text: String) async throws -> [Double] {
    try await withSpan("embed-query", ofKind: .client) { span in
        span.attributes["gen_ai.operation.name"] = "embeddings"
        span.attributes["gen_ai.request.model"] = "text-embedding-3-small"
        span.attributes["gen_ai.usage.input_tokens"] = text.split(separator: " ").count + 2
        try await Task.sleep(for: .milliseconds(30))
        return [0.12, -0.48, 0.33]
    }
}

struct RateLimited: Error, CustomStringConvertible {
    var description: String { "429 Too Many Requests: rate limit reached for gpt-4o-mini" }
}

/// Calls the (fake) model, retrying once after the first attempt is rate limited.
func chat(question: String, documents: [String]) async throws -> String {
    for attempt in 1...3 {
        let answer = try await withSpan("llm.chat", ofKind: .client) { span -> String? in
            span.attributes["gen_ai.operation.name"] = "chat"
            span.attributes["gen_ai.request.model"] = "gpt-4o-mini"
            span.attributes["gen_ai.usage.input_tokens"] = 180 + 110 * documents.count
            span.attributes["llm.attempt"] = attempt
            try await Task.sleep(for: .milliseconds(attempt == 1 ? 40 : 320))
            guard attempt > 1 else {
                // Returning instead of throwing keeps this status message: withSpan would record a thrown error
                // and then replace the status with a bare ERROR.
                span.recordError(RateLimited())
                span.setStatus(SpanStatus(code: .error, message: "rate limited"))
                return nil
            }
            span.attributes["gen_ai.response.finish_reasons"] = ["stop"]
            span.attributes["gen_ai.usage.output_tokens"] = 57
            return "Based on \(documents.joined(separator: ", ")): it depends on your plan."
        }
        if let answer { return answer }
        try await Task.sleep(for: .milliseconds(100))  // back off before retrying
    }
    throw RateLimited()
}
