import Foundation
import MigscopeCore
import XCTest

@testable import MigscopeBatch

/// A plan's `drain:`: every cell drains several domains, concurrency and order are matrix axes.
final class DrainPlanTests: XCTestCase {
    let lab = """
        name: drains
        hosts: lab
        guest: {memory_mib: 96, disk_mib: 1024}
        workload: {mode: direct, block_size_kib: 1024, read_mib: 0}
        drain:
          domains: 4
          workloads: [buffered, direct, idle, direct]
          concurrency: [1, 2, 4]
          order: [as-listed, lowest-dirty-rate-first]
        matrix: {mode: [live], link_rate: [100mbit], link: [shared]}
        """

    func testALabDrainPlanNamesTheGuestsAndMakesAConcurrencyByOrderMatrix() throws {
        let p = try PlanFile.parse(lab)
        XCTAssertEqual(p.drain?.domains, ["migscope-guest", "migscope-guest-2", "migscope-guest-3", "migscope-guest-4"])
        XCTAssertEqual(p.cells.count, 6)
        XCTAssertEqual(Set(p.cells.compactMap(\.drainConcurrency)), [1, 2, 4])
        XCTAssertTrue(p.cells.allSatisfy { $0.key.contains("drain_concurrency=") && $0.key.contains("drain_order=") }, "\(p.cells.map(\.key))")
        XCTAssertEqual(p.workload(for: p.cells[0], domain: 0).mode, .buffered, "each guest its own reader")
        XCTAssertEqual(p.workload(for: p.cells[0], domain: 2).mode, .idle)
        XCTAssertEqual(p.definingSettings["drain"], "migscope-guest,migscope-guest-2,migscope-guest-3,migscope-guest-4 reading buffered,direct,idle,direct")
        let ex = try PlanFile.parse(lab.replacingOccurrences(of: "link: [shared]}", with: "link: [shared], exclude: [{concurrency: 4, order: as-listed}]}"))
        XCTAssertEqual(ex.cells.count, 5, "exclude names drain axes too")
    }

    func testBadDrainsAreRefusedAtTheirLines() {
        func problems(_ text: String) -> String {
            do { _ = try PlanFile.parse(text, file: "d.yaml"); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(problems(lab.replacingOccurrences(of: "domains: 4", with: "domains: 9")).contains("domains must be 2 to 8 lab guests, got 9"))
        XCTAssertTrue(problems(lab.replacingOccurrences(of: "[buffered, direct, idle, direct]", with: "[buffered, direct]"))
            .contains("workloads gives 2 reader(s) for 4 domains"))
        XCTAssertTrue(problems(lab.replacingOccurrences(of: "[1, 2, 4]", with: "[1, 5]")).contains("concurrency 5 is more than the 4 domains"))
        XCTAssertTrue(problems(lab.replacingOccurrences(of: "lowest-dirty-rate-first", with: "random")).contains("order must be smallest-first"))
        XCTAssertTrue(problems(lab.replacingOccurrences(of: "domains: 4", with: "domains: [migscope-guest, vm-9]")).contains("got 'vm-9'"))
        let real = """
            name: real-drain
            hosts: {source: 'qemu+ssh://a/system', destination: 'qemu+ssh://b/system'}
            drain: {domains: [web-1, web-2], workloads: [idle, idle]}
            matrix: {mode: [live], link_rate: [none]}
            """
        XCTAssertTrue(problems(real).contains("workloads set the lab guests' readers"), problems(real))
        let fine = try? PlanFile.parse(real.replacingOccurrences(of: ", workloads: [idle, idle]", with: ""))
        XCTAssertEqual(fine?.drain?.domains, ["web-1", "web-2"], "real hosts: the domains by name, no hosts domain needed")
        XCTAssertEqual(fine?.cells.first?.drainConcurrency, 1, "concurrency defaults to one at a time")
        XCTAssertTrue(problems(real.replacingOccurrences(of: "destination: 'qemu+ssh://b/system'}", with: "destination: 'qemu+ssh://b/system', domain: web-1}")
            .replacingOccurrences(of: ", workloads: [idle, idle]", with: "")).contains("give them in drain only"))
    }

    /// Turns: in order, at most K at once, the next when one leaves; a skipped domain does not hold the rest up.
    func testTurnsLetTheDomainsGoInOrderAtMostKAtOnce() async {
        let turns = DrainTurns(order: ["a", "b", "c"], concurrency: 2)
        let cFirst = await turns.tryEnter("c")
        XCTAssertFalse(cFirst, "c is third")
        let a = await turns.tryEnter("a"), b = await turns.tryEnter("b")
        XCTAssertTrue(a && b)
        let cEarly = await turns.tryEnter("c")
        XCTAssertFalse(cEarly, "two already run")
        await turns.leave("a")
        let c = await turns.tryEnter("c")
        XCTAssertTrue(c)
        let late = DrainTurns(concurrency: 1) { ["y", "x"] }
        await late.skip("y")
        let x = await late.tryEnter("x")
        XCTAssertTrue(x, "y will not start: x goes")
        let order = await turns.started
        XCTAssertEqual(order, ["a", "b", "c"])
    }

    func testTheShippedDrainPlanDrainsFourGuestsAtOneTwoAndFourInTwoOrders() throws {
        let p = try PlanFile.load(path: BuiltinPlans.path("drain"))
        XCTAssertEqual(p.drain?.domains.count, 4)
        XCTAssertEqual(Set(p.cells.compactMap(\.drainConcurrency)), [1, 2, 4])
        XCTAssertEqual(Set(p.cells.compactMap(\.drainOrder)), [.asListed, .lowestDirtyRateFirst])
        XCTAssertEqual(Set(p.cells.map(\.link)), [.shared])
        XCTAssertEqual(p.drain?.readModes?.first, .buffered, "as listed, the guest that dirties most goes first")
    }
}
