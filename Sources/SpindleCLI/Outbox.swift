import ArgumentParser
import Foundation
import SpindleStore

struct Outbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What each exporter has delivered, has pending, retried and dead-lettered.",
        discussion: """
            Safe while spindle serve runs. Dead letters are batches an upstream refused for good (a 4xx other than 408, 413, 429); they keep the status and answer, and can be sent again.

            Examples:
              spindle outbox
              spindle outbox retry otlp-http:collector:4318
              spindle outbox drop otlp-http:collector:4318 --dead
            """,
        subcommands: [Status.self, Retry.self, Drop.self], defaultSubcommand: Status.self)

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Per exporter, the outbox (default).")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "List the dead letters too.") var dead = false

        func run() throws {
            let reader = try StoreReader.open(path: database.db)
            let statuses = try reader.exporterStatuses()
            guard !statuses.isEmpty else {
                print("no exporters: start spindle serve with --forward KIND=URL")
                return
            }
            let now = UInt64(Date().timeIntervalSince1970 * 1e9)
            printTable(
                header: ["EXPORTER", "PENDING SPANS", "OLDEST PENDING", "DELIVERED", "BATCHES", "RETRIES", "DEAD", "DROPPED"],
                rows: statuses.map { status in
                    [
                        status.exporter, String(status.pendingSpans),
                        status.oldestPendingUnixNano.map { String(format: "%.1fs ago", Double(now &- $0) / 1e9) } ?? "-",
                        String(status.deliveredSpans), String(status.batches), String(status.retries),
                        "\(status.deadLettered) spans (\(status.deadLetters) batches)", String(status.dropped),
                    ]
                })
            if dead {
                for letter in try reader.deadLetters() {
                    print(
                        "\(letter.exporter): rows \(letter.firstSpanRow)-\(letter.lastSpanRow) (\(letter.spanCount) spans) \(letter.status)"
                            + (letter.retry ? " [retry asked]" : "") + ": " + (letter.body ?? "").prefix(200))
                }
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send an exporter's dead letters again.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The exporter (spindle outbox).") var exporter: String

        func run() throws {
            let count = try SpanStore.requestRetry(path: database.db, exporter: exporter)
            print(count == 0 ? "no dead letters for \(exporter)" : "\(count) dead letters of \(exporter) will be sent again by spindle serve")
        }
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an exporter's dead letters.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The exporter (spindle outbox).") var exporter: String
        @Flag(help: "Required: what is dropped is the dead letters.") var dead = false

        func run() throws {
            guard dead else { throw ValidationError("say --dead: only dead letters can be dropped") }
            print("dropped \(try SpanStore.dropDeadLetters(path: database.db, exporter: exporter)) dead letters of \(exporter)")
        }
    }
}
