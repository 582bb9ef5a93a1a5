import ArgumentParser
import Foundation
import SpindleStore

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "API keys: each belongs to one project and is shown once, when created.",
        discussion: """
            Once a key exists, spindle serve requires Authorization: Bearer KEY on every request (OTLP, vendor APIs, query API) and a key reaches only its own project (403 otherwise). Only a SHA-256 of each key is stored. The server decides at start whether keys are in use; a key created while it runs works at once, but turning auth on needs a restart.

            Examples:
              spindle keys create --project checkout
              spindle keys list
              spindle keys revoke key_4f1c0e9a2b7d3c55
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key for a project (created if new).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The project the key writes to and reads from.") var project: String

        func run() throws {
            guard !project.isEmpty else { throw ValidationError("--project must not be empty") }
            let (key, record) = try KeyStore(path: database.db).createKey(project: project)
            print(key)
            FileHandle.standardError.write(
                Data(
                    "created \(record.id) for project \(record.project.name) (\(record.project.id)); the key above is shown only once\n"
                        .utf8))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves).")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let keys = try KeyStore(path: database.db).keys()
            guard !keys.isEmpty else {
                print("no API keys: spindle serve runs without auth on loopback (spindle keys create --project NAME)")
                return
            }
            printTable(
                header: ["ID", "PROJECT", "PROJECT ID", "KEY", "CREATED", "STATUS"],
                rows: keys.map { key in
                    [
                        key.id, key.project.name, key.project.id, key.prefix + "…", Prompts.time(key.createdUnixNano),
                        key.revokedUnixNano.map { "revoked " + Prompts.time($0) } ?? "active",
                    ]
                })
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key by its id; a running server stops accepting it within seconds.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The key's id (spindle keys list).") var id: String

        func run() throws {
            guard try KeyStore(path: database.db).revoke(id: id) else {
                throw ValidationError("no active key \(id) (spindle keys list)")
            }
            print("revoked \(id)")
        }
    }
}
