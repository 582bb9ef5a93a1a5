public import SpindleCodec

/// A `HOST:PORT` address to listen on.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `:PORT` (loopback) or `[::1]:PORT`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host.isEmpty ? "127.0.0.1" : host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether only this machine can reach it (127.0.0.0/8, ::1, localhost).
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public static let defaultHTTP = ListenAddress(host: "127.0.0.1", port: 4318)
    public static let defaultGRPC = ListenAddress(host: "127.0.0.1", port: 4317)
}

public struct ServerConfiguration: Sendable {
    public var http: ListenAddress
    /// Largest request body accepted, measured after decompression.
    public var maxBodyBytes: Int
    public var decodeLimits: DecodeLimits

    public init(http: ListenAddress = .defaultHTTP, maxBodyBytes: Int = 64 << 20, decodeLimits: DecodeLimits = .default) {
        self.http = http
        self.maxBodyBytes = maxBodyBytes
        self.decodeLimits = decodeLimits
    }
}
