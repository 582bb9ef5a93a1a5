import ArgumentParser

@main
struct Spindle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spindle",
        abstract: "An OpenTelemetry trace collector for LLM applications, storing into SQLite.",
        discussion: """
            Point any OTLP exporter at Spindle and it keeps every span in an SQLite file:

              spindle serve        # OTLP/HTTP :4318, OTLP/gRPC :4317, ./spindle.db
              OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python app.py
              spindle stats        # what has arrived

            Run `spindle help <command>` for the options of each command.
            """,
        subcommands: [
            Serve.self, Stats.self, Traces.self, Tree.self, Export.self, Import.self, Prompts.self, MonitorEvents.self, Keys.self, Outbox.self, Config.self,
        ])
}
