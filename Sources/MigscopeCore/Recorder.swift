import Foundation

public struct RecorderSettings: Sendable, Equatable {
    /// Sampling and job-polling interval.
    public var interval: Duration
    /// Recording before the migration starts, to compare "during" with "before".
    public var baseline: Duration
    /// Recording after the guest resumes on the destination.
    public var tail: Duration
    /// How often buffered samples are committed to the sink (at most this much is lost on a crash).
    public var flushEvery: Duration
    /// Keep recording after the migration until the guest says its read is done (then `tail` more),
    /// for at most `maxTail`: the total time of the read is a figure of its own.
    public var untilWorkloadDone: Bool
    public var maxTail: Duration
    /// With `untilWorkloadDone`: the tail ends early, the run failed, when the guest's own reports
    /// say it read nothing for this long after the migration (a read hung on the destination would
    /// otherwise hold the run for `maxTail` and leave it without its read time). Nil: never.
    public var readStall: Duration?

    public init(interval: Duration = .milliseconds(100), baseline: Duration = .seconds(15), tail: Duration = .seconds(15),
                flushEvery: Duration = .seconds(1), untilWorkloadDone: Bool = false, maxTail: Duration = .seconds(3600), readStall: Duration? = nil) {
        self.readStall = readStall
        self.interval = interval
        self.baseline = baseline
        self.tail = tail
        self.flushEvery = flushEvery
        self.untilWorkloadDone = untilWorkloadDone
        self.maxTail = maxTail
    }
}

/// A finished recording.
public struct RecordedRun: Sendable {
    public var info: RunInfo
    public var trace: Trace
    public var analysis: RunAnalysis
    public var summary: RunSummary
    public var migration: MigrationSummary?
    /// Achieved sampling intervals: how well the recorder kept its clock.
    public var intervals: SamplingIntervals
    /// Why the run could not be finished in the database (disk full, database busy), if it could
    /// not: the migration's outcome and the domain's place are still known and must be told.
    public var storageError: String?
}

/// Achieved intervals between samples, seconds, of each sampling loop.
public struct SamplingIntervals: Sendable, Equatable {
    /// The hypervisors' counters (RPCs).
    public var hypervisor: [Double]
    /// Links and the guest's console (local reads).
    public var local: [Double]

}

/// Records one migration: guest I/O, links and the job, from a baseline before to a tail after,
/// on one monotonic clock, written to the sink at least every `flushEvery`.
public final class Recorder: @unchecked Sendable {
    public let settings: RecorderSettings
    private let sink: (any TraceSink)?
    private let console: (any GuestReportSource)?
    private let links: (any LinkCounterSource)?
    private let clock = ContinuousClock()
    private let lock = NSLock()
    private var t0: ContinuousClock.Instant
    private var trace = Trace()
    private var pending = TraceBatch()
    private var roundStarts: [(number: Int, t: Double)] = []
    private var finalProgress: JobProgress?
    private var runID: Int64 = 0
    private var sinkError: String?
    /// The guest's rate lines as they arrive, for the pacer.
    private var guestRates = GuestRateFeed()
    /// The caller's observer, told of each I/O sample as it is taken.
    private var observer: (any MigrationObserver)?

    /// Called once recording has begun (the batch starts the guest's read here, so the whole read
    /// is on the record).
    private let onStart: (@Sendable () -> Void)?
    /// Works the migration out while the baseline runs (a plan's `predict: true`): the guest's
    /// workload is going by then, so its dirty rate is the one the migration will meet. It gives
    /// the forecast, or why there is none.
    public typealias BaselineForecast = @Sendable () async -> Result<MigrationForecast, ForecastFailure>
    private let forecastDuringBaseline: BaselineForecast?
    /// Holds the migration after the baseline until its turn (a plan's drain); told when it ends.
    private let gate: (any MigrationGate)?
    private var baselineForecast: MigrationForecast?

    public init(settings: RecorderSettings = RecorderSettings(), sink: (any TraceSink)?, console: (any GuestReportSource)? = nil, links: (any LinkCounterSource)? = nil,
                onStart: (@Sendable () -> Void)? = nil, forecastDuringBaseline: BaselineForecast? = nil, gate: (any MigrationGate)? = nil) {
        self.onStart = onStart
        self.gate = gate
        self.forecastDuringBaseline = forecastDuringBaseline
        self.settings = settings
        self.sink = sink
        self.console = console
        self.links = links
        t0 = clock.now
    }

