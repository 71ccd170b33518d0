import XCTest

@testable import MigscopeCore

/// Rounds from iteration events and job polls, on sequences shaped like the lab's recorded ones.
final class RoundBuilderTests: XCTestCase {
    func poll(_ t: Double, it: UInt64, processed: UInt64, remaining: UInt64, dirty: UInt64? = nil) -> JobSample {
        JobSample(t: t, progress: JobProgress(iteration: it, dirtyRatePagesPerSecond: dirty, pageSizeBytes: 4096,
                                              memoryTotalBytes: 1000, memoryProcessedBytes: processed, memoryRemainingBytes: remaining))
    }

    /// Three rounds: bulk copy 0-10 s, a re-send 10-14 s, the final copy after the pause at 14 s.
    var live: RoundBuilder.Input {
        .init(
            starts: [(1, 0.5), (2, 10), (3, 14.05)],
            polls: [
                poll(1, it: 1, processed: 50, remaining: 950), poll(5, it: 1, processed: 450, remaining: 550),
                poll(9.5, it: 1, processed: 900, remaining: 100), poll(11, it: 2, processed: 1100, remaining: 300, dirty: 60),
                poll(13.5, it: 2, processed: 1350, remaining: 50, dirty: 60), poll(14.5, it: 3, processed: 1420, remaining: 20, dirty: 25),
            ],
            migrationStartT: 0, pausedAt: 14, endT: 15, final: JobProgress(iteration: 3, memoryProcessedBytes: 1500), completed: true)
    }

    func testOneRoundPerStartEachEndingWhereTheNextBegins() {
        let r = RoundBuilder.rounds(live)
        XCTAssertEqual(r.map(\.number), [1, 2, 3])
        XCTAssertEqual(r.map(\.startS), [0.5, 10, 14.05])
        XCTAssertEqual(r.map(\.endS), [10, 14.05, 15])
    }

    func testBytesSentAreTheProcessedCounterDifferencedAndSumToTheTotal() {
        let r = RoundBuilder.rounds(live)
        // Interpolated: at 0.5 s between 0 (start) and 50 (1 s) -> 25; at 10 s between 900 (9.5 s)
        // and 1100 (11 s) -> 966.67.
        XCTAssertEqual(Double(r[0].bytesSent), 966.67 - 25, accuracy: 1)
        XCTAssertEqual(Double(r.reduce(0) { $0 + $1.bytesSent }), 1500 - 25, accuracy: 2)
        XCTAssertEqual(r[1].transferBytesPerSecond, Double(r[1].bytesSent) / 4.05, accuracy: 0.5)
    }

    func testDirtyRateOfARoundIsTheOneReportedAtTheNextSync() {
        let r = RoundBuilder.rounds(live)
        XCTAssertEqual(r[0].dirtyPagesPerSecond, 60, "round 1's dirtying is measured when round 2 begins")
        XCTAssertEqual(r[1].dirtyPagesPerSecond, 25)
        XCTAssertEqual(r[2].dirtyPagesPerSecond, 25, "the last round keeps the last rate seen")
        XCTAssertEqual(r[0].dirtyBytesPerSecond, 60 * 4096)
    }

    func testTheRoundsAfterThePauseAreTheStopAndCopy() {
        let r = RoundBuilder.rounds(live)
        XCTAssertEqual(r.map(\.stopAndCopy), [false, false, true])
        XCTAssertEqual(r[2].remainingBytesAtEnd, 0, "a completed job leaves nothing")
    }

    func testAPauseInTheMiddleOfARoundMarksThatRound() {
        var input = live
        input.starts = [(1, 0.5), (2, 10)]
        input.pausedAt = 12
        let r = RoundBuilder.rounds(input)
        XCTAssertEqual(r.map(\.stopAndCopy), [false, true])
    }

    func testWithoutEventsRoundsComeFromTheIterationNumbersPolled() {
        var input = live
        input.starts = []
        let r = RoundBuilder.rounds(input)
        XCTAssertEqual(r.map(\.number), [1, 2, 3])
        XCTAssertEqual(r.map(\.startS), [1, 11, 14.5])
    }

