import Foundation

/// What a run shows, computed from its trace alone. Pure: unit tested on constructed traces.
public struct RunAnalysis: Sendable, Equatable, Codable {
    /// Seconds on the run clock.
    public var migrationStartS: Double?
    /// The guest runs on the destination again (or, failed/aborted, the job ended).
    public var migrationEndS: Double?
    public var recordingEndS: Double?
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
    /// during / before: the paper's "about 10 %".
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
        let resumed = trace.events.first { $0.kind == .guestResumed && $0.detail == HostRole.destination.rawValue }
        let ended = trace.events.first { [.migrationCompleted, .migrationFailed, .migrationAborted].contains($0.kind) }
        migrationEndS = resumed?.t ?? ended?.t
        recordingEndS = trace.lastEvent(.recordingEnded)?.t ?? trace.samples.last?.t
        pausedAtS = trace.events.first { $0.kind == .guestPaused && $0.detail == HostRole.source.rawValue }?.t
        workloadEndS = trace.firstEvent(.workloadDone)?.t

        let guest = trace.samples.filter { $0.series == .guest }
        let series: [IOSample]
        if !guest.isEmpty {
            series = guest
            ioSeries = .guest
        } else {
            series = Self.stitchedHostSeries(trace.samples, handoverS: migrationEndS, completed: trace.firstEvent(.migrationCompleted) != nil)
            ioSeries = series.isEmpty ? nil : .host
        }
        if let s = migrationStartS, let e = migrationEndS {
            // A sample reports the interval before it: the one stamped at the start still describes
            // "before", and the first one after the end straddles it and belongs to neither.
            let first = series.first?.t ?? s, last = series.last?.t ?? e
            before = Self.stats(series, from: min(first - Self.usualInterval(series), s), to: s)
            // Only while the workload still ran (see workloadActiveSeconds).
            during = Self.stats(series, from: s, to: min(e, workloadEndS ?? e))
            after = Self.stats(series, from: e + 1, to: max(last, e + 1))
            guestGapMs = Self.longestGap(guest, from: s, to: e).map { $0 * 1000 }
        }
    }

    /// One continuous host-side series: the source's counters until the handover, the destination's after.
    public static func stitchedHostSeries(_ samples: [IOSample], handoverS: Double?, completed: Bool) -> [IOSample] {
        let host = samples.filter { $0.series == .host }
        guard completed, let handover = handoverS else {
            return host.filter { $0.host == HostRole.source.rawValue }
        }
        return host.filter {
            $0.t < handover ? $0.host == HostRole.source.rawValue : $0.host == HostRole.destination.rawValue
        }.sorted { $0.t < $1.t }
    }

    /// The median spacing of a series' samples.
    static func usualInterval(_ s: [IOSample]) -> Double {
        let gaps = zip(s, s.dropFirst()).map { $1.t - $0.t }.sorted()
        return gaps.isEmpty ? 1 : gaps[gaps.count / 2]
    }

    /// The phase (from, to]: means weighted by time, so a stretch without samples counts as no
    /// I/O. A guest paused for the final copy prints nothing (its clock stops), and leaving that out
    /// would make a migration look kinder than it was. Each sample reports the interval before it,
    /// at most the series' usual spacing, clipped to the phase.
    static func stats(_ series: [IOSample], from: Double, to: Double) -> PhaseStats? {
        guard to > from else { return nil }
        let usual = usualInterval(series)
        var readBytes = 0.0, writeBytes = 0.0
        var inPhase: [IOSample] = []
        var previous: Double? = nil
        for x in series {
            defer { previous = x.t }
            guard x.t > from && x.t <= to else { continue }
            let covered = min(x.t - (previous ?? (x.t - usual)), usual, x.t - from)
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
        func pct(_ p: Double) -> Double { reads[min(reads.count - 1, Int((Double(reads.count - 1) * p).rounded()))] }
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
        let usual = gaps.map(\.1).sorted()[gaps.count / 2]
        let inWindow = gaps.filter { $0.0 + $0.1 >= from && $0.0 <= to + usual }.map(\.1)
        guard let longest = inWindow.max() else { return nil }
        return max(0, longest - usual)
    }
}

/// The one-row summary of a run: what `summary.csv` holds and tables compare.
public struct RunSummary: Sendable, Equatable, Codable {
    public var mode: String
    public var bandwidth: String?
    public var linkModel: String?
    public var outcome: String
    public var migrationSeconds: Double?
    public var downtimeMs: Double?
    public var guestGapMs: Double?
    public var rounds: Int
    public var bytesSent: UInt64?
    public var ioBefore: Double?
    public var ioDuring: Double?
    public var ioAfter: Double?
    public var ioDuringRatio: Double?
    public var workloadSeconds: Double?
    /// Seconds of the migration during which the workload still ran ("I/O during" covers these).
    public var workloadActiveSeconds: Double?
    /// The workload ended before the migration did: "I/O during" covers only part of the migration.
    /// Optional only so that summaries stored before it existed still decode.
    public var workloadEndedEarly: Bool?
    /// Guest console lines dropped as untrue (not finite, negative, beyond any link) or over-long.
    public var guestLinesDropped: Int?
    /// Bytes sent over the guest's memory: how much pre-copy re-sent.
    public var bytesSentOverMemory: Double?
    /// Why the migration ended as it did, in words.
    public var convergence: String?

