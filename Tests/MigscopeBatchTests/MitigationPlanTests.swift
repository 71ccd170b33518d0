import MigscopeBatch
import MigscopeCore
import XCTest

/// A plan's `mitigation:` and `read_mode:` keys, and the shipped mitigations plans.
final class MitigationPlanTests: XCTestCase {
    func testMitigationItemsAndReadersMakeTheCellsTheyName() throws {
        let p = try PlanFile.parse("""
            hosts: lab
            matrix:
              mode: [live, non-live]
              link_rate: [100mbit]
              read_mode: [direct, buffered]
              mitigation:
                - none
                - cap:50%
                - {use: io-floor:50, read_mode: [direct]}
            """)
        let keys = p.cells.map(\.key)
        // live: direct x 3 + buffered x 2; non-live: the io-floor (live only) collapses into none.
        XCTAssertEqual(keys.filter { $0.hasPrefix("mode=live") }.count, 5, keys.joined(separator: "\n"))
        XCTAssertEqual(keys.filter { $0.hasPrefix("mode=non-live") }.count, 4, keys.joined(separator: "\n"))
        XCTAssertFalse(keys.contains { $0.contains("read=buffered") && $0.contains("io-floor") })
        let floor = try XCTUnwrap(p.cells.first { $0.mitigation?.ioFloorPercent == 50 })
        XCTAssertEqual(p.workload(for: floor).mode, .direct)
        XCTAssertTrue(p.matrix.features.contains(.ioFloor))
        XCTAssertTrue(p.matrix.features.contains(.streamCap))
    }

    func testBadMitigationsAreRefusedAtTheirLineAndStoragePriorityOnlyInTheLab() {
        let cases: [(String, String)] = [
            ("hosts: lab\nmatrix:\n  mode: [live]\n  link_rate: [100mbit]\n  mitigation: [turbo]", "p.yaml:5:16: mitigation: unknown mitigation 'turbo'"),
            ("hosts: lab\nmatrix:\n  mode: [live]\n  link_rate: [100mbit]\n  mitigation: [io-floor:120]", "io-floor takes a percentage from 1 to 99"),
            ("hosts: lab\nmatrix:\n  mode: [live]\n  link_rate: [100mbit]\n  read_mode: [sideways]", "read_mode must be buffered, direct or idle"),
            ("hosts: lab\nmatrix:\n  mode: [live]\n  link_rate: [100mbit]\n  mitigation: [{read_mode: [direct]}]", "needs 'use:'"),
            ("hosts: {source: 'qemu+ssh://a/system', destination: 'qemu+ssh://b/system', domain: w}\nmatrix: {mode: [live], link_rate: [none], mitigation: [storage-priority]}",
             "storage-priority shapes the embedded lab's links only"),
            ("hosts: {backend: libxl, destination: 'hostB:8002', domain: w}\nmatrix: {mode: [live], link_rate: [none], mitigation: [io-floor:50]}",
             "io_floor_pct: libxl has no speed cap"),
        ]
        for (yaml, expected) in cases {
            XCTAssertThrowsError(try PlanFile.parse(yaml, file: "p.yaml"), yaml) { e in
                XCTAssertTrue("\(e)".contains(expected), "expected '\(expected)' in: \(e)")
            }
        }
    }

    func testTheShippedMitigationsPlansParseAndTheQuickOneEndsWithPostcopy() throws {
        let full = try PlanFile.load(path: BuiltinPlans.path("mitigations"))
        XCTAssertEqual(full.cells.count, 22, "eleven mitigations, two readers")
        let quick = try PlanFile.load(path: BuiltinPlans.path("mitigations-quick"))
        XCTAssertEqual(quick.cells.count, 6)
        XCTAssertEqual(quick.schedule.last?.cell.mitigation?.postcopy, .afterRound(1), "post-copy runs last: the guest stays where it took it")
        XCTAssertTrue(quick.cells.allSatisfy { $0.timeoutSeconds == 120 })
    }
}
