import Foundation

/// What a run shows, computed from its trace alone. Pure: unit tested on constructed traces.
public struct RunAnalysis: Sendable, Equatable, Codable {
    /// Seconds on the run clock.
    public var migrationStartS: Double?
    /// The guest runs on the destination again (or, failed/aborted, the job ended).
    public var migrationEndS: Double?
    public var recordingEndS: Double?
    /// When the guest began running on the destination (the end of the migration, except after a
    /// switch to post-copy): the host counters to read change there.
    public var handoverS: Double?
    /// When the migration switched to post-copy, if it did.
    public var postcopyStartS: Double?
    /// Where the guest's pause began (stop-and-copy, or the whole copy non-live).
    public var pausedAtS: Double?

    public var migrationSeconds: Double? {
        guard let a = migrationStartS, let b = migrationEndS else { return nil }
        return b - a
    }

    /// The guest's I/O in each phase, from its own rate lines where there are any, else the host's counters.
    public var ioSeries: IOSample.Series?
    public var before: PhaseStats?
    public var during: PhaseStats?
    public var after: PhaseStats?
    /// during / before: the measure of what migration costs the guest's I/O.
    public var ioDuringRatio: Double? {
        guard let d = during?.meanReadBytesPerSecond, let b = before?.meanReadBytesPerSecond, b > 0 else { return nil }
        return d / b
    }

    /// When the guest's workload reported that it ended (nil: it had not by the end of the recording).
    public var workloadEndS: Double?
    /// How much of the migration the workload was still running for: "during" is measured over that
    /// part only, since a guest with nothing left to read shows no I/O whatever the migration does.
    public var workloadActiveSeconds: Double? {
        guard let s = migrationStartS, let e = migrationEndS else { return nil }
        return max(0, min(e, workloadEndS ?? e) - s)
    }
    /// The workload ended before the migration did: its "during" covers only part of the migration,
    /// and the run does not measure what the migration costs a running workload.
    public var workloadEndedEarly: Bool {
        guard let w = workloadEndS, let e = migrationEndS else { return false }
        return w < e
    }

    /// The longest the guest went without a rate line during the migration, less its usual interval:
    /// the downtime the guest itself saw.
    public var guestGapMs: Double?
    /// How much of what pre-copy re-sent the guest's reads explain (nil without re-sent rounds).
    public var ioDirtying: IODirtying?

    public struct PhaseStats: Sendable, Equatable, Codable {
        public var samples: Int
        public var meanReadBytesPerSecond: Double
        public var p10ReadBytesPerSecond: Double
        public var p50ReadBytesPerSecond: Double
        public var p90ReadBytesPerSecond: Double
        public var meanWriteBytesPerSecond: Double
    }

    public init(trace: Trace) {
        migrationStartS = trace.firstEvent(.migrationStarted)?.t
        let resumed = trace.events.first { $0.kind == .guestResumed && $0.facts.host == .destination }
        let ended = trace.events.first { [.migrationCompleted, .migrationFailed, .migrationAborted].contains($0.kind) }
        // After a switch to post-copy the guest runs on the destination while pages still cross:
        // the migration (and what it costs the guest) lasts until the job ends.
        postcopyStartS = trace.firstEvent(.postcopyStarted)?.t
        migrationEndS = postcopyStartS != nil ? (ended?.t ?? resumed?.t) : (resumed?.t ?? ended?.t)
        handoverS = resumed?.t ?? ended?.t
        recordingEndS = trace.lastEvent(.recordingEnded)?.t ?? trace.samples.last?.t
        pausedAtS = trace.events.first { $0.kind == .guestPaused && $0.facts.host == .source }?.t
        workloadEndS = trace.firstEvent(.workloadDone)?.t

        let guest = trace.samples.filter { $0.series == .guest }
        let series = Self.readSeries(trace, handoverS: handoverS)
        ioSeries = series.isEmpty ? nil : (guest.isEmpty ? .host : .guest)
        if let s = migrationStartS, let e = migrationEndS {
            // A sample reports the interval before it: the one stamped at the start still describes
            // "before", and the first one after the end straddles it and belongs to neither.
            let first = series.first?.t ?? s, last = series.last?.t ?? e
            // The line that straddles the start tells of the guest before it too: without its share,
            // "before" lost up to a whole line's time (measured: 82 % where the line-by-line ratio was 72).
            before = Self.stats(series, from: min(first - Self.usualInterval(series), s), to: s, countingTheLineAfter: true)
            // Only while the workload still ran (see workloadActiveSeconds).
            during = Self.stats(series, from: s, to: min(e, workloadEndS ?? e))
            after = Self.stats(series, from: e + 1, to: max(last, e + 1))
            guestGapMs = Self.longestGap(guest, from: s, to: e).map { $0 * 1000 }
        }
        ioDirtying = IODirtying(rounds: trace.rounds, reads: series)
    }