    public init(info: RunInfo, trace: Trace, analysis: RunAnalysis) {
        mode = info.request.mode.rawValue
        bandwidth = info.linkRate
        linkModel = info.linkModel
        outcome = info.outcome ?? "incomplete"
        migrationSeconds = analysis.migrationSeconds
        let completed = trace.events.last { $0.kind == .migrationCompleted }
        downtimeMs = completed.flatMap { e in e.detail.split(separator: " ").first { $0.hasPrefix("downtime_ms=") }.flatMap { Double($0.dropFirst(12)) } }
        guestGapMs = analysis.guestGapMs
        rounds = trace.rounds.count
        bytesSent = trace.rounds.isEmpty ? nil : trace.rounds.reduce(0) { $0 + $1.bytesSent }
        ioBefore = analysis.before?.meanReadBytesPerSecond
        ioDuring = analysis.during?.meanReadBytesPerSecond
        ioAfter = analysis.after?.meanReadBytesPerSecond
        ioDuringRatio = analysis.ioDuringRatio
        guestLinesDropped = trace.firstEvent(.guestLinesDropped).flatMap { Int($0.detail) }
        workloadActiveSeconds = analysis.workloadActiveSeconds
        workloadEndedEarly = analysis.workloadEndedEarly
        // The read's time on the host clock (pauses included) where known, else the guest's own.
        workloadSeconds = trace.events.first { $0.kind == .workloadDone }.flatMap { e in
            let fields = e.detail.split(separator: " ")
            return (fields.first { $0.hasPrefix("host_seconds=") }.flatMap { Double($0.dropFirst(13)) })
                ?? (fields.first { $0.hasPrefix("seconds=") }.flatMap { Double($0.dropFirst(8)) })
        }
        if let b = bytesSent, let m = info.domain?.memoryBytes, m > 0 { bytesSentOverMemory = Double(b) / Double(m) }
        convergence = Self.convergence(mode: info.request.mode, outcome: outcome, trace: trace)
    }

    /// Says how much of the migration the workload covered, for summaries.
    public var workloadWindow: String? {
        guard let active = workloadActiveSeconds, let m = migrationSeconds else { return nil }
        if workloadEndedEarly == true {
            return "workload active for \(Format.seconds(active)) of the migration's \(Format.seconds(m)): it ended first, so 'I/O during' covers that part only"
        }
        return "workload active for the whole migration (\(Format.seconds(m)))"
    }

    /// Converged by itself, forced by a pause, non-live, or not finished; and the trend of what each
    /// pre-copy round left to send.
    public static func convergence(mode: MigrationRequest.Mode, outcome: String, trace: Trace) -> String {
        if outcome == "aborted" || outcome == "failed" { return "did not finish (\(outcome))" }
        if outcome == "incomplete" || outcome == "recording" { return "unknown: the recording is incomplete" }
        if mode == .nonLive { return "non-live: guest paused for the whole copy" }
        let precopy = trace.rounds.filter { !$0.stopAndCopy }.compactMap(\.remainingBytesAtStart)
        let shrinking = precopy.count >= 2 && zip(precopy, precopy.dropFirst()).allSatisfy { $1 < $0 }
        let trend = precopy.count < 2 ? "" : shrinking ? "; what each round left shrank" : "; what each round left did not keep shrinking"
        if let forced = trace.firstEvent(.pausedForTimeout) {
            return "forced: guest paused at t=\(String(format: "%.1f", forced.t)) s by the timeout\(trend)"
        }
        if let forced = trace.firstEvent(.pausedAfterRounds) {
            return "forced: \(forced.detail) at t=\(String(format: "%.1f", forced.t)) s (a round limit, as Xen's pre-copy has)\(trend)"
        }
        return "converged: the last dirty pages fit the downtime limit\(trend)"
    }
}

/// What is known about a run besides its trace.
public struct RunInfo: Sendable, Equatable, Codable {
    public var id: Int64?
    public var backend: String
    public var request: MigrationRequest
    public var domain: DomainFacts?
    /// Wall-clock time at t = 0 of the run clock.
    public var anchor: Date
    public var linkRate: String?
    public var linkModel: String?
    public var accelerator: String?
    public var workload: Workload?
    /// "recording" while it runs; then "completed", "failed", "aborted" (or still "recording": the
    /// recorder died, the run is incomplete).
    public var status: String
    public var outcome: String?
    public var error: String?
    public var planName: String?
    public var cell: String?
    public var repetition: Int?
    /// The plan's defining settings when the run was made (Plan.definingSettings), for resuming.
    public var planSettings: [String: String]?
    /// Names of the source's and the destination's links in the link samples, when known (the lab's
    /// "hostA", "hostB"): what tells the migration stream from the storage traffic in figures.
    public var sourceLink: String?
    public var destinationLink: String?
    public var notes: [String]

    public init(id: Int64? = nil, backend: String, request: MigrationRequest, domain: DomainFacts? = nil, anchor: Date,
                linkRate: String? = nil, linkModel: String? = nil, accelerator: String? = nil, workload: Workload? = nil,
                status: String = "recording", outcome: String? = nil, error: String? = nil,
                planName: String? = nil, cell: String? = nil, repetition: Int? = nil, notes: [String] = []) {
        self.id = id
        self.backend = backend
        self.request = request
        self.domain = domain
        self.anchor = anchor
        self.linkRate = linkRate
        self.linkModel = linkModel
        self.accelerator = accelerator
        self.workload = workload
        self.status = status
        self.outcome = outcome
        self.error = error
        self.planName = planName
        self.cell = cell
        self.repetition = repetition
        self.notes = notes
    }

    public var isIncomplete: Bool { status == "recording" }

    /// The same run with its hosts' URIs as they may be stored and shown (HostURI.redacted).
    public var redacted: RunInfo {
        var r = self
        r.request.source = HostURI.redacted(request.source)
        r.request.destination = HostURI.redacted(request.destination)
        r.request.migrateURI = request.migrateURI.map(HostURI.redacted)
        return r
    }
}
