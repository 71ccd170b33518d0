/// How a migration ended, with its figures.
public struct MigrationSummary: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case completed
        case aborted(AbortReason)
        case failed(String)

        /// The run status this outcome gives a recorded run.
        public var status: RunStatus {
            switch self {
            case .completed: .completed
            case .aborted: .aborted
            case .failed: .failed
            }
        }
    }
    public var request: MigrationRequest
    public var outcome: Outcome
    public var elapsedSeconds: Double
    /// When the migration call returned (before any grace period for late events).
    public var endedAt: ContinuousClock.Instant
    /// The hypervisor's final figures (downtime, bytes, iteration), when it kept them.
    public var final: JobProgress?
    /// Rounds seen as events; the hypervisor's own count is `final?.iteration`.
    public var roundsSignalled: Int
    /// migscope paused the guest to force completion (`--timeout` or `--pause-after-rounds`).
    public var pausedForTimeout: Bool
    public var location: DomainLocation

    /// The number of rounds: the hypervisor's count, else the events seen.
    public var rounds: Int { final?.iteration.map { Int($0) } ?? roundsSignalled }
    public var bytesSent: UInt64? { final?.dataProcessedBytes ?? final?.memoryProcessedBytes }
    public var succeeded: Bool { outcome == .completed }
}

extension MigrationSummary: Encodable {
    private enum Keys: String, CodingKey {
        case domain, source, destination, mode, outcome, reason, elapsedSeconds = "elapsed_s", downtimeMs = "downtime_ms"
        case rounds, bytesSent = "bytes_sent", pausedForTimeout = "paused_for_timeout", location, locationState = "location_state"
        case final
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(request.domain, forKey: .domain)
        try c.encode(request.source, forKey: .source)
        try c.encode(request.destination, forKey: .destination)
        try c.encode(request.mode.rawValue, forKey: .mode)
        try c.encode(outcome.status, forKey: .outcome)
        switch outcome {
        case .completed: break
        case .aborted(let r): try c.encode(r.description, forKey: .reason)
        case .failed(let r): try c.encode(r, forKey: .reason)
        }
        try c.encode(elapsedSeconds, forKey: .elapsedSeconds)
        try c.encodeIfPresent(final?.downtimeMs, forKey: .downtimeMs)
        try c.encode(rounds, forKey: .rounds)
        try c.encodeIfPresent(bytesSent, forKey: .bytesSent)
        try c.encode(pausedForTimeout, forKey: .pausedForTimeout)
        try c.encode(location.place, forKey: .location)
        try c.encodeIfPresent(location.state, forKey: .locationState)
        try c.encodeIfPresent(final, forKey: .final)
    }
}
