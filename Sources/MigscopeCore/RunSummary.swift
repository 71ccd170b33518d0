import Foundation

/// The one-row summary of a run: what `summary.csv` holds and tables compare.
public struct RunSummary: Sendable, Equatable, Codable {
    public var mode: MigrationRequest.Mode
    public var bandwidth: String?
    public var linkModel: String?
    public var outcome: RunStatus
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
    /// How close the run came to what its link allows (g/C + T0/T), where the link's rate is known.
    public var efficiency: LinkEfficiency?
    /// The share of re-sent bytes the guest's reads explain, and re-sent bytes per byte read (IODirtying).
    public var ioExplainedResentShare: Double?
    public var resentPerByteRead: Double?
    /// The tuning options the run used, in words ("none" without any).
    public var tuning: String?

    public init(info: RunInfo, trace: Trace, analysis: RunAnalysis) {
        mode = info.request.mode
        bandwidth = info.linkRate
        linkModel = info.linkModel
        outcome = info.outcome ?? .recording
        migrationSeconds = analysis.migrationSeconds
        let completed = trace.events.last { $0.kind == .migrationCompleted }
        downtimeMs = completed?.facts.downtimeMs
        guestGapMs = analysis.guestGapMs
        rounds = trace.rounds.count
        bytesSent = trace.rounds.isEmpty ? nil : trace.rounds.reduce(0) { $0 + $1.bytesSent }
        ioBefore = analysis.before?.meanReadBytesPerSecond
        ioDuring = analysis.during?.meanReadBytesPerSecond
        ioAfter = analysis.after?.meanReadBytesPerSecond
        ioDuringRatio = analysis.ioDuringRatio
        guestLinesDropped = trace.firstEvent(.guestLinesDropped)?.facts.count
        workloadActiveSeconds = analysis.workloadActiveSeconds
        workloadEndedEarly = analysis.workloadEndedEarly
        // The read's time on the host clock (pauses included) where known, else the guest's own.
        workloadSeconds = trace.firstEvent(.workloadDone).flatMap { $0.facts.hostSeconds ?? $0.facts.guestSeconds }
        if let b = bytesSent, let m = info.domain?.memoryBytes, m > 0 { bytesSentOverMemory = Double(b) / Double(m) }
        convergence = Self.convergence(mode: info.request.mode, outcome: outcome, trace: trace)
        efficiency = LinkEfficiency(info: info, trace: trace, analysis: analysis)
        ioExplainedResentShare = analysis.ioDirtying?.explainedShare
        resentPerByteRead = analysis.ioDirtying?.slope
        tuning = info.storagePriority == true
            ? (info.request.tuningWords == "none" ? "storage priority" : "storage priority, " + info.request.tuningWords)
            : info.request.tuningWords
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
    public static func convergence(mode: MigrationRequest.Mode, outcome: RunStatus, trace: Trace) -> String {
        switch outcome {
        case .aborted, .failed: return "did not finish (\(outcome.rawValue))"
        case .recording: return "unknown: the recording is incomplete"
        case .completed: break
        }
        if mode == .nonLive { return "non-live: guest paused for the whole copy" }
        let precopy = trace.rounds.filter { !$0.stopAndCopy }.compactMap(\.remainingBytesAtStart)
        let shrinking = precopy.count >= 2 && zip(precopy, precopy.dropFirst()).allSatisfy { $1 < $0 }
        let trend = precopy.count < 2 ? "" : shrinking ? "; what each round left shrank" : "; what each round left did not keep shrinking"
        if let forced = trace.firstEvent(.pausedForTimeout) {
            return "forced: guest paused at t=\(String(format: "%.1f", forced.t)) s by the timeout\(trend)"
        }
        if trace.firstEvent(.postcopyStarted) != nil {
            return "post-copy: switched at t=\(String(format: "%.1f", trace.firstEvent(.postcopyStarted)!.t)) s, the guest ran on the destination while it fetched the rest\(trend)"
        }
        if let forced = trace.firstEvent(.stoppedByPolicy) {
            return "forced: \(forced.detail) at t=\(String(format: "%.1f", forced.t)) s (the stop policy)\(trend)"
        }
        if let forced = trace.firstEvent(.pausedAfterRounds) {
            return "forced: \(forced.detail) at t=\(String(format: "%.1f", forced.t)) s (a round limit)\(trend)"
        }
        return "converged: the last dirty pages fit the downtime limit\(trend)"
    }
}
