import Foundation

/// The request's rules that act when a pre-copy round begins or the job is polled: the round limit,
/// the stop policy and a post-copy switch after a round. Pure: tested on scripted progress.
struct PreCopyRules: Sendable {
    enum Action: Sendable, Equatable {
        case pause(MigrationIntervention)
        case startPostcopy(PostcopyTrigger)
    }

    var roundLimit: Int?
    var stop: StopPolicy?
    var postcopyAfterRound: Int?

    init(request: MigrationRequest) {
        let live = request.mode == .live
        roundLimit = live ? request.pauseAfterRounds : nil
        stop = live ? request.stopPolicy : nil
        if live, case .afterRound(let n) = request.postcopy { postcopyAfterRound = n }
    }

    /// Round `r` begins (the hypervisor's count, from 1).
    func onRound(_ r: Int, progress: JobProgress?) -> [Action] {
        var a: [Action] = []
        if let n = roundLimit, r > n { a.append(.pause(.pausedAfterRounds(rounds: n))) }
        if let stop, let n = stop.rounds, r > n {
            a.append(.pause(.stoppedByPolicy(stop, rounds: n, bytesSent: progress.flatMap(Self.sent), because: "round \(r) would begin")))
        }
        if let n = postcopyAfterRound, r > n { a.append(.startPostcopy(.afterRound(n))) }
        return a
    }

    func onProgress(_ p: JobProgress) -> [Action] {
        var a = p.iteration.map { onRound(Int(clamping: $0), progress: p) } ?? []
        if let stop, let multiple = stop.sentMultiple, let sent = Self.sent(p), let total = p.memoryTotalBytes, total > 0,
           Double(sent) >= multiple * Double(total) {
            a.append(.pause(.stoppedByPolicy(stop, rounds: Int(clamping: p.iteration ?? 0), bytesSent: sent,
                                             because: "\(NumberWords.plain(multiple))x the guest's memory sent")))
        }
        return a
    }

    /// What the stream has sent so far.
    static func sent(_ p: JobProgress) -> UInt64? { p.dataProcessedBytes ?? p.memoryProcessedBytes }
}

extension MigrationRunner {
    /// How long the pacer watches the guest before the migration, to know its rate without one.
    static let pacerBaselineSeconds = 3.0
    /// The guest's own rate lines enough to know its rate before the migration without that wait.
    static let pacerBaselineLines = 3
    /// How often the pacer looks and decides.
    static let pacerInterval: Duration = .seconds(1)
    /// QEMU's max downtime when nobody sets one.
    static let defaultMaxDowntimeMs: UInt64 = 300

    /// Measures the guest's read rate before the migration and sets the stream's first cap, when the
    /// request asks for an I/O floor; nil (and a note saying why) when the pacer cannot act.
    func preparePacer(_ session: any MigrationSession, state: RunState, observer: (any MigrationObserver)?, clock: ContinuousClock) async -> IOFloorPacer? {
        let request = session.request
        guard let floor = request.ioFloorPercent, request.mode == .live else { return nil }
        let skip: (String) -> IOFloorPacer? = { why in
            observer?.intervened(.tuningSkipped("--io-floor: \(why); the stream runs uncapped"), at: clock.now)
            return nil
        }
        let rate: Double
        if let lines = guestRates?.mean(), lines.lines >= Self.pacerBaselineLines {
            // The guest's own lines since the recording began: the run's "before", as its summary measures it.
            rate = lines.readBytesPerSecond
        } else {
            guard let measured = await hostCounterRate(session, clock: clock) else {
                return skip("the guest's disk counters could not be read on the source (in \(Int(Self.pacerBaselineSeconds)) s)")
            }
            rate = measured
        }
        guard rate >= 65_536 else { return skip("the guest read \(Format.rate(rate)) before the migration, nothing to keep up") }
        var settings = IOFloorPacer.Settings(floorPercent: floor)
        // Judged on the host's counters (sampled finely), the stop costs its pause, not a report's interval.
        if guestRates == nil { settings.reportIntervalSeconds = 0 }
        var pacer = IOFloorPacer(settings: settings, baselineBytesPerSecond: rate)
        do { try apply(pacer.initialCap(), to: session, state: state, clock: clock, observer: observer) } catch {
            observer?.intervened(.failed("\(error)"), at: clock.now)
        }
        return pacer
    }

