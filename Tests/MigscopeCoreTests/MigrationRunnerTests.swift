import Foundation
import XCTest

@testable import MigscopeCore

/// The runner's own logic (timeouts, aborts, cancellation, round counting) on a scripted session.
/// Real migrations are tested against the lab; this fake stands in for a hypervisor only here.
final class MigrationRunnerTests: XCTestCase {
    func testRoundsAndFinalFiguresComeFromTheSession() async {
        let s = ScriptedSession(duration: .milliseconds(300), rounds: 3, final: JobProgress(iteration: 3, memoryProcessedBytes: 900, downtimeMs: 40))
        let summary = await MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(50)).run(s)
        XCTAssertEqual(summary.outcome, .completed)
        XCTAssertEqual(summary.roundsSignalled, 3)
        XCTAssertEqual(summary.rounds, 3)
        XCTAssertEqual(summary.bytesSent, 900)
        XCTAssertEqual(summary.final?.downtimeMs, 40)
        XCTAssertGreaterThanOrEqual(summary.elapsedSeconds, 0.3)
        XCTAssertGreaterThan(s.progressPolls, 5)
        XCTAssertEqual(summary.location.place, .destination)
    }

    func testTimeoutPausesTheGuestAndTheMigrationCompletes() async {
        let s = ScriptedSession(duration: .seconds(5), rounds: 1, completesWhenPaused: true)
        var r = s.request
        r.pauseAfterSeconds = 0.2
        s.request = r
        let summary = await MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(10)).run(s)
        XCTAssertEqual(summary.outcome, .completed)
        XCTAssertTrue(summary.pausedForTimeout)
        XCTAssertEqual(s.calls, ["pause"])
        XCTAssertLessThan(summary.elapsedSeconds, 2)
    }

    func testARoundLimitPausesTheGuestOnceAsTheNextRoundBegins() async {
        let s = ScriptedSession(duration: .seconds(2), rounds: 8, completesWhenPaused: true)
        s.request.pauseAfterRounds = 2
        let o = RecordingObserver()
        let summary = await MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(10)).run(s, observer: o)
        XCTAssertEqual(summary.outcome, .completed)
        XCTAssertTrue(summary.pausedForTimeout)
        XCTAssertEqual(s.calls, ["pause"], "paused once, when round 3 began")
        XCTAssertEqual(o.log.filter { $0 == "round" }.count, 3)
        XCTAssertEqual(o.interventions, [.pausedAfterRounds(rounds: 2)])
    }

    func testNoWatcherPausesOrAbortsAfterTheMigrationEnded() async {
        // Both limits fall inside the grace period after the job returned: the guest may already
        // run on the destination, so neither may act.
        let s = ScriptedSession(duration: .milliseconds(100), rounds: 1)
        s.request.pauseAfterSeconds = 0.25
        s.request.abortAfterSeconds = 0.3
        let summary = await MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(500)).run(s)
        XCTAssertEqual(summary.outcome, .completed)
        XCTAssertEqual(s.calls, [])
        XCTAssertFalse(summary.pausedForTimeout)
    }

    func testAbortAfterAbortsAndTheGuestStaysOnTheSource() async {
        let s = ScriptedSession(duration: .seconds(5), rounds: 1)
        s.request.abortAfterSeconds = 0.2
        let summary = await MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(10)).run(s)
        XCTAssertEqual(summary.outcome, .aborted(.timeLimit(seconds: 0.2)))
        XCTAssertEqual("\(AbortReason.timeLimit(seconds: 0.2))", "aborted after 0.20 s (--abort-after)")
        XCTAssertEqual(s.calls, ["abort"])
        XCTAssertEqual(summary.location.place, .source)
    }

    func testCancellingTheRunAbortsTheMigration() async {
        let s = ScriptedSession(duration: .seconds(5), rounds: 1)
        let task = Task { await MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(10)).run(s) }
        try? await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let summary = await task.value
        XCTAssertEqual(summary.outcome, .aborted(.interrupted))
        XCTAssertEqual(s.calls, ["abort"])
        XCTAssertEqual(summary.location.place, .source)
    }

    func testAFailureIsReportedWithItsMessage() async {
        let s = ScriptedSession(duration: .milliseconds(50), rounds: 0, failure: MigrationError(.failed, "migration failed: boom"))
        let summary = await MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(10)).run(s)
        XCTAssertEqual(summary.outcome, .failed("migration failed: boom"))
    }

    func testTheObserverSeesStartProgressSignalsAndTheEnd() async {
        let s = ScriptedSession(duration: .milliseconds(200), rounds: 2)
        let o = RecordingObserver()
        _ = await MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(50)).run(s, observer: o)
        XCTAssertEqual(o.log.first, "started")
        XCTAssertEqual(o.log.last, "finished")
        XCTAssertEqual(o.log.filter { $0 == "round" }.count, 2)
        XCTAssertTrue(o.log.contains("progress"))
    }
}

