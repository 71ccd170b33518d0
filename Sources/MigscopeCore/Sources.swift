import Foundation

/// Where the recorder's samples of things other than the hypervisor come from.

/// Cumulative byte counters of named links.
public protocol LinkCounterSource: Sendable {
    /// A plain sentence on what is watched, or why nothing is ("no link counters: ...").
    var description: String { get }
    func read() -> [LinkCounter]
}

public struct LinkCounter: Sendable, Equatable {
    public var link: String
    public var sentBytes: UInt64
    public var receivedBytes: UInt64
    public init(link: String, sentBytes: UInt64, receivedBytes: UInt64) {
        self.link = link
        self.sentBytes = sentBytes
        self.receivedBytes = receivedBytes
    }
}

/// `/proc/net/dev` text (of this or another network namespace) -> counters of the named interfaces.
public enum ProcNetDev {
    public static func parse(_ text: String, interfaces: Set<String>? = nil) -> [String: (received: UInt64, sent: UInt64)] {
        var result: [String: (UInt64, UInt64)] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            if let interfaces, !interfaces.contains(name) { continue }
            let fields = line[line.index(after: colon)...].split(separator: " ").compactMap { UInt64($0) }
            // receive: bytes packets errs drop fifo frame compressed multicast | transmit: bytes ...
            guard fields.count >= 9 else { continue }
            result[name] = (fields[0], fields[8])
        }
        return result
    }
}

/// Interfaces of this machine's own network namespace, by name (`--interface eth0`).
public struct LocalInterfaces: LinkCounterSource {
    public let names: [String]
    public init(_ names: [String]) { self.names = names }
    public var description: String { "link counters of local interfaces \(names.joined(separator: ", "))" }
    public func read() -> [LinkCounter] {
        guard let text = try? String(contentsOfFile: "/proc/net/dev", encoding: .utf8) else { return [] }
        let c = ProcNetDev.parse(text, interfaces: Set(names))
        return names.compactMap { n in c[n].map { LinkCounter(link: n, sentBytes: $0.sent, receivedBytes: $0.received) } }
    }
}

/// Follows a growing text file (a guest's serial console) and hands out complete new lines.
public final class ConsoleTailer: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var offset: UInt64
    private var partial = Data()

    /// Starts at the file's current end: only what is written from now on is read.
    public init(path: String) {
        self.path = path
        offset = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? UInt64) ?? 0
    }

    public func newLines() -> [Substring] {
        lock.withLock {
            guard let h = FileHandle(forReadingAtPath: path) else { return [] }
            defer { try? h.close() }
            guard (try? h.seek(toOffset: offset)) != nil else { return [] }
            let d = h.readDataToEndOfFile()
            guard !d.isEmpty else { return [] }
            offset += UInt64(d.count)
            partial.append(d)
            guard let lastNewline = partial.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
            let complete = partial[partial.startIndex...lastNewline]
            partial = Data(partial[partial.index(after: lastNewline)...])
            return String(decoding: complete, as: UTF8.self).split(whereSeparator: \.isNewline)
        }
    }
}
