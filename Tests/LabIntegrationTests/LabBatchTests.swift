import Foundation
import MigscopeBatch
import MigscopeCore
import MigscopeLab
import MigscopeStore
import XCTest

/// Plans run end to end in the lab (the paper's quick reproduction, as the README runs it, is MainJobTests).
final class LabBatchTests: XCTestCase {
    var dir: String!

    override func setUp() async throws {
        try await LabFixture.ensureUp()
        dir = NSTemporaryDirectory() + "/migscope-batch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    override class func tearDown() {
        LabFixture.tearDown()
        super.tearDown()
    }

    func testATwoCellPlanRunsEndToEndThenResumeHasNothingLeft() async throws {
        let plan = try PlanFile.parse("""
            name: two-cells
            hosts: lab
            guest: {memory_mib: 256, disk_mib: 512}
            workload: {mode: direct, block_size_kib: 1024, read_mib: 0}
            matrix: {mode: [live, non-live], link_rate: [100mbit], link: [full-duplex], timeout_s: [60]}
            repetitions: 1
            baseline_s: 2
            tail_s: 2
            """)
        let store = try ResultsStore(path: dir + "/batch.sqlite")
        let notes = NoteLog()
        let runner = BatchRunner(plan: plan, store: store) { notes.add("\($0)") }
        let first = try await runner.run(resume: false)
        XCTAssertEqual(first.ran.count, 2)
        XCTAssertFalse(first.interrupted)
        let runs = try store.runs()
        XCTAssertEqual(runs.map(\.status), [.completed, .completed])
        XCTAssertEqual(Set(runs.compactMap(\.cell)), Set(plan.cells.map(\.key)))
        XCTAssertEqual(runs.compactMap(\.plan), ["two-cells", "two-cells"])
        XCTAssertTrue(notes.all.contains { $0.contains("runStarting(index: 2, of: 2") }, "progress says which run of how many")
        let stats = try runner.cellStats()
        XCTAssertEqual(stats.count, 2)
        XCTAssertTrue(stats.allSatisfy { $0.migrationSeconds != nil && $0.rounds != nil })

        // Resuming runs nothing; starting over without --resume is refused.
        let again = try await runner.run(resume: true)
        XCTAssertEqual(again.ran, [])
        XCTAssertEqual(again.skipped, 2)
        do {
            _ = try await runner.run(resume: false)
            XCTFail("a plan with complete runs was started over")
        } catch let e as BatchError {
            XCTAssertTrue(e.description.contains("--resume"), e.description)
        }
        let report = try BatchReport.write(plan: plan, store: store, stats: stats, to: dir + "/report", paper: false)
        XCTAssertTrue(FileManager.default.fileExists(atPath: report.page))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/report/cells.csv"))
    }
}

final class NoteLog: @unchecked Sendable {
    private let lock = NSLock()
    private var notes: [String] = []
    func add(_ s: String) { lock.withLock { notes.append(s) } }
    var all: [String] { lock.withLock { notes } }
}