/// What a recording does when its database fails at the end (disk full, database busy).
/// The pacer steers by the guest's own lines when a recorder feeds them (its run is judged on them).
final class PacerFeedTests: XCTestCase {
    func testThePacersBaselineIsTheGuestsOwnLinesAndItStartsWithoutHostCounters() async {
        let s = ScriptedSession(duration: .milliseconds(300), rounds: 2)
        var r = s.request
        r.ioFloorPercent = 50
        s.request = r
        let feed = GuestRateFeed()
        for _ in 0..<4 { feed.post(readBytesPerSecond: 10 * 1_048_576, at: .now) }
        var runner = MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(10))
        runner.guestRates = feed
        _ = await runner.run(s)
        // 10 MiB/s before, a 50 % floor: the stream starts with the other half.
        XCTAssertEqual(s.speeds.first, 5, "caps set: \(s.speeds)")
    }

    func testWithoutLinesOrCountersThePacerStandsAside() async {
        let s = ScriptedSession(duration: .milliseconds(100), rounds: 1)
        var r = s.request
        r.ioFloorPercent = 50
        s.request = r
        var runner = MigrationRunner(pollInterval: .milliseconds(20), completionGrace: .milliseconds(10))
        runner.guestRates = GuestRateFeed()
        _ = await runner.run(s)
        XCTAssertEqual(s.speeds, [], "no rate known, no cap")
    }

    func testTheFeedsMeanCountsOnlyLinesAfterTheInstantAsked() {
        let feed = GuestRateFeed()
        let start = ContinuousClock.now
        feed.post(readBytesPerSecond: 100, at: start - .seconds(1))
        feed.post(readBytesPerSecond: 300, at: start + .seconds(1))
        feed.post(readBytesPerSecond: 500, at: start + .seconds(2))
        XCTAssertEqual(feed.mean()?.readBytesPerSecond, 300)
        XCTAssertEqual(feed.mean(after: start)?.readBytesPerSecond, 400)
        XCTAssertEqual(feed.mean(after: start)?.lines, 2)
        XCTAssertNil(feed.mean(after: start + .seconds(3)))
    }
}

final class RecorderStorageTests: XCTestCase {
    final class FailingSink: TraceSink, @unchecked Sendable {
        private let lock = NSLock()
        private var _finishes: [RunStatus] = []
        var finishes: [RunStatus] { lock.withLock { _finishes } }
        let failFinishing: Int
        init(failFinishing: Int) { self.failFinishing = failFinishing }
        func begin(_ info: RunInfo) throws -> Int64 { 1 }
        func append(runID: Int64, _ batch: TraceBatch) throws {}
        func finish(runID: Int64, info: RunInfo, rounds: [RoundRecord], summary: RunSummary) throws {
            try lock.withLock {
                _finishes.append(info.status)
                if _finishes.count <= failFinishing { throw MigrationError(.failed, "database or disk is full") }
            }
        }
    }

    func testAFailedFinishStillGivesTheOutcomeAndMarksTheRunFailed() async throws {
        let sink = FailingSink(failFinishing: 3)
        let recorder = Recorder(settings: RecorderSettings(interval: .milliseconds(20), baseline: .milliseconds(50), tail: .milliseconds(50)), sink: sink)
        let session = ScriptedSession(duration: .milliseconds(100), rounds: 1)
        let run = try await recorder.record(session, info: RunInfo(backend: "test", request: session.request, anchor: Date()))
        XCTAssertEqual(run.migration?.outcome, .completed, "the migration's outcome is known")
        XCTAssertEqual(run.migration?.location.place, .destination, "and where the domain runs")
        XCTAssertTrue(run.storageError?.contains("database or disk is full") == true, "\(String(describing: run.storageError))")
        XCTAssertEqual(sink.finishes, [.completed, .completed, .completed, .failed], "three tries, then the run marked failed")
        XCTAssertEqual(run.info.status, .failed)
        XCTAssertTrue(run.info.error?.contains("could not be finished") == true)
    }
}

