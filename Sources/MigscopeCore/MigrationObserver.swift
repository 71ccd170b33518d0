/// Watches a migration as it runs. Called from the runner's tasks; implementations must be thread-safe.
public protocol MigrationObserver: Sendable {
    func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant)
    func progressed(_ progress: JobProgress, at: ContinuousClock.Instant)
    func signalled(_ signal: MigrationSignal)
    /// The runner itself acted: paused the guest for a timeout, aborted, was interrupted.
    func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant)
    func migrationFinished(_ summary: MigrationSummary)
    /// A sample of the guest's I/O, as the recorder took it (recorded runs only, baseline and tail too).
    func sampled(_ sample: IOSample)
}

extension MigrationObserver {
    public func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant) {}
    public func progressed(_ progress: JobProgress, at: ContinuousClock.Instant) {}
    public func signalled(_ signal: MigrationSignal) {}
    public func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant) {}
    public func migrationFinished(_ summary: MigrationSummary) {}
    public func sampled(_ sample: IOSample) {}
}

/// Several observers watching one migration (the progress line and the live metrics), in order.
public struct MigrationObservers: MigrationObserver {
    public let all: [any MigrationObserver]
    public init(_ all: [any MigrationObserver]) { self.all = all }

    public func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant) { all.forEach { $0.migrationStarted(request, at: at) } }
    public func progressed(_ progress: JobProgress, at: ContinuousClock.Instant) { all.forEach { $0.progressed(progress, at: at) } }
    public func signalled(_ signal: MigrationSignal) { all.forEach { $0.signalled(signal) } }
    public func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant) { all.forEach { $0.intervened(action, at: at) } }
    public func migrationFinished(_ summary: MigrationSummary) { all.forEach { $0.migrationFinished(summary) } }
    public func sampled(_ sample: IOSample) { all.forEach { $0.sampled(sample) } }
}

public enum MigrationIntervention: Sendable, Equatable, CustomStringConvertible {
    /// The guest was paused after `seconds` so the migration could complete (`--timeout`).
    case pausedForTimeout(seconds: Double)
    /// The guest was paused as pre-copy round `rounds + 1` began (`--pause-after-rounds`).
    case pausedAfterRounds(rounds: Int)
    /// The migration was aborted after `seconds` (`--abort-after`).
    case abortedAfter(seconds: Double)
    /// The user interrupted (Ctrl-C); the migration was aborted.
    case interrupted
    /// The guest was paused by the stop policy after `rounds` rounds and `bytesSent` sent (`--stop-after`).
    case stoppedByPolicy(StopPolicy, rounds: Int, bytesSent: UInt64?, because: String)
    /// The migration was switched to post-copy (`--postcopy`).
    case switchedToPostcopy(PostcopyTrigger)
    /// The max downtime was set to `milliseconds`, step `step` of `of` (`--downtime-steps`).
    case maxDowntimeSet(milliseconds: UInt64, step: Int, of: Int)
    /// The stream's cap was set (nil: lifted), and why (`--io-floor`).
    case speedCapSet(mebibytesPerSecond: UInt64?, why: String)
    /// A tuning option could not act; the stream runs as it was (what and why).
    case tuningSkipped(String)
    /// The migration stalled; migscope aborted it or paused the guest, as `limits` say.
    case stalled(StallWatch.Stall, StallLimits.Action)
    /// An intervention failed; the hypervisor's words.
    case failed(String)

    public var description: String {
        switch self {
        case .pausedForTimeout(let s): "guest paused after \(Format.seconds(s)) to force completion"
        case .pausedAfterRounds(let n): "guest paused after \(n) pre-copy round\(n == 1 ? "" : "s") to force completion"
        case .abortedAfter(let s): "migration aborted after \(Format.seconds(s))"
        case .interrupted: "interrupted: migration aborted"
        case .stoppedByPolicy(let p, let r, let b, let why):
            "guest paused by the stop policy \(p) (\(why)) after \(r) round\(r == 1 ? "" : "s")\(b.map { ", \(Format.bytes($0)) sent" } ?? "")"
        case .switchedToPostcopy(let t): "switched to post-copy (\(t))"
        case .maxDowntimeSet(let ms, let i, let n): "max downtime set to \(ms) ms (step \(i) of \(n))"
        case .speedCapSet(let mib, let why): mib.map { "stream capped at \($0) MiB/s: \(why)" } ?? "stream cap lifted: \(why)"
        case .stalled(let s, let a): "migration stalled: \(s); \(a == .abort ? "aborting it (the guest stays on the source)" : "guest paused to force completion")"
        case .tuningSkipped(let m): m
        case .failed(let m): "intervention failed: \(m)"
        }
    }
}
