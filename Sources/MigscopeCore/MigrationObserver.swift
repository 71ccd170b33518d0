/// Watches a migration as it runs. Called from the runner's tasks; implementations must be thread-safe.
public protocol MigrationObserver: Sendable {
    func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant)
    func progressed(_ progress: JobProgress, at: ContinuousClock.Instant)
    func signalled(_ signal: MigrationSignal)
    /// The runner itself acted: paused the guest for a timeout, aborted, was interrupted.
    func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant)
    func migrationFinished(_ summary: MigrationSummary)
}

extension MigrationObserver {
    public func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant) {}
    public func progressed(_ progress: JobProgress, at: ContinuousClock.Instant) {}
    public func signalled(_ signal: MigrationSignal) {}
    public func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant) {}
    public func migrationFinished(_ summary: MigrationSummary) {}
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
    /// An intervention failed; the hypervisor's words.
    case failed(String)

    public var description: String {
        switch self {
        case .pausedForTimeout(let s): "guest paused after \(Format.seconds(s)) to force completion"
        case .pausedAfterRounds(let n): "guest paused after \(n) pre-copy round\(n == 1 ? "" : "s") to force completion"
        case .abortedAfter(let s): "migration aborted after \(Format.seconds(s))"
        case .interrupted: "interrupted: migration aborted"
        case .failed(let m): "intervention failed: \(m)"
        }
    }
}