/// What a recording writes, kept in memory.
final class CollectingSink: TraceSink, @unchecked Sendable {
    private let lock = NSLock()
    private var _events: [EventRecord] = []
    var events: [EventRecord] { lock.withLock { _events } }
    func begin(_ info: RunInfo) throws -> Int64 { 1 }
    func append(runID: Int64, _ batch: TraceBatch) throws { lock.withLock { _events += batch.events } }
    func finish(runID: Int64, info: RunInfo, rounds: [RoundRecord], summary: RunSummary) throws {}
}

final class RecorderEventTests: XCTestCase {
    /// The completed event carries the hypervisor's downtime as milliseconds (a UInt64 once went
    /// through Double(bitPattern:) and came out as 1e-321).
    func testTheCompletedEventCarriesTheHypervisorsDowntime() async throws {
        let sink = CollectingSink()
        let recorder = Recorder(settings: RecorderSettings(interval: .milliseconds(20), baseline: .milliseconds(20), tail: .milliseconds(20)), sink: sink)
        let session = ScriptedSession(duration: .milliseconds(100), rounds: 2, final: JobProgress(iteration: 2, memoryProcessedBytes: 900, downtimeMs: 186))
        let run = try await recorder.record(session, info: RunInfo(backend: "test", request: session.request, anchor: Date()))
        XCTAssertEqual(sink.events.first { $0.kind == .migrationCompleted }?.facts.downtimeMs, 186)
        XCTAssertEqual(run.summary.downtimeMs, 186)
    }
}

final class RecordingObserver: MigrationObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var _log: [String] = []
    var log: [String] { lock.withLock { _log } }
    func add(_ s: String) { lock.withLock { _log.append(s) } }
    func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant) { add("started") }
    func progressed(_ progress: JobProgress, at: ContinuousClock.Instant) { add("progress") }
    func signalled(_ signal: MigrationSignal) { if case .roundStarted = signal.kind { add("round") } }
    private var _interventions: [MigrationIntervention] = []
    var interventions: [MigrationIntervention] { lock.withLock { _interventions } }
    func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant) { lock.withLock { _interventions.append(action) } }
    func migrationFinished(_ summary: MigrationSummary) { add("finished") }
}

/// A session that "migrates" for a fixed time, emitting round signals; pause or abort end it early.
final class ScriptedSession: MigrationSession, @unchecked Sendable {
    private let lock = NSLock()
    private var _request = MigrationRequest(domain: "g", source: "test:///a", destination: "test:///b")
    var request: MigrationRequest {
        get { lock.withLock { _request } }
        set { lock.withLock { _request = newValue } }
    }
    let domainFacts = DomainFacts(name: "g", uuid: "u")
    let duration: Duration
    let rounds: Int
    let final: JobProgress?
    let failure: Error?
    let completesWhenPaused: Bool
    private var _calls: [String] = []
    private var _polls = 0
    private var ended = false
    private var aborted = false
    private var continuation: AsyncStream<MigrationSignal>.Continuation?

    var calls: [String] { lock.withLock { _calls } }
    var progressPolls: Int { lock.withLock { _polls } }

    init(duration: Duration, rounds: Int, final: JobProgress? = nil, failure: Error? = nil, completesWhenPaused: Bool = false) {
        self.duration = duration
        self.rounds = rounds
        self.final = final
        self.failure = failure
        self.completesWhenPaused = completesWhenPaused
    }

    func signals() throws -> AsyncStream<MigrationSignal> {
        let (s, c) = AsyncStream<MigrationSignal>.makeStream()
        lock.withLock { continuation = c }
        return s
    }

