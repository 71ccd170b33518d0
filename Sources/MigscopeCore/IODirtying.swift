/// The paper's first open question for one run: how much of what pre-copy re-sent the guest's own
/// reads dirtied. A buffered reader fills the page cache with what it reads, so each byte read
/// can dirty a byte of memory; what a round leaves dirty is what the next round re-sends.
///
/// For each pre-copy round that has a next one: the bytes the guest read while it ran (its read
/// rate integrated over the round) beside the bytes the next round re-sent. The reads explain at
/// most what they could have dirtied, min(read, re-sent) per round; their share of all re-sent
/// bytes is the estimate. The slope (re-sent per byte read, least squares through the origin)
/// tells a buffered reader (near 1) from a direct one (near 0).
public struct IODirtying: Sendable, Equatable, Codable {
    public struct Round: Sendable, Equatable, Codable {
        public var number: Int
        public var readBytes: Double
        /// What the next round re-sent: the pages this one left dirty.
        public var dirtiedBytes: Double
        public init(number: Int, readBytes: Double, dirtiedBytes: Double) {
            self.number = number
            self.readBytes = readBytes
            self.dirtiedBytes = dirtiedBytes
        }
    }

    public var rounds: [Round]
    public var resentBytes: Double
    /// The share of re-sent bytes the reads explain (nil when nothing was re-sent).
    public var explainedShare: Double?
    public var slope: Double?

    public init(rounds: [Round]) {
        self.rounds = rounds
        resentBytes = rounds.reduce(0) { $0 + $1.dirtiedBytes }
        let explained = rounds.reduce(0) { $0 + min($1.readBytes, $1.dirtiedBytes) }
        explainedShare = resentBytes > 0 ? explained / resentBytes : nil
        let xx = rounds.reduce(0) { $0 + $1.readBytes * $1.readBytes }
        slope = xx > 0 ? rounds.reduce(0) { $0 + $1.readBytes * $1.dirtiedBytes } / xx : nil
    }

    /// From a run's rounds and the guest's read series (each sample reports the interval before
    /// it, at most the series' usual spacing). Nil without a round that was followed by another.
    public init?(rounds: [RoundRecord], reads series: [IOSample]) {
        guard rounds.count >= 2, !series.isEmpty else { return nil }
        let usual = RunAnalysis.usualInterval(series)
        func read(from: Double, to: Double) -> Double {
            var total = 0.0, previous: Double?
            for x in series {
                defer { previous = x.t }
                guard x.t > from else { continue }
                // The part of this sample's interval that lies inside the round.
                let begins = max(from, x.t - min(x.t - (previous ?? (x.t - usual)), usual))
                let ends = min(x.t, to)
                if ends > begins { total += x.readBytesPerSecond * (ends - begins) }
                if x.t >= to { break }
            }
            return total
        }
        let sorted = rounds.sorted { $0.number < $1.number }
        var out: [Round] = []
        for (r, next) in zip(sorted, sorted.dropFirst()) where !r.stopAndCopy {
            out.append(Round(number: r.number, readBytes: read(from: r.startS, to: r.endS), dirtiedBytes: Double(next.bytesSent)))
        }
        guard !out.isEmpty else { return nil }
        self.init(rounds: out)
    }
}