    private func t(_ i: ContinuousClock.Instant) -> Double { (i - t0).secondsDouble }

    /// Guest reports whose values could not be true (not finite, negative, beyond any link).
    private var refusedGuestLines = 0

    func add(_ e: EventRecord) { lock.withLock { trace.events.append(e); pending.events.append(e) } }
    func add(_ s: IOSample) {
        let watcher = lock.withLock { trace.samples.append(s); pending.samples.append(s); return observer }
        watcher?.sampled(s)
    }
    func add(_ l: LinkSample) { lock.withLock { trace.links.append(l); pending.links.append(l) } }
    func add(_ j: JobSample) { lock.withLock { trace.jobSamples.append(j); pending.jobSamples.append(j) } }

    /// Commits what is buffered. A failing sink is reported once, and recording goes on in memory.
    func flush() {
        let batch: TraceBatch = lock.withLock { let b = pending; pending = TraceBatch(); return b }
        guard let sink, !batch.isEmpty else { return }
        do { try sink.append(runID: runID, batch) } catch {
            lock.withLock { if sinkError == nil { sinkError = "\(error)" } }
        }
    }

    /// Records `session`'s migration. Cancelling the calling task aborts the migration (the guest
    /// stays on the source) and ends the recording early; what was measured is kept.
    public func record(_ session: any MigrationSession, info: RunInfo, runner: MigrationRunner? = nil, observer: (any MigrationObserver)? = nil) async throws -> RecordedRun {
        var info = info
        t0 = clock.now
        guestRates = GuestRateFeed()
        lock.withLock { self.observer = observer }
        defer { lock.withLock { self.observer = nil } }
        info.anchor = Date()
        if let sink { runID = try sink.begin(info) }
        info.id = sink == nil ? nil : runID
        add(EventRecord(t: 0, kind: .recordingStarted, detail: [
            "interval_ms=\(Int(settings.interval.secondsDouble * 1000))",
            links?.description ?? "no link counters", console.map { "guest console \($0.description)" } ?? "no guest console",
        ].joined(separator: "; ")))

        let hypervisorSampler = Task { await self.sampleHypervisors(session) }
        let localSampler = Task { await self.sampleLocal() }
        // On the run clock's grid too: a slow commit does not push the next one later.
        let flusher = Task { _ = await self.onGrid(every: self.settings.flushEvery) { _ in self.flush() } }
        let migration = await migrate(session, info: info, runner: runner, observer: observer)
        if let f = lock.withLock({ baselineForecast }) { info.forecast = f }
        hypervisorSampler.cancel()
        localSampler.cancel()
        // A hypervisor call cannot be cancelled: one that never returns (a daemon stuck on its
        // guest's monitor was seen) must not keep the run from being finished and stored.
        let hypervisorIntervals = await Self.value(of: hypervisorSampler, within: .seconds(10))
        if hypervisorIntervals == nil {
            add(EventRecord(t: t(clock.now), kind: .note, detail: "a hypervisor's block counters did not answer within 10 s of the end; its samples stop there"))
        }
        let intervals = SamplingIntervals(hypervisor: hypervisorIntervals ?? [], local: await localSampler.value)
        flusher.cancel()
        let dropped = lock.withLock { refusedGuestLines } + (console?.droppedLines ?? 0)
        if dropped > 0 { add(.guestLinesDropped(t: t(clock.now), count: dropped)) }
        add(EventRecord(t: t(clock.now), kind: .recordingEnded))
        flush()

        let finished = finishedTrace(session)
        switch migration?.outcome {
        case .completed?:
            info.status = .completed
            if let gone = finished.firstEvent(.guestGone), let done = finished.firstEvent(.migrationCompleted) {
                // The migration did its part; the run did not: the guest's measurements end early.
                info.status = .failed
                info.error = "the guest stopped running \(String(format: "%.0f", gone.t - done.t)) s after its migration completed (it runs \(gone.detail))"
            } else if let stalled = finished.firstEvent(.workloadStalled) {
                info.status = .failed
                info.error = "the guest's read stalled on the destination: \(stalled.detail); its read time is unknown"
            }
        case .failed(let m)?: info.status = .failed; info.error = m
        case .aborted(let why)?: info.status = .aborted; info.error = why.description
        case nil: info.status = .aborted; info.error = AbortReason.interruptedBeforeStart.description
        }
        info.outcome = migration?.succeeded == true ? .completed : info.status
        if let e = lock.withLock({ sinkError }) { info.notes.append("storage error during recording: \(e)") }
        let analysis = RunAnalysis(trace: finished)
        let summary = RunSummary(info: info, trace: finished, analysis: analysis)
        let storageError = await finishInSink(&info, rounds: finished.rounds, summary: summary)
        return RecordedRun(info: info, trace: finished, analysis: analysis, summary: summary, migration: migration,
                           intervals: intervals, storageError: storageError)
    }

