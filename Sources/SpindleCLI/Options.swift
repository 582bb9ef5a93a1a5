import ArgumentParser
import Logging
import SpindleServer
import SpindleStore

/// The database option every command shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("SQLite database file.", valueName: "path"))
    var db: String = "./spindle.db"
}

extension ListenAddress: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension Durability: ExpressibleByArgument {}

/// `--grpc HOST:PORT` or `--grpc off`.
enum GRPCListen: ExpressibleByArgument, CustomStringConvertible {
    case off
    case address(ListenAddress)

    init?(argument: String) {
        if argument.lowercased() == "off" {
            self = .off
        } else if let address = ListenAddress(argument) {
            self = .address(address)
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .off: return "off"
        case .address(let address): return address.description
        }
    }

    var defaultValueDescription: String { description }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A byte count: `67108864`, `64MiB`, `64M`, `512KiB`, `1GB`.
struct ByteCount: ExpressibleByArgument, CustomStringConvertible {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { $0.isNumber }
        guard let number = Int(digits), number > 0 else { return nil }
        let multipliers: [String: Int] = [
            "": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 1_000_000,
            "mib": 1 << 20, "g": 1 << 30, "gb": 1_000_000_000, "gib": 1 << 30,
        ]
        guard let multiplier = multipliers[text.dropFirst(digits.count).lowercased()] else { return nil }
        bytes = number * multiplier
    }

    var description: String {
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes)"
    }
}

import Foundation

/// `on` or `off`.
enum Switch: String, ExpressibleByArgument, CustomStringConvertible {
    case on
    case off

    var description: String { rawValue }
}

/// `--rate-limit 50/s` (or `50`).
struct RateLimit: ExpressibleByArgument, CustomStringConvertible {
    var perSecond: Double

    init?(argument: String) {
        let text = argument.hasSuffix("/s") ? String(argument.dropLast(2)) : argument
        guard let value = Double(text), value > 0 else { return nil }
        perSecond = value
    }

    var description: String { "\(perSecond)/s" }
}

extension OutboxOverflow: ExpressibleByArgument {}
