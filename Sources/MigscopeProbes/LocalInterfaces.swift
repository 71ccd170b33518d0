import Foundation
import MigscopeCore

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