    func testWhatARoundLeftDirtyIsWhatTheNextStartedWith() {
        let r = RoundBuilder.rounds(live)
        // Round 2 began with ~300 + (1100 - 966.67) bytes left.
        XCTAssertEqual(Double(r[1].remainingBytesAtStart ?? 0), 433, accuracy: 2)
        XCTAssertEqual(r[0].pagesDirtied, (r[1].remainingBytesAtStart ?? 0) / 4096)
    }

    func testNoStartsAndNoPollsGiveNoRounds() {
        XCTAssertEqual(RoundBuilder.rounds(.init(starts: [], polls: [], migrationStartT: 0, pausedAt: nil, endT: 1, final: nil, completed: false)), [])
    }
}

final class AnalysisTests: XCTestCase {
    /// A guest reading 10 MB/s, 2 MB/s during a migration from 10 to 20 s, paused 19-20.5 s.
    func trace(guestLines: Bool = true) -> Trace {
        var t = Trace()
        t.events = [
            EventRecord(t: 0, kind: .recordingStarted), EventRecord(t: 10, kind: .migrationStarted),
            EventRecord.guestPaused(t: 19, on: .source), EventRecord.guestResumed(t: 20.5, on: .destination),
            EventRecord.migrationCompleted(t: 21, location: .destination, downtimeMs: 900, bytesSent: 100, rounds: 3),
            EventRecord(t: 30, kind: .recordingEnded),
        ]
        if guestLines {
            for s in stride(from: 1.0, through: 30, by: 1) where !(s > 19 && s < 21) {
                t.samples.append(IOSample(t: s, series: .guest, host: "guest", readBytesPerSecond: s <= 10 || s > 21 ? 10e6 : 2e6, writeBytesPerSecond: 0))
            }
        }
        for s in stride(from: 0.5, through: 30, by: 0.5) {
            t.samples.append(IOSample(t: s, series: .host, host: "source", readBytesPerSecond: s < 20.5 ? 9e6 : 0, writeBytesPerSecond: 0))
            if s > 10 { t.samples.append(IOSample(t: s, series: .host, host: "destination", readBytesPerSecond: s >= 20.5 ? 8e6 : 0, writeBytesPerSecond: 0)) }
        }
        return t
    }

    func testPhasesAndTheDuringOverBeforeRatio() {
        let a = RunAnalysis(trace: trace())
        XCTAssertEqual(a.migrationStartS, 10)
        XCTAssertEqual(a.migrationEndS, 20.5)
        XCTAssertEqual(a.migrationSeconds, 10.5)
        XCTAssertEqual(a.ioSeries, .guest)
        XCTAssertEqual(a.before?.meanReadBytesPerSecond ?? 0, 10e6, accuracy: 1)
        XCTAssertEqual(a.before?.samples, 10)
        // Nine seconds at 2 MB/s over the 10.5 s migration: the paused 1.5 s count as no I/O.
        XCTAssertEqual(a.during?.meanReadBytesPerSecond ?? 0, 18e6 / 10.5, accuracy: 1)
        XCTAssertEqual(a.during?.p50ReadBytesPerSecond, 2e6)
        XCTAssertEqual(a.after?.meanReadBytesPerSecond ?? 0, 10e6, accuracy: 1)
        XCTAssertEqual(a.ioDuringRatio ?? 0, 18.0 / 105, accuracy: 1e-6)
    }

    /// A guest starved of CPU prints its lines in bursts stamped alike (seen with four TCG guests
    /// migrating at once): the phases still measure its rate, not zero.
    func testLinesInBurstsStampedAlikeStillMeasureTheRate() {
        var t = Trace()
        t.events = [EventRecord(t: 10, kind: .migrationStarted), EventRecord(t: 30, kind: .guestResumed, facts: EventFacts(host: .destination))]
        // Every 5 s, three lines at the same moment: 4 MB/s before the migration, 2 MB/s during.
        for at in stride(from: 1.0, through: 35, by: 5) {
            for _ in 0..<3 { t.samples.append(IOSample(t: at, series: .guest, host: "guest", readBytesPerSecond: at < 10 ? 4e6 : 2e6, writeBytesPerSecond: 0)) }
        }
        let a = RunAnalysis(trace: t)
        XCTAssertGreaterThan(a.before?.meanReadBytesPerSecond ?? 0, 1e6, "not zero: \(String(describing: a.before))")
        XCTAssertEqual(a.ioDuringRatio ?? 0, 0.5, accuracy: 0.2, "about half the rate before")
    }

