import MigscopeCore
/// libxl's migration progress, as libxenguest reports it through the xentoollog logger, turned
/// into rounds. Pure: the libxl backend feeds it; tests feed it recorded callback sequences.
///
/// libxenguest calls progress(context "xc", doing_what, percent, done, total): "Frames iteration N"
/// once per pre-copy round with done/total pages (every 1024 pages and at done == total), then
/// "Domain now suspended", then one more "Frames iteration" (the stop-and-copy round), "End of
/// stream", "Complete". Non-live, "Domain now suspended" comes first and the one round is
/// reported as plain "Frames".
public struct XenProgressTracker: Sendable {
    public struct Round: Sendable, Equatable {
        public var number: Int
        public var startT: Double
        public var endT: Double?
        public var pagesTotal: UInt64
        public var pagesSent: UInt64
        public var stopAndCopy: Bool
    }

    public private(set) var rounds: [Round] = []
    public private(set) var suspendedAt: Double?
    public private(set) var completedAt: Double?
    public let pageSize: UInt64

    public init(pageSize: UInt64 = 4096) { self.pageSize = pageSize }

    /// One progress callback at time `t`. Returns the signal it stands for, if any.
    @discardableResult
    public mutating func receive(t: Double, context: String, doing: String, done: UInt64, total: UInt64) -> MigrationSignal.Kind? {
        // Live: "Frames iteration N" per round. Non-live: one "Frames" (no number), after the suspend.
        let number: Int? = doing.hasPrefix("Frames iteration ")
            ? Int(doing.dropFirst("Frames iteration ".count).trimmingCharacters(in: .whitespaces))
            : doing.trimmingCharacters(in: .whitespaces) == "Frames" ? (rounds.last.map { $0.number + (suspendedAt != nil && !$0.stopAndCopy ? 1 : 0) } ?? 0) : nil
        if let n = number {
            if let last = rounds.last, last.number == n {
                rounds[rounds.count - 1].pagesSent = max(last.pagesSent, done)
                rounds[rounds.count - 1].pagesTotal = max(last.pagesTotal, total)
                if done == total && total > 0 { rounds[rounds.count - 1].endT = t }
                return nil
            }
            if !rounds.isEmpty, rounds[rounds.count - 1].endT == nil { rounds[rounds.count - 1].endT = t }
            rounds.append(Round(number: n, startT: t, endT: done == total && total > 0 ? t : nil, pagesTotal: total, pagesSent: done,
                                stopAndCopy: suspendedAt != nil))
            return .roundStarted(UInt64(n))
        }
        if doing.hasPrefix("Domain now suspended") {
            suspendedAt = t
            return .guestPaused(host: .source)
        }
        if doing.hasPrefix("Complete") {
            completedAt = t
            if !rounds.isEmpty, rounds[rounds.count - 1].endT == nil { rounds[rounds.count - 1].endT = t }
        }
        return nil
    }

    /// The rounds as the recorder stores them. What a round left dirty is what the next one sent
    /// (libxenguest re-sends exactly the pages dirtied since it last looked), so a round's dirtied
    /// pages and dirty rate come from its successor; the last round has none.
    public func records() -> [RoundRecord] {
        rounds.indices.map { i in
            let r = rounds[i]
            let end = r.endT ?? completedAt ?? r.startT
            let bytes = r.pagesSent * pageSize
            let seconds = end - r.startT
            let dirtied = i + 1 < rounds.count ? rounds[i + 1].pagesTotal : nil
            let pagesPerSecond = dirtied.flatMap { d in seconds > 0 ? UInt64((Double(d) / seconds).rounded()) : nil }
            return RoundRecord(
                number: r.number, startS: r.startT, endS: end, bytesSent: bytes, dirtyPagesPerSecond: pagesPerSecond,
                dirtyBytesPerSecond: pagesPerSecond.map { $0 * pageSize },
                remainingBytesAtStart: r.pagesTotal * pageSize, remainingBytesAtEnd: r.pagesTotal >= r.pagesSent ? (r.pagesTotal - r.pagesSent) * pageSize : 0,
                pagesDirtied: dirtied, transferBytesPerSecond: seconds > 0 ? Double(bytes) / seconds : 0, stopAndCopy: r.stopAndCopy)
        }
    }
}
