import MigscopeCore
import XCTest

final class StallWatchTests: XCTestCase {
    private let gib: UInt64 = 1 << 30

    private func poll(remaining: UInt64, total: UInt64 = 1 << 30) -> JobProgress {
        JobProgress(memoryTotalBytes: total, memoryRemainingBytes: remaining)
    }

    func testNoNewLowForTheProgressTimeoutIsAStallReportedOnce() {
        var w = StallWatch(limits: StallLimits(progressTimeoutSeconds: 10))
        XCTAssertNil(w.observe(poll(remaining: 900), at: 0))
        XCTAssertNil(w.observe(poll(remaining: 500), at: 4))   // a new low at 4 s
        XCTAssertNil(w.observe(poll(remaining: 800), at: 9))   // a new round: higher again
        XCTAssertNil(w.observe(poll(remaining: 600), at: 13.9))
        XCTAssertEqual(w.observe(poll(remaining: 700), at: 14), .noProgress(seconds: 10, lowestRemaining: 500))
        XCTAssertNil(w.observe(poll(remaining: 700), at: 20), "a stall is acted on once")
    }

    func testANewLowRestartsTheProgressClock() {
        var w = StallWatch(limits: StallLimits(progressTimeoutSeconds: 10))
        for (i, r) in [900, 850, 800, 750, 700, 650].enumerated() {
            XCTAssertNil(w.observe(poll(remaining: UInt64(r)), at: Double(i) * 6))
        }
    }

    func testSetupPollsWithNoMemoryTotalDoNotStartTheClock() {
        var w = StallWatch(limits: StallLimits(progressTimeoutSeconds: 5))
        XCTAssertNil(w.observe(JobProgress(memoryTotalBytes: 0, memoryRemainingBytes: 0), at: 0))
        XCTAssertNil(w.observe(poll(remaining: 100), at: 6), "the clock starts at the first real figure, not at setup's 0 of 0")
        XCTAssertNotNil(w.observe(poll(remaining: 100), at: 11))
    }

    func testTheCompletionTimeoutScalesWithMemoryAndIsAtLeastOneGiBsWorth() {
        var big = StallWatch(limits: StallLimits(completionSecondsPerGiB: 100, action: .pause))
        XCTAssertNil(big.observe(poll(remaining: 10, total: 4 * gib), at: 399))
        XCTAssertEqual(big.observe(poll(remaining: 10, total: 4 * gib), at: 400), .tooLong(limitSeconds: 400, memoryGiB: 4))
        var small = StallWatch(limits: StallLimits(completionSecondsPerGiB: 100))
        XCTAssertNil(small.observe(poll(remaining: 10, total: gib / 8), at: 99))
        XCTAssertEqual(small.observe(poll(remaining: 10, total: gib / 8), at: 100), .tooLong(limitSeconds: 100, memoryGiB: 0.125))
    }

    func testLimitsAreCheckedAsTheRequestIs() {
        var r = MigrationRequest(domain: "g", source: "test:///default", destination: "qemu+tcp://b/system")
        r.stallLimits = StallLimits(action: .pause)
        XCTAssertTrue(r.problems().contains { $0.message.contains("--on-stall needs --progress-timeout or --completion-timeout-per-gib") })
        r.stallLimits = StallLimits(progressTimeoutSeconds: .infinity)
        XCTAssertTrue(r.problems().contains { $0.message.contains("--progress-timeout must be 1 to 86400 seconds") })
        r.stallLimits = StallLimits(progressTimeoutSeconds: 30, completionSecondsPerGiB: 800)
        XCTAssertTrue(r.problems().isEmpty, "\(r.problems())")
    }
}
