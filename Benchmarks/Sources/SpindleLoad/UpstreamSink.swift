#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation

/// An upstream for forwarding benchmarks that costs almost nothing: it reads each HTTP/1.1 request
/// (Content-Length bodies, keep-alive) and answers `200` with an empty body at once, which is a valid
/// empty `ExportTraceServiceResponse` and an answer the vendor exporters take. It stands in for an
/// upstream on another machine, so that what a forwarding Spindle measures is its own cost, not the cost of
/// a second Spindle storing everything on the same cores. Blocking sockets, one thread a connection.
struct UpstreamSink {
    let port: Int

    func run() throws -> Never {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw LoadError("socket() failed") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw LoadError("cannot listen on 127.0.0.1:\(port)") }
        print("sink: answering 200 to every request on 127.0.0.1:\(port)")
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            Thread.detachNewThread { Self.serve(connection) }
        }
    }

    private static let answer = Array("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n".utf8)

    /// Reads requests on one connection until the peer closes it.
    private static func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        var filled = 0
        while true {
            // The head: up to the blank line.
            var headEnd: Int?
            while headEnd == nil {
                headEnd = find(buffer, filled)
                if headEnd == nil {
                    if filled == buffer.count { return }  // a head larger than the buffer: not ours to serve
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, $0.count - filled, 0) }
                    guard n > 0 else { return }
                    filled += n
                }
            }
            let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self).lowercased()
            var length = 0
            for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            // The body: skipped as it arrives.
            var remaining = headEnd! + 4 + length
            while remaining > filled {
                remaining -= filled
                filled = 0
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, min($0.count, remaining), 0) }
                guard n > 0 else { return }
                filled = n
            }
            // Keep what follows (a pipelined request) at the front.
            buffer.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + remaining, filled - remaining)
            }
            filled -= remaining
            let sent = answer.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent == answer.count else { return }
        }
    }

    /// Where `\r\n\r\n` starts in the first `count` bytes.
    private static func find(_ buffer: [UInt8], _ count: Int) -> Int? {
        guard count >= 4 else { return nil }
        for index in 0...(count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}