    /// Measured in the lab (2026-12-06): the migration began 0.9 s after a line, and "before" counted
    /// that 0.9 s as no reads (11.5 MB/s read as 10.0, a ratio of 82 % where the lines said 72).
    /// The line that straddles the start tells of the guest before it too, for its share.
    func testTheLineThatStraddlesTheStartCountsBeforeForItsShare() {
        for start in [8.1, 8.5, 8.95] {
            var t = Trace()
            t.events = [EventRecord(t: start, kind: .migrationStarted), EventRecord(t: 20, kind: .guestResumed, facts: EventFacts(host: .destination))]
            // A steady 10 MB/s before, 5 MB/s from the start; the line at 9 tells of (8, 9], both sides.
            for at in stride(from: 1.0, through: 25, by: 1) {
                let rate = at <= start ? 10e6 : (at - 1 >= start ? 5e6 : (10e6 * (start - (at - 1)) + 5e6 * (at - start)))
                t.samples.append(IOSample(t: at, series: .guest, host: "guest", readBytesPerSecond: rate, writeBytesPerSecond: 0))
            }
            let a = RunAnalysis(trace: t)
            // Within 2 %: the straddling line's rate is itself a blend of both sides (without its
            // share, "before" read 5.9 % low at 8.5 and 10.6 % low at 8.95).
            XCTAssertEqual(a.before?.meanReadBytesPerSecond ?? 0, 10e6, accuracy: 2e5, "start at \(start)")
            XCTAssertEqual(a.ioDuringRatio ?? 0, 0.5, accuracy: 0.05, "start at \(start)")
        }
    }

    func testAWorkloadThatEndsFirstIsMeasuredOnlyWhileItRanAndFlagged() {
        var t = trace()
        // The read ends 4 s into the 10.5 s migration; after that the guest prints zeros.
        t.events.append(EventRecord.workloadDone(t: 14, readBytes: 100, guestSeconds: 13.00, hostSeconds: nil))
        for i in t.samples.indices where t.samples[i].series == .guest && t.samples[i].t > 14 { t.samples[i].readBytesPerSecond = 0 }
        let a = RunAnalysis(trace: t)
        XCTAssertEqual(a.workloadEndS, 14)
        XCTAssertEqual(a.workloadActiveSeconds ?? 0, 4, accuracy: 1e-9)
        XCTAssertTrue(a.workloadEndedEarly)
        // "During" covers (10, 14]: four seconds at 2 MB/s, not diluted by the idle rest.
        XCTAssertEqual(a.during?.meanReadBytesPerSecond ?? 0, 2e6, accuracy: 1)
        XCTAssertEqual(a.ioDuringRatio ?? 0, 0.2, accuracy: 1e-6)
        let info = RunInfo(backend: "test", request: MigrationRequest(domain: "g", source: "a", destination: "b"), anchor: Date(), status: .completed, outcome: .completed)
        let s = RunSummary(info: info, trace: t, analysis: a)
        XCTAssertEqual(s.workloadEndedEarly, true)
        XCTAssertEqual(s.workloadWindow, "workload active for 4.00 s of the migration's 10.5 s: it ended first, so 'I/O during' covers that part only")
        let cell = CellStats(cell: "c", runs: [(id: 1, summary: s)])
        XCTAssertEqual(cell.workloadWindowFlag, "the read ended before the migration in 1 of 1 run")

        // A read that outlasts the migration covers all of it.
        let whole = RunAnalysis(trace: trace())
        XCTAssertFalse(whole.workloadEndedEarly)
        XCTAssertEqual(whole.workloadActiveSeconds ?? 0, 10.5, accuracy: 1e-9)
        XCTAssertEqual(RunSummary(info: info, trace: trace(), analysis: whole).workloadWindow, "workload active for the whole migration (10.5 s)")
    }