    func run() async throws {
        let step = duration / max(1, rounds)
        for i in 0..<max(1, rounds) {
            if i < rounds { lock.withLock { continuation }?.yield(MigrationSignal(.roundStarted(UInt64(i + 1)), at: .now)) }
            let deadline = ContinuousClock.now + step
            while ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
                if lock.withLock({ aborted }) { throw MigrationError(.aborted, "operation aborted") }
                if lock.withLock({ ended }) { return }
            }
        }
        if let failure { throw failure }
        lock.withLock { ended = true }
    }

    func progress() throws -> JobProgress? {
        lock.withLock { _polls += 1 }
        return JobProgress(iteration: 1)
    }
    func completedProgress() throws -> JobProgress? { final }
    func guestIO(on host: HostRole) throws -> GuestIOCounters? { nil }
    func abort() throws { lock.withLock { _calls.append("abort"); aborted = true } }
    func pauseGuest() throws { lock.withLock { _calls.append("pause"); if completesWhenPaused { ended = true } } }
    func setMaxDowntime(milliseconds: UInt64) throws { lock.withLock { _calls.append("downtime") } }
    func setMaxSpeed(mebibytesPerSecond: UInt64) throws { lock.withLock { _calls.append("speed"); _speeds.append(mebibytesPerSecond) } }
    private var _speeds: [UInt64] = []
    /// Every cap set, MiB/s.
    var speeds: [UInt64] { lock.withLock { _speeds } }
    func releaseMaxSpeed() throws { lock.withLock { _calls.append("release") } }
    func startPostcopy() throws { lock.withLock { _calls.append("postcopy") } }
    func locate() -> DomainLocation {
        let done = lock.withLock { ended && !aborted }
        return DomainLocation(place: done ? .destination : .source, sourceURI: "test:///a", destinationURI: "test:///b")
    }
}

/// A guest console that reports every call: reading at `rate` until `stopsAfter` lines, then nothing
/// read; with `silentAfter`, no lines at all after that many (a guest whose kernel hung).
final class ReportingConsole: GuestReportSource, @unchecked Sendable {
    private let lock = NSLock()
    private var seq = 0
    private let start = Date()
    let stopsAfter: Int
    let silentAfter: Int
    init(stopsAfter: Int, silentAfter: Int = .max) { self.stopsAfter = stopsAfter; self.silentAfter = silentAfter }
    var description: String { "a scripted console" }
    var droppedLines: Int { 0 }
    func newLines() -> [Substring] {
        lock.withLock {
            guard seq < silentAfter else { return [] }
            seq += 1
            let rate = seq <= stopsAfter ? 5_000_000 : 0
            let up = String(format: "%.2f", Date().timeIntervalSince(start) + 1)
            return [Substring("MIGSCOPE rate seq=\(seq) up=\(up) read_bps=\(rate) write_bps=0 read_total=\(min(seq, stopsAfter) * 500_000)")]
        }
    }
}

final class RecorderReadStallTests: XCTestCase {
    /// A read that hangs after the migration ends the tail once the guest has reported reading
    /// nothing for the stall limit, long before the tail's limit, and the run fails saying so.
    func testAReadThatHangsAfterTheMigrationEndsTheTailAndFailsTheRun() async throws {
        let settings = RecorderSettings(interval: .milliseconds(50), baseline: .milliseconds(50), tail: .milliseconds(50),
                                        untilWorkloadDone: true, maxTail: .seconds(60), readStall: .milliseconds(600))
        let recorder = Recorder(settings: settings, sink: CollectingSink(), console: ReportingConsole(stopsAfter: 3))
        let session = ScriptedSession(duration: .milliseconds(200), rounds: 1, final: JobProgress(iteration: 1, memoryProcessedBytes: 100))
        let started = ContinuousClock.now
        let run = try await recorder.record(session, info: RunInfo(backend: "test", request: session.request, anchor: Date()))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(20), "the tail did not wait for its 60 s limit")
        XCTAssertNotNil(run.trace.firstEvent(.workloadStalled))
        XCTAssertEqual(run.info.status, .failed)
        XCTAssertTrue(run.info.error?.contains("the guest's read stalled on the destination") == true, run.info.error ?? "")
        XCTAssertEqual(run.migration?.outcome, .completed, "the migration itself completed")
    }

    /// A guest that goes silent during its migration and still runs on the destination (as in CI:
    /// its kernel hung) ends the tail after the stall limit too, instead of the tail's whole limit.
    func testAGuestSilentAfterTheMigrationEndsTheTailAndFailsTheRun() async throws {
        let settings = RecorderSettings(interval: .milliseconds(50), baseline: .milliseconds(50), tail: .milliseconds(50),
                                        untilWorkloadDone: true, maxTail: .seconds(60), readStall: .milliseconds(600))
        let recorder = Recorder(settings: settings, sink: CollectingSink(), console: ReportingConsole(stopsAfter: .max, silentAfter: 3))
        let session = ScriptedSession(duration: .milliseconds(400), rounds: 1, final: JobProgress(iteration: 1, memoryProcessedBytes: 100))
        let started = ContinuousClock.now
        let run = try await recorder.record(session, info: RunInfo(backend: "test", request: session.request, anchor: Date()))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(20), "the tail did not wait for its 60 s limit")
        let stall = try XCTUnwrap(run.trace.firstEvent(.workloadStalled))
        XCTAssertTrue(stall.detail.contains("reported nothing"), stall.detail)
        let done = try XCTUnwrap(run.trace.firstEvent(.migrationCompleted))
        XCTAssertGreaterThanOrEqual(stall.t - done.t, 0.6, "silence is counted from the migration's end")
        XCTAssertNil(run.trace.firstEvent(.guestGone), "the guest still runs")
        XCTAssertEqual(run.info.status, .failed)
        XCTAssertTrue(run.info.error?.contains("the guest's read stalled on the destination") == true, run.info.error ?? "")
    }

    func testWithoutAStallLimitAReadingGuestsTailRunsToItsLimit() async throws {
        let settings = RecorderSettings(interval: .milliseconds(50), baseline: .milliseconds(50), tail: .milliseconds(50),
                                        untilWorkloadDone: true, maxTail: .seconds(2))
        let recorder = Recorder(settings: settings, sink: CollectingSink(), console: ReportingConsole(stopsAfter: 3))
        let session = ScriptedSession(duration: .milliseconds(200), rounds: 1, final: JobProgress(iteration: 1, memoryProcessedBytes: 100))
        let run = try await recorder.record(session, info: RunInfo(backend: "test", request: session.request, anchor: Date()))
        XCTAssertNil(run.trace.firstEvent(.workloadStalled))
        XCTAssertEqual(run.info.status, .completed)
    }
}

