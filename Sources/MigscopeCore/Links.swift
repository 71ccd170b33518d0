/// A link's rate as tc writes it ("100mbit", "10mbit") or unshaped ("none").
public struct LinkRate: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Bits per second; nil for an unshaped link.
    public var bitsPerSecond: UInt64?

    public init(bitsPerSecond: UInt64?) { self.bitsPerSecond = bitsPerSecond }

    public static let unshaped = LinkRate(bitsPerSecond: nil)
    public static func mbit(_ n: UInt64) -> LinkRate { LinkRate(bitsPerSecond: n * 1_000_000) }

    /// Parses "100mbit", "10Mbit", "1gbit", "500kbit", "100m", or "none".
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "none" || t == "unshaped" { self.init(bitsPerSecond: nil); return }
        let units: [(String, UInt64)] = [("gbit", 1_000_000_000), ("mbit", 1_000_000), ("kbit", 1_000), ("bit", 1), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1_000)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count)
            guard let v = Double(number), v > 0, v.isFinite else { return nil }
            let bits = v * Double(factor)
            guard bits >= 1, bits < 1e12 else { return nil }
            self.init(bitsPerSecond: UInt64(bits))
            return
        }
        return nil
    }

    /// The form tc takes ("100mbit"); "none" when unshaped.
    public var description: String {
        guard let b = bitsPerSecond else { return "none" }
        if b % 1_000_000_000 == 0 { return "\(b / 1_000_000_000)gbit" }
        if b % 1_000_000 == 0 { return "\(b / 1_000_000)mbit" }
        if b % 1_000 == 0 { return "\(b / 1_000)kbit" }
        return "\(b)bit"
    }

    public var bytesPerSecond: Double? { bitsPerSecond.map { Double($0) / 8 } }
}

/// How a host's link carries its two directions.
public enum LinkModel: String, Sendable, Hashable, Codable, CaseIterable {
    /// Each direction has the full rate (a switched full-duplex port).
    case fullDuplex = "full-duplex"
    /// Both directions share one rate: the paper's contention between the migration stream a host
    /// sends and the storage traffic it receives.
    case shared
}

/// What the guest does while it is migrated: read its disk sequentially.
public struct Workload: Sendable, Hashable, Codable {
    public enum ReadMode: String, Sendable, Hashable, Codable, CaseIterable {
        /// Through the guest's page cache: dirties guest memory as fast as data arrives.
        case buffered
        /// O_DIRECT: bypasses the page cache, so reading dirties almost no memory.
        case direct
    }
    public var mode: ReadMode
    public var blockSizeKiB: Int
    /// How much to read; 0 reads forever (wrapping around the disk).
    public var amountMiB: Int

    public init(mode: ReadMode = .buffered, blockSizeKiB: Int = 1024, amountMiB: Int = 0) {
        self.mode = mode
        self.blockSizeKiB = blockSizeKiB
        self.amountMiB = amountMiB
    }
}