    func testAGuestSilentForTheWholeMigrationHadNoIOThen() {
        // A short non-live migration: the paused guest prints nothing between 10 and 13 s.
        var t = trace()
        t.events = [EventRecord(t: 0, kind: .recordingStarted), EventRecord(t: 10.2, kind: .migrationStarted),
                    EventRecord.guestPaused(t: 10.3, on: .source), EventRecord.guestResumed(t: 12.9, on: .destination),
                    EventRecord(t: 13, kind: .migrationCompleted), EventRecord(t: 30, kind: .recordingEnded)]
        t.samples = stride(from: 1.0, through: 30, by: 1).filter { $0 <= 10 || $0 >= 14 }.map {
            IOSample(t: $0, series: .guest, host: "guest", readBytesPerSecond: 10e6, writeBytesPerSecond: 0)
        }
        let a = RunAnalysis(trace: t)
        XCTAssertEqual(a.during?.samples, 0)
        XCTAssertEqual(a.during?.meanReadBytesPerSecond, 0)
        XCTAssertEqual(a.ioDuringRatio, 0)
    }

    func testTheGuestSeenGapIsTheLongestSilenceLessTheUsualInterval() {
        // Lines at 19 and 21: a 2 s interval where 1 s is usual.
        XCTAssertEqual(RunAnalysis(trace: trace()).guestGapMs ?? 0, 1000, accuracy: 1)
    }

    func testWithoutGuestLinesTheHostSeriesIsStitchedAtTheHandover() {
        let a = RunAnalysis(trace: trace(guestLines: false))
        XCTAssertEqual(a.ioSeries, .host)
        XCTAssertNil(a.guestGapMs)
        let stitched = RunAnalysis.stitchedHostSeries(trace().samples, handoverS: 20.5, completed: true)
        XCTAssertTrue(stitched.allSatisfy { $0.t < 20.5 ? $0.host == "source" : $0.host == "destination" })
        XCTAssertEqual(stitched.count, 60, "one sample per instant, no double counting of the paused destination")
        XCTAssertEqual(a.after?.meanReadBytesPerSecond ?? 0, 8e6, accuracy: 1)
        // A migration that did not complete stays on the source.
        XCTAssertTrue(RunAnalysis.stitchedHostSeries(trace().samples, handoverS: 20.5, completed: false).allSatisfy { $0.host == "source" })
    }

    func testTheSummaryCarriesDowntimeRoundsAndRatio() {
        var t = trace()
        t.rounds = [RoundRecord(number: 1, startS: 10, endS: 21, bytesSent: 1234, dirtyPagesPerSecond: nil, dirtyBytesPerSecond: nil,
                                remainingBytesAtStart: nil, remainingBytesAtEnd: nil, transferBytesPerSecond: 0, stopAndCopy: true)]
        let info = RunInfo(backend: "test", request: MigrationRequest(domain: "g", source: "a", destination: "b"), anchor: Date(),
                           linkRate: "100mbit", linkModel: "shared", status: .completed, outcome: .completed)
        let s = RunSummary(info: info, trace: t, analysis: RunAnalysis(trace: t))
        XCTAssertEqual(s.downtimeMs, 900)
        XCTAssertEqual(s.rounds, 1)
        XCTAssertEqual(s.bytesSent, 1234)
        XCTAssertEqual(s.ioDuringRatio ?? 0, 18.0 / 105, accuracy: 1e-6)
        XCTAssertEqual(s.bandwidth, "100mbit")
        XCTAssertNil(s.workloadSeconds)
        // The read's time on the host clock wins over the guest's, whose clock stopped while paused.
        t.events.append(EventRecord.workloadDone(t: 28, readBytes: 100, guestSeconds: 25.00, hostSeconds: 26.40))
        XCTAssertEqual(RunSummary(info: info, trace: t, analysis: RunAnalysis(trace: t)).workloadSeconds, 26.4)
        t.events[t.events.count - 1] = EventRecord.workloadDone(t: 28, readBytes: 100, guestSeconds: 25, hostSeconds: nil)
        XCTAssertEqual(RunSummary(info: info, trace: t, analysis: RunAnalysis(trace: t)).workloadSeconds, 25)
    }
}