    /// The baseline, the migration, and the tail (until the workload is done, if asked); nil when
    /// interrupted before the migration started.
    private func migrate(_ session: any MigrationSession, info: RunInfo, runner: MigrationRunner?, observer: (any MigrationObserver)?) async -> MigrationSummary? {
        if let onStart {
            // Give the samplers their first tick, so the start is seen from its beginning.
            try? await Task.sleep(for: settings.interval)
            onStart()
        }
        let forecasting = forecastDuringBaseline.map { f in Task { await f() } }
        try? await Task.sleep(for: settings.baseline)
        if let forecasting {
            // The baseline lasts as long as the prediction needs (a few seconds of dirty-rate windows).
            switch await forecasting.value {
            case .success(let f):
                lock.withLock { baselineForecast = f }
                add(EventRecord(t: t(clock.now), kind: .note, detail: "predicted during the baseline: " + (f.prediction.migrationSeconds.map { String(format: "%.1f s migration", $0) } ?? "pre-copy does not converge")))
            case .failure(let why):
                add(EventRecord(t: t(clock.now), kind: .note, detail: "no prediction: \(why.message)"))
            }
        }
        if let gate {
            add(EventRecord(t: t(clock.now), kind: .note, detail: "waiting for this migration's turn in the drain"))
            if await gate.enter() == false {
                add(EventRecord(t: t(clock.now), kind: .migrationAborted, detail: AbortReason.interruptedBeforeStart.description))
                return nil
            }
        }
        if Task.isCancelled {
            await gate?.leave()
            add(EventRecord(t: t(clock.now), kind: .migrationAborted, detail: AbortReason.interruptedBeforeStart.description))
            return nil
        }
        add(EventRecord(t: t(clock.now), kind: .migrationRequested, detail: "\(info.request.mode.rawValue) \(info.request.source) -> \(info.request.destination)"))
        var r = runner ?? MigrationRunner()
        r.pollInterval = settings.interval
        if console != nil { r.guestRates = guestRates }
        let migration = await r.run(session, observer: RecordingObserver(recorder: self, outer: observer))
        // The next migration of a drain starts when this one ends, not when its tail does.
        await gate?.leave()
        guard migration.succeeded else {
            if !Task.isCancelled { try? await Task.sleep(for: settings.tail) }
            return migration
        }
        // A guest that died after arriving never says its read is done: the tail ends with it.
        if settings.untilWorkloadDone {
            let arrived = t(clock.now)
            let done = { self.lock.withLock { self.trace.firstEvent(.workloadDone) } != nil || self.readStalled(since: arrived) }
            guard await waitWhileTheGuestRuns(session, until: clock.now + settings.maxTail, or: done) else { return migration }
            if lock.withLock({ trace.firstEvent(.workloadStalled) }) != nil { return migration }
        }
        _ = await waitWhileTheGuestRuns(session, until: clock.now + settings.tail, or: { false })
        return migration
    }

    /// Whether the guest has reported reading nothing, or nothing at all, for `settings.readStall`
    /// since `arrived` (the migration's end) or its last read after it; records a `workloadStalled`
    /// event once. A guest that never reported is not judged; one that is gone from both hosts is
    /// the guest-gone check's business, which asks every 2 s, well within the limit.
    private func readStalled(since arrived: Double) -> Bool {
        guard let limit = settings.readStall?.secondsDouble else { return false }
        let now = t(clock.now)
        return lock.withLock {
            if trace.firstEvent(.workloadStalled) != nil { return true }
            guard let latest = trace.samples.last(where: { $0.series == .guest }) else { return false }
            let silent = now - max(latest.t, arrived)
            let detail: String
            if silent >= limit {
                // Seen in CI: a guest still running on the destination whose console fell silent
                // (its kernel hung) would have held the tail for its whole limit.
                detail = String(format: "the guest reported nothing for %.0f s after its migration, and still runs", silent)
            } else {
                guard latest.t > arrived else { return false }
                let lastRead = trace.samples.last { $0.series == .guest && $0.t > arrived && $0.readBytesPerSecond > 0 }?.t ?? arrived
                guard now - lastRead >= limit else { return false }
                detail = String(format: "the guest read nothing for %.0f s after its migration", now - lastRead)
            }
            let e = EventRecord(t: now, kind: .workloadStalled, detail: detail)
            trace.events.append(e)
            pending.events.append(e)
            return true
        }
    }

