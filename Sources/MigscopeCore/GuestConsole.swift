/// A line the lab guest prints about its own I/O (see the guest's /init).
///
/// What a guest prints is a tenant's input: a report whose numbers are not finite, negative, or
/// beyond anything a link or disk carries is refused (and counted by the recorder), never stored.
public enum GuestConsoleLine: Sendable, Equatable {
    /// Once a second: bytes/s read and written over the last interval, as the guest measured them.
    case rate(sequence: Int, uptimeSeconds: Double, readBytesPerSecond: Double, writeBytesPerSecond: Double, readTotalBytes: Double)
    /// The reader started: its settings.
    case start(mode: String, blockSizeKiB: Int, amountMiB: Int, diskMiB: Int)
    /// The reader finished its amount, in the guest's seconds, at the guest's uptime `uptimeSeconds`.
    case done(readTotalBytes: Double, seconds: Double, uptimeSeconds: Double?)

    /// No link or disk carries more (100 GB/s): a higher rate is a lie or a bug, not a measurement.
    public static let maxBytesPerSecond = 1e11
    /// A total read or a time beyond these is not a measurement either (an exabyte; 30 years).
    public static let maxTotalBytes = 1e18
    public static let maxSeconds = 1e9

    /// What a console line is to migscope.
    public enum Reading: Sendable, Equatable {
        case report(GuestConsoleLine)
        /// It claims to be a report (MIGSCOPE rate/start/done) but its values cannot be true.
        case refused
        /// Anything else the guest prints.
        case other
    }

    /// Parses one console line; nil for anything that is not a believable report.
    public init?(_ line: Substring) {
        guard case .report(let r) = Self.read(line) else { return nil }
        self = r
    }

    public static func read(_ line: Substring) -> Reading {
        guard let start = line.range(of: "MIGSCOPE ") else { return .other }
        let words = line[start.upperBound...].split(separator: " ")
        guard let kind = words.first, ["rate", "start", "done"].contains(kind) else { return .other }
        var fields: [Substring: Substring] = [:]
        for w in words.dropFirst() {
            guard let eq = w.firstIndex(of: "=") else { continue }
            fields[w[..<eq]] = w[w.index(after: eq)...].filter { !$0.isWhitespace && $0 != "\r" }[...]
        }
        func number(_ k: Substring, max: Double) -> Double? {
            guard let v = fields[k].flatMap({ Double($0) }), v.isFinite, v >= 0, v <= max else { return nil }
            return v
        }
        func i(_ k: Substring) -> Int? { fields[k].flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil } }
        switch kind {
        case "rate":
            guard let seq = i("seq"), let up = number("up", max: maxSeconds), let r = number("read_bps", max: maxBytesPerSecond),
                  let w = number("write_bps", max: maxBytesPerSecond) else { return .refused }
            var total = 0.0
            if fields["read_total"] != nil {
                guard let t = number("read_total", max: maxTotalBytes) else { return .refused }
                total = t
            }
            return .report(.rate(sequence: seq, uptimeSeconds: up, readBytesPerSecond: r, writeBytesPerSecond: w, readTotalBytes: total))
        case "start":
            return .report(.start(mode: fields["mode"].map { String($0.prefix(32).filter { $0.isLetter || $0.isNumber || $0 == "-" }) } ?? "?", blockSizeKiB: i("bs_kib") ?? 0,
                                  amountMiB: i("amount_mib") ?? 0, diskMiB: i("disk_mib") ?? 0))
        default:
            guard let total = number("read_total", max: maxTotalBytes), let s = number("seconds", max: maxSeconds) else { return .refused }
            var up: Double? = nil
            if fields["up"] != nil {
                guard let u = number("up", max: maxSeconds) else { return .refused }
                up = u
            }
            return .report(.done(readTotalBytes: total, seconds: s, uptimeSeconds: up))
        }
    }
}
