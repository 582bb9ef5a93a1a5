#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A blocking HTTP/1.1 keep-alive connection over a plain socket. Deliberately minimal so that the
/// load generator spends as little CPU as possible: on a 2-core machine it shares the cores with
/// the server under test.
final class HTTPConnection {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)
    private var buffered = 0...0
    private var start = 0
    private var end = 0

    init(host: String, port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoadError("socket() failed") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw LoadError("bad IPv4 address \(host)") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw LoadError("cannot connect to \(host):\(port)") }
    }

    deinit { close(fd) }

    /// Sends a complete pre-built request and returns the response status.
    func roundTrip(_ request: [UInt8]) throws -> Int {
        try request.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                guard n > 0 else { throw LoadError("send failed") }
                sent += n
            }
        }
        return try readResponse()
    }

    private func readResponse() throws -> Int {
        // Read until the end of the headers.
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = findHeaderEnd()
            if headerEnd == nil { try fill() }
        }
        let head = String(decoding: buffer[start..<headerEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.count >= 12, let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw LoadError("bad status line") }
        var length = 0
        for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
            length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        start = headerEnd! + 4
        while end - start < length { try fill() }
        start += length
        return status
    }

    private func findHeaderEnd() -> Int? {
        guard end - start >= 4 else { return nil }
        for index in start...(end - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func fill() throws {
        if start > 0 {
            buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
            end -= start
            start = 0
        }
        if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + end, $0.count - end, 0) }
        guard n > 0 else { throw LoadError("connection closed by the server") }
        end += n
    }
}

struct LoadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

import Foundation
