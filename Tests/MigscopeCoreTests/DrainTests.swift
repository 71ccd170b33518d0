import Foundation
import XCTest
@testable import MigscopeCore

/// A drain's order, placement and concurrency, on values (the real drains run in the lab).
final class DrainTests: XCTestCase {
    let mib: UInt64 = 1_048_576
    var guests: [DrainCandidate] {
        [.init(name: "b", memoryBytes: 512 * mib, dirtyBytesPerSecond: 5e6), .init(name: "a", memoryBytes: 128 * mib, dirtyBytesPerSecond: nil),
         .init(name: "c", memoryBytes: 1024 * mib, dirtyBytesPerSecond: 1e6), .init(name: "d", memoryBytes: 128 * mib, dirtyBytesPerSecond: 0)]
    }

    func testOrders() {
        XCTAssertEqual(DrainPlanning.ordered(guests, by: .smallestFirst).map(\.name), ["a", "d", "b", "c"], "ties keep the listed order")
        XCTAssertEqual(DrainPlanning.ordered(guests, by: .largestFirst).map(\.name), ["c", "b", "a", "d"])
        XCTAssertEqual(DrainPlanning.ordered(guests, by: .lowestDirtyRateFirst).map(\.name), ["d", "c", "b", "a"], "unmeasured last")
        XCTAssertEqual(DrainPlanning.ordered(guests, by: .asListed).map(\.name), ["b", "a", "c", "d"])
    }

    func testEachGoesWhereMostIsFreeAndEqualsTakeTurns() throws {
        let equal = try DrainPlanning.place(guests, on: [.init(host: "x", freeBytes: 4096 * mib), .init(host: "y", freeBytes: 4096 * mib)]).get()
        // b (512) to x, the first of two equals; a (128) to y (4096 free); c (1024) to y (3968 against
        // x's 3584); d to x (3584 against y's 2944).
        XCTAssertEqual(equal.map(\.destination), ["x", "y", "y", "x"])
        let sizes = [.init(name: "p", memoryBytes: 100 * mib), .init(name: "q", memoryBytes: 100 * mib), DrainCandidate(name: "r", memoryBytes: 100 * mib)]
        let turns = try DrainPlanning.place(sizes, on: [.init(host: "x", freeBytes: 1000 * mib), .init(host: "y", freeBytes: 1000 * mib)]).get()
        XCTAssertEqual(turns.map(\.destination), ["x", "y", "x"], "round robin among equals")
        let skewed = try DrainPlanning.place(sizes, on: [.init(host: "x", freeBytes: 150 * mib), .init(host: "y", freeBytes: 1000 * mib)]).get()
        XCTAssertEqual(skewed.map(\.destination), ["y", "y", "y"], "the one with the most free")
    }

    func testADomainThatFitsNowhereIsRefusedBeforeAnythingMoves() {
        let r = DrainPlanning.place(guests, on: [.init(host: "x", freeBytes: 600 * mib)])
        guard case .failure(let p) = r else { return XCTFail("\(r)") }
        // b takes 512 of x's 600 MiB; a (128 MiB) is the first that fits nowhere.
        XCTAssertTrue(p.message.hasPrefix("'a' needs 128.0 MiB and no destination has that free"), p.message)
        guard case .failure(let none) = DrainPlanning.place(guests, on: []) else { return XCTFail() }
        XCTAssertTrue(none.message.contains("--to"))
    }

    /// Never more than K at once, every step run, in order of start.
    func testTheSchedulerRunsAtMostKAtATime() async {
        final class Counter: @unchecked Sendable {
            let lock = NSLock()
            var running = 0, most = 0
            var started: [String] = []
        }
        let c = Counter()
        let steps = (1...7).map { DrainStep(domain: "g\($0)", destination: "x") }
        let out = await DrainScheduler(concurrency: 3).run(steps) { step in
            c.lock.withLock { c.running += 1; c.most = max(c.most, c.running); c.started.append(step.domain) }
            try? await Task.sleep(for: .milliseconds(20))
            c.lock.withLock { c.running -= 1 }
            return step.domain.uppercased()
        }
        XCTAssertEqual(c.most, 3)
        XCTAssertEqual(c.started, steps.map(\.domain))
        XCTAssertEqual(out.compactMap { if case .finished(let v) = $0 { v } else { nil } }, steps.map { $0.domain.uppercased() })
    }

    /// Cancelled while the first two run: they finish as their job decides, the rest never start.
    func testCancellingStartsNothingNew() async {
        let steps = (1...5).map { DrainStep(domain: "g\($0)", destination: "x") }
        let task = Task {
            await DrainScheduler(concurrency: 2).run(steps) { step in
                try? await Task.sleep(for: .milliseconds(200))
                return Task.isCancelled ? "aborted" : "moved"
            }
        }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        let out = await task.value
        let names = out.map { if case .finished(let v) = $0 { v } else { "not started" } }
        XCTAssertEqual(names, ["aborted", "aborted", "not started", "not started", "not started"])
    }
}