    /// The guest's read rate over `pacerBaselineSeconds` from the source's block counters, or nil.
    private func hostCounterRate(_ session: any MigrationSession, clock: ContinuousClock) async -> Double? {
        // Counters read without waiting may be missing now and then (another caller holds the
        // domain): look every quarter second and measure between the first and last answers.
        var readings: [(t: ContinuousClock.Instant, readBytes: UInt64)] = []
        let end = clock.now + .seconds(Self.pacerBaselineSeconds)
        while true {
            if let c = try? session.guestIO(on: .source) { readings.append((clock.now, c.readBytes)) }
            guard clock.now < end else { break }
            try? await Task.sleep(for: .milliseconds(250))
        }
        guard let a = readings.first, let b = readings.last, (b.t - a.t).secondsDouble >= Self.pacerBaselineSeconds / 2 else { return nil }
        return Double(b.readBytes &- a.readBytes) / (b.t - a.t).secondsDouble
    }

    /// Adds the watchers of the tuning options that act on a clock: post-copy after some seconds,
    /// downtime steps, and the pacer.
    func addTuning(_ session: any MigrationSession, to group: inout TaskGroup<TaskEnd>, state: RunState, clock: ContinuousClock,
                   observer: (any MigrationObserver)?, pacer: IOFloorPacer?) {
        let request = session.request
        guard request.mode == .live else { return }
        if case .afterSeconds(let s) = request.postcopy {
            group.addTask {
                try? await Task.sleep(for: .seconds(s))
                guard !Task.isCancelled else { return .watcher }
                startPostcopy(session, trigger: .afterSeconds(s), state: state, clock: clock, observer: observer)
                return .watcher
            }
        }
        if let steps = request.downtimeSteps {
            group.addTask {
                for i in 1...steps.steps {
                    guard !Task.isCancelled, state.endedAt == nil else { break }
                    let ms = steps.downtimeMs(step: i)
                    do {
                        try session.setMaxDowntime(milliseconds: ms)
                        state.maxDowntimeMs = ms
                        observer?.intervened(.maxDowntimeSet(milliseconds: ms, step: i, of: steps.steps), at: clock.now)
                    } catch {
                        observer?.intervened(.failed("\(error)"), at: clock.now)
                    }
                    if i < steps.steps { try? await Task.sleep(for: .seconds(steps.delaySeconds)) }
                }
                return .watcher
            }
        }
        if let pacer {
            group.addTask {
                await pace(session, pacer: pacer, state: state, clock: clock, observer: observer)
                return .watcher
            }
        }
    }