    /// The series the guest's I/O is measured from: its own rate lines where there are any, else
    /// the host's counters stitched at the handover.
    public static func readSeries(_ trace: Trace, handoverS: Double?) -> [IOSample] {
        let guest = trace.samples.filter { $0.series == .guest }
        if !guest.isEmpty { return guest }
        return stitchedHostSeries(trace.samples, handoverS: handoverS, completed: trace.firstEvent(.migrationCompleted) != nil)
    }

    /// The mean read rate over (from, to] of a run's series, weighted by time as the phases are.
    public static func meanReadRate(_ series: [IOSample], from: Double, to: Double) -> Double? {
        stats(series, from: from, to: to)?.meanReadBytesPerSecond
    }

    /// One continuous host-side series: the source's counters until the handover, the destination's after.
    public static func stitchedHostSeries(_ samples: [IOSample], handoverS: Double?, completed: Bool) -> [IOSample] {
        let host = samples.filter { $0.series == .host }
        guard completed, let handover = handoverS else {
            return host.filter { $0.role == .source }
        }
        return host.filter {
            $0.role == ($0.t < handover ? .source : .destination)
        }.sorted { $0.t < $1.t }
    }

    /// The median spacing of a series' samples, over the gaps that are gaps: a guest starved of
    /// CPU (four TCG guests migrating at once on two cores) prints its lines in bursts stamped
    /// alike, and a usual interval of zero would weigh every sample as no time at all.
    static func usualInterval(_ s: [IOSample]) -> Double {
        Statistics.median(zip(s, s.dropFirst()).map { $1.t - $0.t }.filter { $0 > 0.001 }) ?? 1
    }

    /// The phase (from, to]: means weighted by time, so a stretch without samples counts as no
    /// I/O. A guest paused for the final copy prints nothing (its clock stops), and leaving that out
    /// would make a migration look kinder than it was. Each sample reports the interval before it,
    /// at most the series' usual spacing, clipped to the phase.
    ///
    /// `countingTheLineAfter`: the first sample after `to` adds the part of its interval before `to`,
    /// for a phase whose end the guest ran through (the migration's start), where that sample tells
    /// of both sides. Not at a phase that ends with the guest paused: what the first line after a
    /// pause reports was read after it.
    static func stats(_ series: [IOSample], from: Double, to: Double, countingTheLineAfter: Bool = false) -> PhaseStats? {
        guard to > from else { return nil }
        let usual = usualInterval(series)
        var readBytes = 0.0, writeBytes = 0.0
        var inPhase: [IOSample] = []
        var previous: Double? = nil
        var countedTheLineAfter = false
        for x in series {
            defer { previous = x.t }
            let start = x.t - min(x.t - (previous ?? (x.t - usual)), usual)
            if x.t > to {
                if countingTheLineAfter, !countedTheLineAfter, start < to {
                    countedTheLineAfter = true
                    let covered = to - max(start, from)
                    readBytes += x.readBytesPerSecond * covered
                    writeBytes += x.writeBytesPerSecond * covered
                }
                continue
            }
            guard x.t > from else { continue }
            let covered = x.t - max(start, from)
            readBytes += x.readBytesPerSecond * covered
            writeBytes += x.writeBytesPerSecond * covered
            inPhase.append(x)
        }
        guard !inPhase.isEmpty else {
            // Silence between samples on both sides (a guest paused for the whole phase, as in a
            // short non-live migration) is a phase with no I/O, not one without a measurement.
            guard series.contains(where: { $0.t <= from }), series.contains(where: { $0.t > to }) else { return nil }
            return PhaseStats(samples: 0, meanReadBytesPerSecond: 0, p10ReadBytesPerSecond: 0, p50ReadBytesPerSecond: 0,
                              p90ReadBytesPerSecond: 0, meanWriteBytesPerSecond: 0)
        }
        let reads = inPhase.map(\.readBytesPerSecond).sorted()
        func pct(_ p: Double) -> Double { Statistics.percentile(sorted: reads, p) ?? 0 }
        let length = to - from
        return PhaseStats(
            samples: inPhase.count, meanReadBytesPerSecond: readBytes / length,
            p10ReadBytesPerSecond: pct(0.1), p50ReadBytesPerSecond: pct(0.5), p90ReadBytesPerSecond: pct(0.9),
            meanWriteBytesPerSecond: writeBytes / length)
    }

    /// Longest interval between consecutive guest lines overlapping [from, to], less the median interval.
    static func longestGap(_ guest: [IOSample], from: Double, to: Double) -> Double? {
        let t = guest.map(\.t).sorted()
        guard t.count >= 3 else { return nil }
        let gaps = zip(t, t.dropFirst()).map { ($0, $1 - $0) }
        guard let usual = Statistics.median(gaps.map(\.1)) else { return nil }
        let inWindow = gaps.filter { $0.0 + $0.1 >= from && $0.0 <= to + usual }.map(\.1)
        guard let longest = inWindow.max() else { return nil }
        return max(0, longest - usual)
    }
}
