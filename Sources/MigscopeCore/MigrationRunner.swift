import Foundation

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

/// Runs one migration session: starts it, polls its progress, applies the request's timeout
/// policies, turns cancellation into an abort, and says where the domain is at the end.
public struct MigrationRunner: Sendable {
    /// How often job progress is polled.
    public var pollInterval: Duration
    /// How long to wait after the job returns for its completion event to arrive.
    public var completionGrace: Duration

    public init(pollInterval: Duration = .milliseconds(100), completionGrace: Duration = .milliseconds(500)) {
        self.pollInterval = pollInterval
        self.completionGrace = completionGrace
    }

    public func run(_ session: any MigrationSession, observer: (any MigrationObserver)? = nil) async -> MigrationSummary {
        let clock = ContinuousClock()
        let state = RunState()
        let start = clock.now
        observer?.migrationStarted(session.request, at: start)
        let runError: Error? = await withTaskCancellationHandler {
            await runWatched(session, state: state, clock: clock, observer: observer)
        } onCancel: {
            state.abortReason = .interrupted
            try? session.abort()
        }
        let endedAt = state.endedAt ?? clock.now
        if state.abortReason == .interrupted { observer?.intervened(.interrupted, at: clock.now) }
        let summary = MigrationSummary(
            request: session.request, outcome: Self.outcome(of: runError, abortReason: state.abortReason),
            elapsedSeconds: (endedAt - start).secondsDouble, endedAt: endedAt,
            final: state.completed ?? ((try? session.completedProgress()) ?? nil),
            roundsSignalled: state.rounds, pausedForTimeout: state.pausedForTimeout, location: session.locate())
        observer?.migrationFinished(summary)
        return summary
    }

    /// How the migration ended: an abort migscope asked for says why; else the backend's error.
    static func outcome(of runError: Error?, abortReason: AbortReason?) -> MigrationSummary.Outcome {
        guard let runError else { return .completed }
        if let abortReason { return .aborted(abortReason) }
        if let m = runError as? MigrationError, m.kind == .aborted { return .aborted(.byHypervisor(m.message)) }
        return .failed("\(runError)")
    }

    /// Runs the migration with its watchers (signals, progress polls, the request's limits); the
    /// first task to finish is the migration itself, the others only watch. Returns its error.
    private func runWatched(_ session: any MigrationSession, state: RunState, clock: ContinuousClock, observer: (any MigrationObserver)?) async -> Error? {
        let request = session.request
        let signals: AsyncStream<MigrationSignal>?
        do { signals = try session.signals() } catch { signals = nil }  // progress polling still works
        return await withTaskGroup(of: TaskEnd.self) { group in
            group.addTask {
                do { try await session.run(); return .migration(nil) } catch { return .migration(error) }
            }
            /// Pauses the guest once, for whichever limit is reached first, and never after the
            /// migration has ended (the guest may already run on the destination).
            @Sendable func forcePause(_ why: MigrationIntervention) {
                guard state.claimPause() else { return }
                do {
                    try session.pauseGuest()
                    observer?.intervened(why, at: clock.now)
                } catch {
                    // Not paused: the summary must not say so, and a later limit may try again.
                    state.pauseFailed()
                    observer?.intervened(.failed("\(error)"), at: clock.now)
                }
            }
            let roundLimit = request.mode == .live ? request.pauseAfterRounds : nil
            if let signals {
                group.addTask {
                    for await s in signals {
                        state.note(s)
                        observer?.signalled(s)
                        if let n = roundLimit, case .roundStarted(let r) = s.kind, r > UInt64(n) { forcePause(.pausedAfterRounds(rounds: n)) }
                    }
                    return .watcher
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: pollInterval)
                    if Task.isCancelled { break }
                    if let p = try? session.progress() {
                        observer?.progressed(p, at: clock.now)
                        if let n = roundLimit, let i = p.iteration, i > UInt64(n) { forcePause(.pausedAfterRounds(rounds: n)) }
                    }
                }
                return .watcher
            }
            addTimeLimits(session, to: &group, state: state, clock: clock, observer: observer, pause: forcePause)
            var result: Error? = nil
            while let end = await group.next() {
                if case .migration(let e) = end { result = e; break }
            }
            state.endedAt = clock.now  // from here on no watcher pauses or aborts the guest
            // Give the completion event a moment, then stop watching.
            try? await Task.sleep(for: completionGrace)
            group.cancelAll()
            return result
        }
    }

    /// `--timeout` (pause the guest) and `--abort-after` (abort), as watchers of their own.
    private func addTimeLimits(_ session: any MigrationSession, to group: inout TaskGroup<TaskEnd>, state: RunState, clock: ContinuousClock,
                               observer: (any MigrationObserver)?, pause forcePause: @escaping @Sendable (MigrationIntervention) -> Void) {
        let request = session.request
        if let t = request.pauseAfterSeconds {
            group.addTask {
                try? await Task.sleep(for: .seconds(t))
                guard !Task.isCancelled else { return .watcher }
                forcePause(.pausedForTimeout(seconds: t))
                return .watcher
            }
        }
        if let t = request.abortAfterSeconds {
            group.addTask {
                try? await Task.sleep(for: .seconds(t))
                guard !Task.isCancelled, state.claimAbort() else { return .watcher }
                state.abortReason = .timeLimit(seconds: t)
                observer?.intervened(.abortedAfter(seconds: t), at: clock.now)
                do { try session.abort() } catch { observer?.intervened(.failed("\(error)"), at: clock.now) }
                return .watcher
            }
        }
    }
}

private enum TaskEnd: Sendable {
    case migration(Error?)
    case watcher
}

/// What the runner's tasks learn, shared between them.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var _rounds = 0
    private var _completed: JobProgress?
    private var _pausedForTimeout = false
    private var _abortReason: AbortReason?
    private var _endedAt: ContinuousClock.Instant?

    var endedAt: ContinuousClock.Instant? {
        get { lock.withLock { _endedAt } }
        set { lock.withLock { _endedAt = newValue } }
    }

    var rounds: Int { lock.withLock { _rounds } }
    var completed: JobProgress? { lock.withLock { _completed } }
    var pausedForTimeout: Bool { lock.withLock { _pausedForTimeout } }

    /// True for the one caller that may pause the guest: the first, while the migration still runs.
    func claimPause() -> Bool {
        lock.withLock {
            guard _endedAt == nil, !_pausedForTimeout else { return false }
            _pausedForTimeout = true
            return true
        }
    }

    func pauseFailed() { lock.withLock { _pausedForTimeout = false } }

    /// True while the migration still runs (an abort after its end would act on a finished job).
    func claimAbort() -> Bool { lock.withLock { _endedAt == nil } }
    var abortReason: AbortReason? {
        get { lock.withLock { _abortReason } }
        set { lock.withLock { if _abortReason == nil { _abortReason = newValue } } }
    }

    func note(_ s: MigrationSignal) {
        lock.withLock {
            switch s.kind {
            case .roundStarted: _rounds += 1
            case .jobCompleted(let p): _completed = p
            default: break
            }
        }
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var secondsDouble: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
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