    /// Every interval: the guest's rate (its own lines where a recorder reads them, else the
    /// source's disk counters), the stream's from the job, then the pacer's decision applied.
    private func pace(_ session: any MigrationSession, pacer start: IOFloorPacer, state: RunState, clock: ContinuousClock,
                      observer: (any MigrationObserver)?) async {
        var pacer = start
        // The pacer's watch starts with the migration: its clock for how long the migration will take.
        let migrationStart = clock.now
        // The last reading that answered: a no-wait read may not, and then the next rate spans the
        // time to the next answer. Until the first answer, look every quarter second.
        var last: (t: ContinuousClock.Instant, io: GuestIOCounters?, sent: UInt64?)? = nil
        // A guest's line tells of the second before it arrived: those of the first second after the
        // start still tell of the link without the stream, and would let the stream loose.
        var linesAfter = clock.now + Self.pacerInterval
        let firstLinesAfter = linesAfter
        var accountedFirstSecond = false
        if guestRates != nil { last = (clock.now, nil, state.latest.flatMap(PreCopyRules.sent)) }
        while !Task.isCancelled, !pacer.released {
            let wait: Duration = last == nil ? .milliseconds(250) : Self.pacerInterval
            try? await Task.sleep(for: wait)
            guard !Task.isCancelled, state.endedAt == nil, !state.postcopyStarted else { return }
            let now = clock.now
            let guestRate: Double
            let io: GuestIOCounters?
            if let guestRates {
                if !accountedFirstSecond, now >= firstLinesAfter {
                    // The lines of the first second, kept from the decisions, still count in the mean.
                    accountedFirstSecond = true
                    for line in guestRates.lines(after: migrationStart, through: firstLinesAfter) {
                        pacer.account(guestReadBytesPerSecond: line.readBytesPerSecond, seconds: (line.at - migrationStart).secondsDouble)
                    }
                }
                // No line since the last decision (the guest's report is late): decide at the next.
                guard let lines = guestRates.mean(after: linesAfter) else { continue }
                linesAfter = now
                guestRate = lines.readBytesPerSecond
                io = nil
            } else {
                guard let counters = try? session.guestIO(on: .source) else { continue }
                io = counters
                guard let previous = last, let a = previous.io else {
                    last = (now, counters, state.latest.flatMap(PreCopyRules.sent))
                    continue
                }
                guestRate = Double(counters.readBytes &- a.readBytes) / max(0.001, (now - previous.t).secondsDouble)
            }
            let sent = state.latest.flatMap(PreCopyRules.sent)
            let dt = max(0.001, (now - (last?.t ?? now)).secondsDouble)
            let stream = zip2(last?.sent, sent).map { Double($1 &- $0) / dt }
            last = (now, io, sent)
            let latest = state.latest
            let o = IOFloorPacer.Observation(
                guestReadBytesPerSecond: guestRate, streamBytesPerSecond: stream,
                dirtyBytesPerSecond: latest?.dirtyRateBytesPerSecond.map { Double($0) },
                remainingBytes: latest?.dataRemainingBytes ?? latest?.memoryRemainingBytes,
                maxDowntimeMs: state.maxDowntimeMs ?? session.request.maxDowntimeMs ?? Self.defaultMaxDowntimeMs,
                elapsedSeconds: (now - migrationStart).secondsDouble)
            do {
                try apply(pacer.decide(o), to: session, state: state, clock: clock, observer: observer)
            } catch {
                // A migration that ended between the check above and the call takes its domain
                // away from the source: that is its end, not a failed intervention.
                try? await Task.sleep(for: .seconds(1))
                guard state.endedAt == nil else { return }
                observer?.intervened(.failed("\(error)"), at: clock.now)
            }
        }
    }

    private func apply(_ d: IOFloorPacer.Decision, to session: any MigrationSession, state: RunState, clock: ContinuousClock,
                       observer: (any MigrationObserver)?) throws {
        switch d {
        case .keep: return
        case .cap(let mib, let why):
            try session.setMaxSpeed(mebibytesPerSecond: mib)
            state.capMiBps = mib
            observer?.intervened(.speedCapSet(mebibytesPerSecond: mib, why: why), at: clock.now)
        case .uncap(let why), .release(let why):
            try session.releaseMaxSpeed()
            state.capMiBps = nil
            observer?.intervened(.speedCapSet(mebibytesPerSecond: nil, why: why), at: clock.now)
        }
    }
}

/// Switches to post-copy once, and never after the migration ended.
func startPostcopy(_ session: any MigrationSession, trigger: PostcopyTrigger, state: RunState, clock: ContinuousClock,
                   observer: (any MigrationObserver)?) {
    guard state.claimPostcopy() else { return }
    do {
        try session.startPostcopy()
        observer?.intervened(.switchedToPostcopy(trigger), at: clock.now)
    } catch {
        observer?.intervened(.failed("\(error)"), at: clock.now)
    }
}

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
