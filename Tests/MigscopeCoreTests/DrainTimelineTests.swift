import Foundation
@testable import MigscopeCore
import XCTest

/// A drain's runs on one clock, from their anchors: made-up runs with known times.
final class DrainTimelineTests: XCTestCase {
    func run(_ domain: String, id: Int64, anchor: Double, start: Double, end: Double, before: Double, during: Double, sent: UInt64,
             trace: Trace = Trace()) -> (info: RunInfo, trace: Trace, analysis: RunAnalysis, summary: RunSummary) {
        var info = RunInfo(id: id, backend: "libvirt", request: MigrationRequest(domain: domain, source: "a", destination: "b", mode: .live),
                           anchor: Date(timeIntervalSince1970: anchor))
        info.status = .completed
        var analysis = RunAnalysis(trace: Trace())
        analysis.migrationStartS = start
        analysis.migrationEndS = end
        func phase(_ mean: Double) -> RunAnalysis.PhaseStats {
            .init(samples: 10, meanReadBytesPerSecond: mean, p10ReadBytesPerSecond: mean, p50ReadBytesPerSecond: mean, p90ReadBytesPerSecond: mean, meanWriteBytesPerSecond: 0)
        }
        analysis.before = phase(before)
        analysis.during = phase(during)
        var summary = RunSummary(info: info, trace: Trace(), analysis: analysis)
        summary.bytesSent = sent
        summary.downtimeMs = 300
        return (info, trace, analysis, summary)
    }

    /// Two at once, then the third when the first ends: the drain lasts from 0 to the last end.
    func testRunsArePlacedByTheirAnchorsAndTheDrainSpansFirstStartToLastEnd() {
        let t = DrainTimeline([
            run("c", id: 3, anchor: 1010, start: 2, end: 12, before: 10, during: 8, sent: 100),
            run("a", id: 1, anchor: 1000, start: 2, end: 12, before: 10, during: 5, sent: 100),
            run("b", id: 2, anchor: 1000.5, start: 2, end: 14.5, before: 10, during: 2, sent: 50),
        ])
        XCTAssertEqual(t.guests.map(\.domain), ["a", "b", "c"], "in the order they started")
        XCTAssertEqual(t.guests.map(\.startS), [0, 0.5, 10])
        XCTAssertEqual(t.guests[2].endS, 20)
        XCTAssertEqual(t.drainSeconds, 20)
        XCTAssertEqual(t.mostAtOnce, 2)
        XCTAssertEqual(t.worstIODuringRatio ?? 0, 0.2, accuracy: 1e-12)
        XCTAssertEqual(t.meanIODuringRatio ?? 0, 0.5, accuracy: 1e-12)
        XCTAssertEqual(t.bytesSent, 250)
    }

    func testARunThatNeverStartedHasNoPlaceAndNoDrainTime() {
        var r = run("a", id: 1, anchor: 1000, start: 2, end: 3, before: 1, during: 1, sent: 1)
        r.analysis.migrationStartS = nil
        r.analysis.migrationEndS = nil
        let t = DrainTimeline([r])
        XCTAssertNil(t.guests[0].startS)
        XCTAssertNil(t.drainSeconds)
        XCTAssertEqual(t.mostAtOnce, 0)
    }

    /// Recorded from the same moment (a plan's drain): a guest that waited is measured against its
    /// rate before the drain began, not against the rate it had while the first guest migrated.
    func testAGuestThatWaitedIsMeasuredAgainstItsRateBeforeTheDrain() {
        func trace(_ rate: (Double) -> Double) -> Trace {
            var t = Trace()
            t.samples = (1...35).map { IOSample(t: Double($0), series: .guest, host: "a", readBytesPerSecond: rate(Double($0)), writeBytesPerSecond: 0) }
            return t
        }
        let first = run("a", id: 1, anchor: 1000, start: 10, end: 20, before: 100, during: 40, sent: 10, trace: trace { $0 <= 10 ? 100 : 40 })
        // b reads 100 before the drain, 50 while a migrates, 20 during its own migration.
        let second = run("b", id: 2, anchor: 1000, start: 20, end: 30, before: 75, during: 20, sent: 10,
                         trace: trace { $0 <= 10 ? 100 : $0 <= 20 ? 50 : 20 })
        let t = DrainTimeline([first, second])
        XCTAssertEqual(t.guests.map(\.domain), ["a", "b"])
        XCTAssertEqual(t.guests[1].ioDuringVsBeforeDrain ?? 0, 0.2, accuracy: 1e-9, "20 during over 100 before the drain")
        XCTAssertEqual(t.guests[1].ioDuringRatio ?? 0, 20.0 / 75, accuracy: 1e-9, "its own baseline includes the wait")
        XCTAssertEqual(t.worstIODuringVsBeforeDrain ?? 0, 0.2, accuracy: 1e-9)
        XCTAssertEqual(t.meanIODuringVsBeforeDrain ?? 0, 0.3, accuracy: 1e-9)
    }

    /// `drain --record` starts a guest's recording with its migration's turn: no samples before the drain, no such ratio.
    func testAGuestRecordedOnlyFromItsTurnHasNoBeforeTheDrainRatio() {
        var late = Trace()
        late.samples = (1...10).map { IOSample(t: Double($0), series: .guest, host: "a", readBytesPerSecond: 10, writeBytesPerSecond: 0) }
        let t = DrainTimeline([
            run("a", id: 1, anchor: 1000, start: 2, end: 12, before: 10, during: 5, sent: 1, trace: late),
            run("b", id: 2, anchor: 1010, start: 2, end: 12, before: 10, during: 5, sent: 1, trace: late),
        ])
        XCTAssertNil(t.guests[1].ioDuringVsBeforeDrain)
        XCTAssertNil(t.worstIODuringVsBeforeDrain, "not every guest has one")
    }
}
