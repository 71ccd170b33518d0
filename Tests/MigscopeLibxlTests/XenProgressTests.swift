import XCTest

@testable import MigscopeLibxl
import MigscopeCore

/// Callback sequences as libxenguest produced them on a real Xen 4.17 host (FACTS-xen.md).
final class XenProgressTests: XCTestCase {
    typealias Call = (t: Double, doing: String, done: UInt64, total: UInt64)

    func feed(_ calls: [Call]) -> (XenProgressTracker, [MigrationSignal.Kind]) {
        var x = XenProgressTracker()
        var signals: [MigrationSignal.Kind] = []
        for (t, doing, done, total) in calls {
            if let s = x.receive(t: t, context: "xc", doing: doing, done: done, total: total) { signals.append(s) }
        }
        return (x, signals)
    }

    /// A guest rewriting 64 MiB: five pre-copy rounds, the suspend, the stop-and-copy round.
    func testADirtyingGuestGivesPrecopyRoundsThenTheStopAndCopy() {
        let (x, signals) = feed([
            (0.0, "Start of stream", 0, 0),
            (0.1, "Frames iteration 0", 0, 65536), (5, "Frames iteration 0", 32768, 65536), (10, "Frames iteration 0", 65536, 65536),
            (10.1, "Frames iteration 1", 0, 17959), (13, "Frames iteration 1", 17959, 17959),
            (13.1, "Frames iteration 2", 0, 17500), (16, "Frames iteration 2", 17500, 17500),
            (16.1, "Frames iteration 3", 0, 17200), (19, "Frames iteration 3", 17200, 17200),
            (19.1, "Frames iteration 4", 0, 7221), (21, "Frames iteration 4", 7221, 7221),
            (21.2, "Domain now suspended", 0, 0),
            (21.3, "Frames iteration 5", 0, 6979), (23, "Frames iteration 5", 6979, 6979),
            (23.1, "End of stream", 0, 0), (23.2, "Complete", 0, 0),
        ])
        let r = x.records()
        XCTAssertEqual(r.map(\.number), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(r.map(\.stopAndCopy), [false, false, false, false, false, true], "the round after the suspend is the stop-and-copy")
        XCTAssertEqual(r[0].bytesSent, 65536 * 4096)
        XCTAssertEqual(r[1].bytesSent, 17959 * 4096)
        XCTAssertEqual(r[0].startS, 0.1)
        XCTAssertEqual(r[0].endS, 10)
        XCTAssertEqual(x.suspendedAt, 21.2)
        XCTAssertEqual(signals.filter { if case .roundStarted = $0 { return true } else { return false } }.count, 6)
        XCTAssertTrue(signals.contains(.guestPaused(host: .source)))
    }

    /// An idle guest: pre-copy stops when fewer than 50 pages are dirty.
    func testAnIdleGuestConvergesInAFewRounds() {
        let (x, _) = feed([
            (0.1, "Frames iteration 0", 0, 65536), (9, "Frames iteration 0", 65536, 65536),
            (9.1, "Frames iteration 1", 0, 260), (9.2, "Frames iteration 1", 260, 260),
            (9.3, "Frames iteration 2", 0, 44), (9.35, "Frames iteration 2", 44, 44),
            (9.4, "Domain now suspended", 0, 0), (9.5, "Frames iteration 3", 0, 12), (9.6, "Frames iteration 3", 12, 12),
            (9.7, "Complete", 0, 0),
        ])
        let pages: [UInt64] = [65536, 260, 44, 12]
        XCTAssertEqual(x.records().map(\.bytesSent), pages.map { $0 * 4096 })
        XCTAssertEqual(x.records().last?.stopAndCopy, true)
        XCTAssertEqual(x.completedAt, 9.7)
    }

    /// Non-live (flags 0), as measured in migscope's Xen host: the suspend comes first, then one
    /// round reported as plain "Frames" every 1024 pages.
    func testANonLiveSaveIsOneStopAndCopyRound() {
        let (x, signals) = feed([
            (2.6804, "Start of stream", 0, 0), (2.9519, "Domain now suspended", 0, 0),
            (2.9568, "Frames", 0, 65536), (3.1198, "Frames", 1024, 65536), (3.2246, "Frames", 2048, 65536),
            (9.8, "Frames", 65536, 65536), (9.9, "End of stream", 0, 0), (9.95, "Complete", 0, 0),
        ])
        let r = x.records()
        XCTAssertEqual(r.map(\.number), [0])
        XCTAssertEqual(r.map(\.stopAndCopy), [true])
        XCTAssertEqual(r[0].bytesSent, 65536 * 4096)
        XCTAssertEqual(r[0].endS, 9.8)
        XCTAssertEqual(signals.first, .guestPaused(host: .source), "paused before anything is sent")
    }

    /// What a round left dirty is what the next round sent; the rate is over the round's length.
    func testDirtiedPagesComeFromTheNextRound() {
        let (x, _) = feed([
            (0, "Frames iteration 0", 0, 65536), (10, "Frames iteration 0", 65536, 65536),
            (10, "Frames iteration 1", 0, 17959), (12, "Frames iteration 1", 17959, 17959),
            (12.5, "Domain now suspended", 0, 0), (12.5, "Frames iteration 2", 0, 7000), (13, "Frames iteration 2", 7000, 7000),
        ])
        let r = x.records()
        XCTAssertEqual(r.map(\.pagesDirtied), [17959, 7000, nil])
        XCTAssertEqual(r[0].dirtyPagesPerSecond, 1796)
        XCTAssertEqual(r[1].dirtyPagesPerSecond, 3500)
        XCTAssertNil(r[2].dirtyPagesPerSecond)
    }
}
