import Glibc
import SystemPackage

/// The control side of a migration connection: short text lines, and one block of bytes (the
/// domain configuration), on file descriptors that also carry libxl's stream.
///
/// Reads are unbuffered (a byte at a time for lines): whatever follows a line is libxl's stream,
/// and a buffering reader would swallow its first bytes. swift-system's FileDescriptor retries
/// interrupted calls and reports failures as `Errno`.
public struct XenWire: Sendable {
    public let input: FileDescriptor
    public let output: FileDescriptor
    public init(input: FileDescriptor, output: FileDescriptor) {
        self.input = input
        self.output = output
    }

    public init(readFD: Int32, writeFD: Int32) {
        self.init(input: FileDescriptor(rawValue: readFD), output: FileDescriptor(rawValue: writeFD))
    }

    /// How long one read or write may wait: the handshake is short, the stream long (libxl's own
    /// reads and writes on the socket get the same deadline, so a stalled peer ends the stream).
    public static let handshakeDeadline = 15.0
    public static let streamDeadline = 120.0

    /// Sets the deadline of every read and write on this connection (sockets only; the pipes of
    /// an ssh transport have none, and ssh's own keep-alives stand in).
    public func setDeadline(seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        for fd in Set([input.rawValue, output.rawValue]) {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    static func failure(_ what: String, _ error: Errno) -> Closed {
        if error == .resourceTemporarilyUnavailable || error == .wouldBlock {
            return Closed(detail: "no word from the other side within the deadline while \(what)")
        }
        return Closed(detail: "the connection failed while \(what) (\(error))")
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
            let n: Int
            do { n = try sendSome(bytes[offset...]) } catch { throw Self.failure("sending", error) }
            if n == 0 { throw Closed(detail: "the connection closed while sending") }
            offset += n
        }
    }

    /// One write: MSG_NOSIGNAL on a socket, so a receiver that went away fails this write instead
    /// of killing migscope; a plain write on the pipes of an ssh transport.
    private func sendSome(_ bytes: ArraySlice<UInt8>) throws(Errno) -> Int {
        while true {
            let n = bytes.withUnsafeBytes { Glibc.send(output.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n >= 0 { return n }
            let e = Errno(rawValue: Glibc.errno)
            if e == .interrupted { continue }
            if e == .notSocket {
                do { return try bytes.withUnsafeBytes { try output.write($0) } } catch let e as Errno { throw e } catch { throw .ioError }
            }
            throw e
        }
    }

    /// One line without its newline; lines are short, so a line over `limit` bytes is a protocol error.
    public func receiveLine(limit: Int = 4096) throws(Closed) -> String {
        var bytes: [UInt8] = []
        var byte: [UInt8] = [0]
        while true {
            let n: Int
            do { n = try byte.withUnsafeMutableBytes { try input.read(into: $0) } } catch { throw Self.failure("waiting for a line", Self.errno(of: error)) }
            if n == 0 { throw Closed(detail: "the other side closed the connection") }
            if byte[0] == UInt8(ascii: "\n") { break }
            bytes.append(byte[0])
            if bytes.count > limit { throw Closed(detail: "the other side sent a line longer than \(limit) bytes; is it migscope?") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Ends both directions at once (the other side reads the end of the connection).
    public func shutdownQuietly() {
        _ = Glibc.shutdown(input.rawValue, Int32(SHUT_RDWR))
        if output != input { _ = Glibc.shutdown(output.rawValue, Int32(SHUT_RDWR)) }
    }

    /// Reads and drops everything until the other side closes (or the connection fails).
    public func drain() {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while let n = try? buffer.withUnsafeMutableBytes({ try input.read(into: $0) }), n > 0 {}
    }

    public func receive(count: Int) throws(Closed) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n: Int
            do { n = try bytes[offset...].withUnsafeMutableBytes { try input.read(into: $0) } } catch {
                throw Self.failure("reading \(count) bytes (\(offset) came)", Self.errno(of: error))
            }
            if n == 0 { throw Closed(detail: "the connection closed after \(offset) of \(count) bytes") }
            offset += n
        }
        return bytes
    }

    /// FileDescriptor's calls throw `Errno`; anything else is an I/O error.
    static func errno(of error: any Error) -> Errno { error as? Errno ?? .ioError }
}