    /// Waits until `deadline` or `done()`, asking every 2 s where the guest runs; false, with a
    /// `guestGone` event, once it runs on neither host.
    private func waitWhileTheGuestRuns(_ session: any MigrationSession, until deadline: ContinuousClock.Instant, or done: () -> Bool) async -> Bool {
        var checked = clock.now
        while !Task.isCancelled, clock.now < deadline, !done() {
            try? await Task.sleep(for: min(.milliseconds(250), deadline - clock.now))
            if clock.now - checked >= .seconds(2) {
                checked = clock.now
                if noteIfTheGuestIsGone(session) { return false }
            }
        }
        return Task.isCancelled || !noteIfTheGuestIsGone(session)
    }

    /// The task's value, or nil when it has none within `limit` (the task is left to finish).
    static func value<T: Sendable>(of task: Task<T, Never>, within limit: Duration) async -> T? {
        await withCheckedContinuation { (c: CheckedContinuation<T?, Never>) in
            let once = ResumeOnce(c)
            Task { once.resume(await task.value) }
            Task { try? await Task.sleep(for: limit); once.resume(nil) }
        }
    }

    /// Records a `guestGone` event when the guest runs on neither host; true if it did.
    private func noteIfTheGuestIsGone(_ session: any MigrationSession) -> Bool {
        let location = session.locate()
        guard location.place == .nowhere else { return false }
        if lock.withLock({ trace.firstEvent(.guestGone) }) == nil {
            add(EventRecord(t: t(clock.now), kind: .guestGone, detail: "\(location)"))
        }
        return true
    }

    /// The trace with its rounds: the hypervisor's own where it reports them, else built from the
    /// round events and job polls.
    private func finishedTrace(_ session: any MigrationSession) -> Trace {
        let (snapshot, starts, final) = lock.withLock { (trace, roundStarts, finalProgress) }
        var finished = snapshot
        if let exact = session.hypervisorRounds(since: t0), !exact.isEmpty {
            finished.rounds = exact
            return finished
        }
        let endEvent = finished.events.first { [.migrationCompleted, .migrationFailed, .migrationAborted].contains($0.kind) }
        finished.rounds = RoundBuilder.rounds(.init(
            starts: starts, polls: finished.jobSamples, migrationStartT: finished.firstEvent(.migrationStarted)?.t ?? 0,
            pausedAt: finished.events.first { $0.kind == .guestPaused && $0.facts.host == .source }?.t,
            endT: endEvent?.t ?? t(clock.now), final: final, completed: endEvent?.kind == .migrationCompleted))
        return finished
    }

    /// Writes the run's end. A full disk or a busy database must not lose the outcome: retry, then
    /// mark the run failed with the reason if that much can still be written; returns why it
    /// could not be finished, if it could not.
    private func finishInSink(_ info: inout RunInfo, rounds: [RoundRecord], summary: RunSummary) async -> String? {
        guard let sink else { return nil }
        var storageError: String? = nil
        for attempt in 1...3 {
            do {
                try sink.finish(runID: runID, info: info, rounds: rounds, summary: summary)
                return nil
            } catch {
                storageError = "\(error)"
                if attempt < 3 { try? await Task.sleep(for: .seconds(1)) }
            }
        }
        if let why = storageError {
            var failed = info
            failed.status = .failed
            failed.error = "the recording could not be finished: \(why)" + (info.error.map { "; \($0)" } ?? "")
            if (try? sink.finish(runID: runID, info: failed, rounds: [], summary: summary)) != nil { info = failed }
        }
        return storageError
    }

