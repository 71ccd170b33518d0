import Foundation
import Glibc
import SystemPackage
import MigscopeCore

/// Where a Xen migration goes, from `--to`: this host itself (a receiver child over a socket
/// pair, as `xl migrate` runs `xl migrate-receive`), a receiver listening on TCP, or a receiver
/// started over ssh.
public enum XenDestination: Sendable, Equatable, CustomStringConvertible {
    case localhost
    case tcp(host: String, port: UInt16)
    case ssh(target: String)

    public static let defaultPort: UInt16 = 8002

    /// Parses "localhost", "HOST[:PORT]", "tcp://HOST[:PORT]" or "ssh://[USER@]HOST".
    public init(parsing text: String) throws(MigrationError) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "localhost" || t == "local" || t == "xen://localhost" { self = .localhost; return }
        if t.hasPrefix("ssh://") {
            let target = String(t.dropFirst("ssh://".count))
            guard Self.isPlainSSHTarget(target) else {
                throw MigrationError(.unreachable, "--to \(text): give ssh://[USER@]HOST[:PORT] (letters, digits, '.', '-', '_'; not starting with '-')")
            }
            self = .ssh(target: target); return
        }
        var rest = t.hasPrefix("tcp://") ? String(t.dropFirst("tcp://".count)) : t
        if rest.hasSuffix("/") { rest.removeLast() }
        var port = Self.defaultPort
        if let colon = rest.lastIndex(of: ":"), !rest.hasPrefix("[") || rest[..<colon].hasSuffix("]") {
            guard let p = UInt16(rest[rest.index(after: colon)...]), p > 0 else {
                throw MigrationError(.unreachable, "--to \(text): the port must be a number from 1 to 65535")
            }
            port = p
            rest = String(rest[..<colon])
        }
        rest = rest.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !rest.isEmpty, !rest.contains("/") else {
            throw MigrationError(.unreachable, "--to \(text): give localhost, HOST[:PORT] of a 'migscope xen-receive --listen', or ssh://[USER@]HOST")
        }
        self = .tcp(host: rest, port: port)
    }

    /// `[user@]host[:port]` and nothing else: the target reaches ssh's command line, where a
    /// leading '-' or a space would be read as an option (`-oProxyCommand=...` runs a program).
    static func isPlainSSHTarget(_ target: String) -> Bool {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
        var rest = Substring(target)
        if let at = rest.firstIndex(of: "@") {
            let user = rest[..<at]
            guard !user.isEmpty, !user.hasPrefix("-"), user.unicodeScalars.allSatisfy(allowed.contains) else { return false }
            rest = rest[rest.index(after: at)...]
        }
        if let colon = rest.lastIndex(of: ":") {
            guard let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else { return false }
            rest = rest[..<colon]
        }
        return !rest.isEmpty && !rest.hasPrefix("-") && rest.unicodeScalars.allSatisfy(allowed.contains)
    }

    public var description: String {
        switch self {
        case .localhost: return "localhost"
        case .tcp(let h, let p): return "tcp://\(h):\(p)"
        case .ssh(let t): return "ssh://\(t)"
        }
    }
}

/// A connection to a receiver: one socket, and the receiver process when migscope started it.
public final class XenConnection: @unchecked Sendable {
    public let fd: Int32
    public let receiverPID: pid_t?

    init(fd: Int32, receiverPID: pid_t?) {
        self.fd = fd
        self.receiverPID = receiverPID
    }

    public var wire: XenWire { XenWire(readFD: fd, writeFD: fd) }

    /// Cuts the connection: both ends' pending reads and writes fail at once.
    public func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    /// Closes the socket and reaps the receiver child, if any (waiting at most `seconds`).
    public func close(waitingFor seconds: Double = 30) -> Int32? {
        try? FileDescriptor(rawValue: fd).close()
        guard let pid = receiverPID else { return nil }
        var status: Int32 = 0
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status }
            if r < 0 { return nil }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return status
    }

    /// Connects to `destination`. `executable` is this program, run as the receiver for localhost.
    public static func open(_ destination: XenDestination, executable: String) throws(MigrationError) -> XenConnection {
        switch destination {
        case .localhost:
            return try spawn([executable, "xen-receive", "--stdio"], what: "the local receiver")
        case .ssh(let target):
            // '--' ends ssh's options: the (already checked) target can only ever be the host.
            var host = target, port: [String] = []
            if let colon = target.lastIndex(of: ":") {
                host = String(target[..<colon])
                port = ["-p", String(target[target.index(after: colon)...])]
            }
            return try spawn(["/usr/bin/env", "ssh", "-T", "-o", "BatchMode=yes"] + port + ["--", host, "migscope", "xen-receive", "--stdio"], what: "ssh \(target)")
        case .tcp(let host, let port):
            return XenConnection(fd: try connectTCP(host: host, port: port), receiverPID: nil)
        }
    }

    static func spawn(_ argv: [String], what: String) throws(MigrationError) -> XenConnection {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw MigrationError(.failed, "cannot make a socket pair for \(what): \("\(Errno(rawValue: errno))")")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copies, so the child keeps exactly stdin and stdout.
        posix_spawn_file_actions_adddup2(&actions, pair[1], 0)
        posix_spawn_file_actions_adddup2(&actions, pair[1], 1)
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        Glibc.close(pair[1])
        guard rc == 0 else {
            Glibc.close(pair[0])
            throw MigrationError(.unreachable, "cannot start \(what) (\(argv[0])): \("\(Errno(rawValue: rc))")")
        }
        return XenConnection(fd: pair[0], receiverPID: pid)
    }

    static func connectTCP(host: String, port: UInt16) throws(MigrationError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw MigrationError(.unreachable, "cannot resolve Xen host '\(host)': \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let a = node {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
            if fd >= 0 {
                if connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return fd }
                lastError = errno
                Glibc.close(fd)
            }
            node = a.pointee.ai_next
        }
        throw MigrationError(.unreachable, "cannot reach a migscope receiver at \(host):\(port) (\("\(Errno(rawValue: lastError))")); start 'migscope xen-receive --listen \(host):\(port)' there")
    }
}

/// A listening socket for `migscope xen-receive --listen ADDR:PORT`.
public final class XenListener: @unchecked Sendable {
    public let fd: Int32
    public let address: String

    public init(address text: String) throws(MigrationError) {
        let destination = try XenDestination(parsing: text.contains(":") ? text : "\(text):\(XenDestination.defaultPort)")
        guard case .tcp(let host, let port) = destination else {
            throw MigrationError(.unreachable, "--listen \(text): give ADDR:PORT, e.g. 0.0.0.0:\(XenDestination.defaultPort)")
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let a = list else {
            throw MigrationError(.unreachable, "--listen \(text): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard fd >= 0, bind(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0, listen(fd, 4) == 0 else {
            let why = "\(Errno(rawValue: errno))"
            if fd >= 0 { Glibc.close(fd) }
            throw MigrationError(.unreachable, "--listen \(text): cannot listen there (\(why)); is another receiver running on that port?")
        }
        self.fd = fd
        self.address = "\(host):\(port)"
    }

    /// Waits for the next sender; returns its connection and address.
    public func accept() throws(MigrationError) -> (XenConnection, String) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
        }
        guard client >= 0 else { throw MigrationError(.failed, "accepting a sender failed: \("\(Errno(rawValue: errno))")") }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        _ = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getnameinfo($0, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) }
        }
        let address = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (XenConnection(fd: client, receiverPID: nil), address)
    }

    deinit { Glibc.close(fd) }
}
