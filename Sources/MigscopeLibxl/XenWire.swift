import Glibc

/// The control side of a migration connection: short text lines, and one block of bytes (the
/// domain configuration), on file descriptors that also carry libxl's stream.
///
/// Reads are unbuffered (a byte at a time for lines): whatever follows a line is libxl's stream,
/// and a buffering reader would swallow its first bytes.
public struct XenWire: Sendable {
    public let readFD: Int32
    public let writeFD: Int32
    public init(readFD: Int32, writeFD: Int32) {
        self.readFD = readFD
        self.writeFD = writeFD
    }

    /// How long one read or write may wait: the handshake is short, the stream long (libxl's own
    /// reads and writes on the socket get the same deadline, so a stalled peer ends the stream).
    public static let handshakeDeadline = 15.0
    public static let streamDeadline = 120.0

    /// Sets the deadline of every read and write on this connection (sockets only; the pipes of
    /// an ssh transport have none, and ssh's own keep-alives stand in).
    public func setDeadline(seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        for fd in Set([readFD, writeFD]) {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    static func failure(_ what: String) -> Closed {
        let e = errno
        if e == EAGAIN || e == EWOULDBLOCK { return Closed(detail: "no word from the other side within the deadline while \(what)") }
        return Closed(detail: "the connection failed while \(what) (\(String(cString: strerror(e))))")
    }

    public struct Closed: Error, CustomStringConvertible {
        public var detail: String
        public var description: String { detail }
    }

    public func send(line: String) throws(Closed) {
        try send(bytes: Array((line + "\n").utf8))
    }

    public func send(bytes: [UInt8]) throws(Closed) {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a receiver that went away must fail this write, not kill migscope.
            var n = bytes[offset...].withUnsafeBytes { Glibc.send(writeFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == ENOTSOCK { n = bytes[offset...].withUnsafeBytes { write(writeFD, $0.baseAddress, $0.count) } }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Self.failure("sending") }
            if n == 0 { throw Closed(detail: "the connection closed while sending") }
            offset += n
        }
    }

    /// One line without its newline; lines are short, so a line over `limit` bytes is a protocol error.
    public func receiveLine(limit: Int = 4096) throws(Closed) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(readFD, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Self.failure("waiting for a line") }
            if n == 0 { throw Closed(detail: "the other side closed the connection") }
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
            if bytes.count > limit { throw Closed(detail: "the other side sent a line longer than \(limit) bytes; is it migscope?") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Ends both directions at once (the other side reads the end of the connection).
    public func shutdownQuietly() {
        _ = Glibc.shutdown(readFD, Int32(SHUT_RDWR))
        if writeFD != readFD { _ = Glibc.shutdown(writeFD, Int32(SHUT_RDWR)) }
    }

    /// Reads and drops everything until the other side closes.
    public func drain() {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
        }
    }

    public func receive(count: Int) throws(Closed) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = bytes[offset...].withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Self.failure("reading \(count) bytes (\(offset) came)") }
            if n == 0 { throw Closed(detail: "the connection closed after \(offset) of \(count) bytes") }
            offset += n
        }
        return bytes
    }
}