    /// Runs `tick` on a fixed grid of the run clock, so intervals do not drift; a tick that overruns
    /// skips the grid points it missed rather than bunching up. Returns the achieved intervals.
    /// Every `interval`, the sampling interval unless given.
    private func onGrid(every interval: Duration? = nil, _ tick: (Double) -> Void) async -> [Double] {
        let interval = interval ?? settings.interval
        var achieved: [Double] = []
        var previous: Double? = nil
        var k: Int64 = 1
        while !Task.isCancelled {
            let deadline = t0 + interval * k
            k += 1
            if clock.now < deadline { try? await Task.sleep(until: deadline, clock: clock) }
            if Task.isCancelled { break }
            while t0 + interval * k <= clock.now { k += 1 }
            let now = t(clock.now)
            if let p = previous { achieved.append(now - p) }
            previous = now
            tick(now)
        }
        return achieved
    }

    /// The hypervisors' block counters of the guest, on each host (an RPC each, so a loop of its own:
    /// a slow answer must not delay the console and link samples).
    private func sampleHypervisors(_ session: any MigrationSession) async -> [Double] {
        var last: [HostRole: (t: Double, c: GuestIOCounters)] = [:]
        return await onGrid { _ in
            for role in [HostRole.source, .destination] {
                guard let c = try? session.guestIO(on: role) else { last[role] = nil; continue }
                let now = t(clock.now)
                if let prev = last[role], now > prev.t, c.readBytes >= prev.c.readBytes, c.writeBytes >= prev.c.writeBytes {
                    let dt = now - prev.t
                    add(IOSample(
                        t: now, series: .host, host: role.rawValue,
                        readBytesPerSecond: Double(c.readBytes - prev.c.readBytes) / dt,
                        writeBytesPerSecond: Double(c.writeBytes - prev.c.writeBytes) / dt,
                        readOpsPerSecond: Double(c.readOps &- prev.c.readOps) / dt,
                        writeOpsPerSecond: Double(c.writeOps &- prev.c.writeOps) / dt))
                }
                last[role] = (now, c)
            }
        }
    }

    /// Link counters and the guest's console: local file reads.
    ///
    /// The guest's clock stops while it is paused, so its own "seconds" for the read leave out the
    /// migration's downtime. Before the migration, host time = guest uptime + offset (lines are
    /// only ever late, so the smallest difference seen is the offset); the read's start is placed on
    /// the host clock with it, and its end is when the done line arrives.
    private func sampleLocal() async -> [Double] {
        var lastLinks: [String: (t: Double, c: LinkCounter)] = [:]
        var guestOffset: Double? = nil
        return await onGrid { now in
            if let links {
                for c in links.read() {
                    if let prev = lastLinks[c.link], now > prev.t, c.sentBytes >= prev.c.sentBytes, c.receivedBytes >= prev.c.receivedBytes {
                        let dt = now - prev.t
                        add(LinkSample(t: now, link: c.link, direction: .sent, bytesPerSecond: Double(c.sentBytes - prev.c.sentBytes) / dt))
                        add(LinkSample(t: now, link: c.link, direction: .received, bytesPerSecond: Double(c.receivedBytes - prev.c.receivedBytes) / dt))
                    }
                    lastLinks[c.link] = (now, c)
                }
            }
            if let console {
                for line in console.newLines() {
                    let report: GuestConsoleLine
                    switch GuestConsoleLine.read(line) {
                    case .report(let r): report = r
                    case .refused: lock.withLock { refusedGuestLines += 1 }; continue
                    case .other: continue
                    }
                    switch report {
                    case .rate(_, let up, let r, let w, _):
                        add(IOSample(t: now, series: .guest, host: IOSample.guestOrigin, readBytesPerSecond: r, writeBytesPerSecond: w))
                        guestRates.post(readBytesPerSecond: r, at: clock.now)
                        if lock.withLock({ trace.firstEvent(.migrationStarted) == nil }) { guestOffset = min(guestOffset ?? .infinity, now - up) }
                    case .done(let total, let seconds, let up):
                        let hostSeconds = up.flatMap { up in guestOffset.map { now - (up - seconds + $0) } }
                        add(.workloadDone(t: now, readBytes: UInt64(total), guestSeconds: seconds, hostSeconds: hostSeconds))
                    case .start(let mode, _, _, _):
                        add(EventRecord(t: now, kind: .note, detail: "guest workload started (\(mode))"))
                    }
                }
            }
        }
    }

