import Foundation

/// Runs one migration session: starts it, polls its progress, applies the request's timeout
/// policies, turns cancellation into an abort, and says where the domain is at the end.
public struct MigrationRunner: Sendable {
    /// How often job progress is polled.
    public var pollInterval: Duration
    /// How long to wait after the job returns for its completion event to arrive.
    public var completionGrace: Duration
    /// The guest's own rate lines, when a recorder reads them: the pacer steers by what the run's
    /// "I/O during / before" is measured on. Without it, the pacer reads the host's block counters.
    public var guestRates: GuestRateFeed?

    public init(pollInterval: Duration = .milliseconds(100), completionGrace: Duration = .milliseconds(500)) {
        self.pollInterval = pollInterval
        self.completionGrace = completionGrace
    }

    public func run(_ session: any MigrationSession, observer: (any MigrationObserver)? = nil) async -> MigrationSummary {
        let clock = ContinuousClock()
        let state = RunState()
        // The pacer needs the guest's rate before the migration, and the stream's first cap.
        let pacer = await preparePacer(session, state: state, observer: observer, clock: clock)
        let start = clock.now
        observer?.migrationStarted(session.request, at: start)
        let runError: Error? = await withTaskCancellationHandler {
            await runWatched(session, state: state, clock: clock, observer: observer, pacer: pacer)
        } onCancel: {
            state.abortReason = .interrupted
            try? session.abort()
        }
        let endedAt = state.endedAt ?? clock.now
        if pacer != nil, runError != nil {
            // The guest stays on the source: leave it no cap a later migration would inherit.
            try? session.releaseMaxSpeed()
        }
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
    private func runWatched(_ session: any MigrationSession, state: RunState, clock: ContinuousClock, observer: (any MigrationObserver)?,
                            pacer: IOFloorPacer?) async -> Error? {
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
            let rules = PreCopyRules(request: request)
            @Sendable func apply(_ actions: [PreCopyRules.Action]) {
                for a in actions {
                    switch a {
                    case .pause(let why): forcePause(why)
                    case .startPostcopy(let trigger): startPostcopy(session, trigger: trigger, state: state, clock: clock, observer: observer)
                    }
                }
            }
            if let signals {
                group.addTask {
                    for await s in signals {
                        state.note(s)
                        observer?.signalled(s)
                        if case .roundStarted(let r) = s.kind { apply(rules.onRound(Int(clamping: r), progress: state.latest)) }
                    }
                    return .watcher
                }
            }
            let started = clock.now
            group.addTask {
                var stalls = request.stallLimits.map(StallWatch.init(limits:))
                while !Task.isCancelled {
                    try? await Task.sleep(for: pollInterval)
                    if Task.isCancelled { break }
                    if var p = try? session.progress() {
                        p.speedCapBytesPerSecond = state.capMiBps.map { $0 * 1_048_576 }
                        state.latest = p
                        observer?.progressed(p, at: clock.now)
                        apply(rules.onProgress(p))
                        if let stall = stalls?.observe(p, at: (clock.now - started).secondsDouble), let limits = request.stallLimits {
                            stalled(stall, limits.action, session: session, state: state, clock: clock, observer: observer, pause: forcePause)
                        }
                    }
                }
                return .watcher
            }
            addTimeLimits(session, to: &group, state: state, clock: clock, observer: observer, pause: forcePause)
            addTuning(session, to: &group, state: state, clock: clock, observer: observer, pacer: pacer)
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

    /// A stall: abort (the guest stays on the source) or pause the guest for the stop-and-copy.
    private func stalled(_ stall: StallWatch.Stall, _ action: StallLimits.Action, session: any MigrationSession, state: RunState, clock: ContinuousClock,
                         observer: (any MigrationObserver)?, pause forcePause: @Sendable (MigrationIntervention) -> Void) {
        switch action {
        case .pause:
            forcePause(.stalled(stall, .pause))
        case .abort:
            guard state.claimAbort() else { return }
            state.abortReason = .stalled("\(stall)")
            observer?.intervened(.stalled(stall, .abort), at: clock.now)
            do { try session.abort() } catch { observer?.intervened(.failed("\(error)"), at: clock.now) }
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

enum TaskEnd: Sendable {
    case migration(Error?)
    case watcher
}

/// What the runner's tasks learn, shared between them.
final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var _latest: JobProgress?
    private var _capMiBps: UInt64?
    private var _postcopyStarted = false
    private var _maxDowntimeMs: UInt64?

    /// The max downtime migscope set last (downtime steps).
    var maxDowntimeMs: UInt64? {
        get { lock.withLock { _maxDowntimeMs } }
        set { lock.withLock { _maxDowntimeMs = newValue } }
    }

    var postcopyStarted: Bool { lock.withLock { _postcopyStarted } }

    /// The last poll of the job.
    var latest: JobProgress? {
        get { lock.withLock { _latest } }
        set { lock.withLock { _latest = newValue } }
    }

    /// The cap migscope set on the stream (nil: none).
    var capMiBps: UInt64? {
        get { lock.withLock { _capMiBps } }
        set { lock.withLock { _capMiBps = newValue } }
    }

    /// True for the one caller that may switch to post-copy, while the migration still runs.
    func claimPostcopy() -> Bool {
        lock.withLock {
            guard _endedAt == nil, !_postcopyStarted else { return false }
            _postcopyStarted = true
            return true
        }
    }
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

