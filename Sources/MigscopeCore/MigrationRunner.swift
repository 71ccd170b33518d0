import Foundation

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

