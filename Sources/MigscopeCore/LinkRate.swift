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