    // Called by the observer.
    func noteRound(_ n: Int, at: Double) { lock.withLock { roundStarts.append((n, at)) } }
    func noteFinal(_ p: JobProgress) { lock.withLock { finalProgress = p } }
    func time(_ i: ContinuousClock.Instant) -> Double { t(i) }
}

/// Turns the runner's callbacks into trace records, and passes them on to the caller's observer.
private struct RecordingObserver: MigrationObserver {
    let recorder: Recorder
    let outer: (any MigrationObserver)?

    func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant) {
        recorder.add(EventRecord(t: recorder.time(at), kind: .migrationStarted, detail: request.mode.rawValue))
        outer?.migrationStarted(request, at: at)
    }

    func progressed(_ progress: JobProgress, at: ContinuousClock.Instant) {
        recorder.add(JobSample(t: recorder.time(at), progress: progress))
        outer?.progressed(progress, at: at)
    }

    func signalled(_ signal: MigrationSignal) {
        let t = recorder.time(signal.at)
        switch signal.kind {
        case .roundStarted(let n):
            recorder.noteRound(Int(n), at: t)
            recorder.add(.roundStarted(t: t, round: Int(clamping: n)))
        case .guestPaused(let h): recorder.add(.guestPaused(t: t, on: h))
        case .guestResumed(let h): recorder.add(.guestResumed(t: t, on: h))
        case .startedOnDestination: recorder.add(EventRecord(t: t, kind: .startedOnDestination))
        case .stoppedOnSource: recorder.add(EventRecord(t: t, kind: .stoppedOnSource))
        case .jobCompleted(let p): recorder.noteFinal(p)
        case .other(let h, let text): recorder.add(EventRecord(t: t, kind: .note, detail: "\(h.rawValue): \(text)"))
        }
        outer?.signalled(signal)
    }

    func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant) {
        let t = recorder.time(at)
        switch action {
        case .pausedForTimeout: recorder.add(EventRecord(t: t, kind: .pausedForTimeout, detail: "\(action)"))
        case .pausedAfterRounds: recorder.add(EventRecord(t: t, kind: .pausedAfterRounds, detail: "\(action)"))
        case .abortedAfter, .interrupted: recorder.add(EventRecord(t: t, kind: .abortRequested, detail: "\(action)"))
        case .stoppedByPolicy(_, let rounds, let bytes, _):
            recorder.add(EventRecord(t: t, kind: .stoppedByPolicy, detail: "\(action)", facts: EventFacts(bytesSent: bytes, rounds: rounds)))
        case .switchedToPostcopy: recorder.add(EventRecord(t: t, kind: .postcopyStarted, detail: "\(action)"))
        case .maxDowntimeSet(let ms, _, _):
            recorder.add(EventRecord(t: t, kind: .maxDowntimeSet, detail: "\(action)", facts: EventFacts(downtimeMs: Double(ms))))
        case .speedCapSet(let mib, _):
            // A lifted cap keeps no rate: the event's kind and words say so.
            recorder.add(EventRecord(t: t, kind: .speedCapSet, detail: "\(action)", facts: EventFacts(rateBytesPerSecond: mib.map { Double($0) * 1_048_576 })))
        case .stalled: recorder.add(EventRecord(t: t, kind: .stallDetected, detail: "\(action)"))
        case .failed, .tuningSkipped: recorder.add(EventRecord(t: t, kind: .note, detail: "\(action)"))
        }
        outer?.intervened(action, at: at)
    }

    func migrationFinished(_ s: MigrationSummary) {
        let t = recorder.time(s.endedAt)
        if let f = s.final { recorder.noteFinal(f) }
        switch s.outcome {
        case .completed:
            recorder.add(.migrationCompleted(t: t, location: s.location.place, downtimeMs: s.final?.downtimeMs.map { Double($0) },
                                             bytesSent: s.bytesSent, rounds: s.rounds))
        case .failed(let m): recorder.add(EventRecord(t: t, kind: .migrationFailed, detail: m))
        case .aborted(let why): recorder.add(EventRecord(t: t, kind: .migrationAborted, detail: why.description))
        }
        outer?.migrationFinished(s)
    }
}

/// A continuation resumed by whichever of several tasks comes first; the others are ignored.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?

    init(_ continuation: CheckedContinuation<T, Never>) { self.continuation = continuation }

    func resume(_ value: T) {
        let c: CheckedContinuation<T, Never>? = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        c?.resume(returning: value)
    }
}