/// A plan's `predict: true`: the prediction is made while the baseline runs (its workload going),
/// kept with the run, and the migration waits for it; a prediction that cannot be made is a note.
final class RecorderBaselineForecastTests: XCTestCase {
    func forecast() -> MigrationForecast {
        let inputs = PrecopyModel.Inputs(memoryBytes: 1e8, dirtying: .none, streamBytesPerSecond: 1e7)
        return MigrationForecast(inputs: inputs, dirtyRate: DirtyRateMeasurement(domain: "g", host: "h", method: "page-sampling", windows: []),
                                 streamRateFrom: "test", prediction: PrecopyModel.predict(inputs))
    }

    func testThePredictionIsKeptAndTheMigrationWaitsForIt() async throws {
        let settings = RecorderSettings(interval: .milliseconds(50), baseline: .milliseconds(50), tail: .milliseconds(50))
        let made = forecast()  // 100 MB at 10 MB/s: 10 s
        let recorder = Recorder(settings: settings, sink: CollectingSink(), forecastDuringBaseline: {
            try? await Task.sleep(for: .milliseconds(400))
            return .success(made)
        })
        let session = ScriptedSession(duration: .milliseconds(100), rounds: 1, final: JobProgress(iteration: 1, memoryProcessedBytes: 100))
        let run = try await recorder.record(session, info: RunInfo(backend: "test", request: session.request, anchor: Date()))
        XCTAssertEqual(run.info.forecast, made)
        let requested = try XCTUnwrap(run.trace.firstEvent(.migrationRequested)?.t)
        XCTAssertGreaterThanOrEqual(requested, 0.4, "the migration began once the prediction was made, not after the 50 ms baseline")
        XCTAssertTrue(run.trace.events.contains { $0.kind == .note && $0.detail.hasPrefix("predicted during the baseline: 10.0 s migration") }, "\(run.trace.events)")
    }

    func testAPredictionThatCannotBeMadeIsANoteAndTheRunGoesOn() async throws {
        let settings = RecorderSettings(interval: .milliseconds(50), baseline: .milliseconds(50), tail: .milliseconds(50))
        let recorder = Recorder(settings: settings, sink: CollectingSink(), forecastDuringBaseline: { .failure(ForecastFailure("the stream's rate is unknown")) })
        let session = ScriptedSession(duration: .milliseconds(100), rounds: 1, final: JobProgress(iteration: 1, memoryProcessedBytes: 100))
        let run = try await recorder.record(session, info: RunInfo(backend: "test", request: session.request, anchor: Date()))
        XCTAssertNil(run.info.forecast)
        XCTAssertEqual(run.info.status, .completed)
        XCTAssertTrue(run.trace.events.contains { $0.kind == .note && $0.detail == "no prediction: the stream's rate is unknown" })
    }
}
