import Foundation
import XCTest
@testable import MigscopeCore

/// What the guest read during each round beside what the next round re-sent, worked by hand.
final class IODirtyingTests: XCTestCase {
    let mb = 1e6

    func round(_ n: Int, _ start: Double, _ end: Double, sent: Double, stop: Bool = false) -> RoundRecord {
        RoundRecord(number: n, startS: start, endS: end, bytesSent: UInt64(sent * mb), dirtyPagesPerSecond: nil, dirtyBytesPerSecond: nil,
                    remainingBytesAtStart: nil, remainingBytesAtEnd: nil, transferBytesPerSecond: 0, stopAndCopy: stop)
    }

    /// Reads at 10 MB/s, a sample each second. Round 1 (0-10 s) reads 100 MB and round 2 re-sends
    /// 80; round 2 (10-15 s) reads 50 and the stop-and-copy re-sends 60. The reads explain
    /// 80 + 50 of the 140 re-sent; slope (100x80 + 50x60) / (100^2 + 50^2) = 0.88.
    func testReadsBesideWhatTheNextRoundReSent() throws {
        let reads = (1...20).map { IOSample(t: Double($0), series: .guest, host: "guest", readBytesPerSecond: 10 * mb, writeBytesPerSecond: 0) }
        let d = try XCTUnwrap(IODirtying(rounds: [round(1, 0, 10, sent: 1000), round(2, 10, 15, sent: 80), round(3, 15, 16, sent: 60, stop: true)], reads: reads))
        XCTAssertEqual(d.rounds.map(\.number), [1, 2])
        XCTAssertEqual(d.rounds[0].readBytes / mb, 100, accuracy: 1e-6)
        XCTAssertEqual(d.rounds[1].readBytes / mb, 50, accuracy: 1e-6)
        XCTAssertEqual(d.rounds.map { $0.dirtiedBytes / mb }, [80, 60])
        XCTAssertEqual(d.resentBytes / mb, 140, accuracy: 1e-6)
        XCTAssertEqual(d.explainedShare ?? -1, 130.0 / 140.0, accuracy: 1e-9)
        XCTAssertEqual(d.slope ?? -1, 0.88, accuracy: 1e-9)
    }

    func testAReaderThatReadsNothingExplainsNothingAndOneRoundHasNothingReSent() throws {
        let idle = (1...20).map { IOSample(t: Double($0), series: .guest, host: "guest", readBytesPerSecond: 0, writeBytesPerSecond: 0) }
        let d = try XCTUnwrap(IODirtying(rounds: [round(1, 0, 10, sent: 1000), round(2, 10, 11, sent: 5, stop: true)], reads: idle))
        XCTAssertEqual(d.explainedShare, 0)
        XCTAssertNil(d.slope, "no reads: no slope")
        XCTAssertNil(IODirtying(rounds: [round(1, 0, 10, sent: 1000, stop: true)], reads: idle), "non-live: nothing re-sent")
    }
}
