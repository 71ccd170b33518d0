/// A line the lab guest prints about its own I/O (see the guest's /init).
public enum GuestConsoleLine: Sendable, Equatable {
    /// Once a second: bytes/s read and written over the last interval, as the guest measured them.
    case rate(sequence: Int, uptimeSeconds: Double, readBytesPerSecond: Double, writeBytesPerSecond: Double, readTotalBytes: Double)
    /// The reader started: its settings.
    case start(mode: String, blockSizeKiB: Int, amountMiB: Int, diskMiB: Int)
    /// The reader finished its amount, in the guest's seconds, at the guest's uptime `uptimeSeconds`.
    case done(readTotalBytes: Double, seconds: Double, uptimeSeconds: Double?)

    /// Parses one console line; nil for anything that is not one of the guest's reports.
    public init?(_ line: Substring) {
        guard let start = line.range(of: "MIGSCOPE ") else { return nil }
        let words = line[start.upperBound...].split(separator: " ")
        guard let kind = words.first else { return nil }
        var fields: [Substring: Substring] = [:]
        for w in words.dropFirst() {
            guard let eq = w.firstIndex(of: "=") else { continue }
            fields[w[..<eq]] = w[w.index(after: eq)...].filter { !$0.isWhitespace && $0 != "\r" }[...]
        }
        func d(_ k: Substring) -> Double? { fields[k].flatMap { Double($0) } }
        func i(_ k: Substring) -> Int? { fields[k].flatMap { Int($0) } }
        switch kind {
        case "rate":
            guard let seq = i("seq"), let up = d("up"), let r = d("read_bps"), let w = d("write_bps") else { return nil }
            self = .rate(sequence: seq, uptimeSeconds: up, readBytesPerSecond: r, writeBytesPerSecond: w, readTotalBytes: d("read_total") ?? 0)
        case "start":
            self = .start(mode: fields["mode"].map(String.init) ?? "?", blockSizeKiB: i("bs_kib") ?? 0, amountMiB: i("amount_mib") ?? 0, diskMiB: i("disk_mib") ?? 0)
        case "done":
            guard let total = d("read_total"), let s = d("seconds") else { return nil }
            self = .done(readTotalBytes: total, seconds: s, uptimeSeconds: d("up"))
        default:
            return nil
        }
    }
}
