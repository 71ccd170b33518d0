/// How close a run came to what its link physically allows.
///
/// On a link of capacity C that the guest's storage traffic and the migration stream share, the
/// guest's read rate g and the stream's rate m satisfy g + m <= C, and moving memory M takes at
/// least T0 = M / C. A workload that dirties no memory therefore puts every run on or under the
/// line g/C + T0/T = 1 (T: the migration's time); a run's efficiency is g/C + T0/T, 1 on that
/// frontier. A workload that dirties memory (a buffered reader filling its page cache) makes the
/// stream re-send pages, so its runs lie lower still.
public struct LinkEfficiency: Sendable, Equatable, Codable {
    /// Where M came from.
    public enum MemorySource: String, Sendable, Codable {
        /// The bytes the first pass over memory sent: what had to cross the link (a hypervisor
        /// skips pages that hold only zeroes).
        case firstRound = "first-round"
        /// The guest's memory size, where no round was recorded.
        case memorySize = "memory-size"
    }

    public var linkBytesPerSecond: Double
    public var memoryBytes: Double
    public var memorySource: MemorySource
    /// T0 = M / C.
    public var minimumSeconds: Double
    public var migrationSeconds: Double
    /// The guest's time-weighted mean read rate during the migration, bytes/s.
    public var guestReadBytesPerSecond: Double

    /// g / C.
    public var guestShare: Double { guestReadBytesPerSecond / linkBytesPerSecond }
    /// T0 / T.
    public var timeShare: Double { minimumSeconds / migrationSeconds }
    public var efficiency: Double { guestShare + timeShare }

    public init(linkBytesPerSecond: Double, memoryBytes: Double, memorySource: MemorySource, migrationSeconds: Double, guestReadBytesPerSecond: Double) {
        self.linkBytesPerSecond = linkBytesPerSecond
        self.memoryBytes = memoryBytes
        self.memorySource = memorySource
        self.minimumSeconds = memoryBytes / linkBytesPerSecond
        self.migrationSeconds = migrationSeconds
        self.guestReadBytesPerSecond = guestReadBytesPerSecond
    }

    /// The efficiency of a completed run on a link of known rate; nil where a figure is missing, and
    /// on a full-duplex link, where the guest's reads and the stream go opposite ways and do not
    /// share a capacity (the frontier does not bound them: 1.48 was seen there).
    public init?(info: RunInfo, trace: Trace, analysis: RunAnalysis) {
        guard info.outcome == .completed, info.linkModel != LinkModel.fullDuplex.rawValue,
              let c = info.linkRate.flatMap(LinkRate.init)?.bytesPerSecond, c > 0,
              let t = analysis.migrationSeconds, t > 0, let g = analysis.during?.meanReadBytesPerSecond else { return nil }
        let m: Double, source: MemorySource
        if let first = trace.rounds.min(by: { $0.number < $1.number }), first.bytesSent > 0 {
            (m, source) = (Double(first.bytesSent), .firstRound)
        } else if let size = info.domain?.memoryBytes, size > 0 {
            (m, source) = (Double(size), .memorySize)
        } else {
            return nil
        }
        self.init(linkBytesPerSecond: c, memoryBytes: m, memorySource: source, migrationSeconds: t, guestReadBytesPerSecond: g)
    }
}
