import Foundation
import MigscopeBatch
import MigscopeCore
@testable import MigscopeLab
import MigscopeStore
import XCTest

/// Plans run end to end in the lab (the paper's quick reproduction, as the README runs it, is MainJobTests).
final class LabBatchTests: XCTestCase {
    var dir: String!

    override func setUp() async throws {
        try await LabFixture.ensureUp(for: Self.self)
        dir = NSTemporaryDirectory() + "/migscope-batch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
        // A test that stops a daemon hands the next one a lab with both.
        for h in LabMachine.hypervisors where HypervisorDaemon.pid(h) == nil { try await HypervisorDaemon.start(h) }
    }


    /// `migscope batch` as a script drives it: `--progress json` streams one object per line (which
    /// run of how many, the migration's polls, each run's end) and ends with the result.
    func testATwoCellPlanRunsEndToEndThenResumeHasNothingLeft() async throws {
        let planFile = dir + "/two-cells.yaml"
        try """
            name: two-cells
            hosts: lab
            guest: {memory_mib: 256, disk_mib: 512}
            workload: {mode: direct, block_size_kib: 1024, read_mib: 0}
            matrix: {mode: [live, non-live], link_rate: [100mbit], link: [full-duplex], timeout_s: [60]}
            repetitions: 1
            baseline_s: 2
            tail_s: 2
            """.write(toFile: planFile, atomically: true, encoding: .utf8)
        let db = dir + "/batch.sqlite", report = dir + "/report"
        let first = try ProcessRun.run(ProcessRun.migscope, ["batch", planFile, "--db", db, "--out", report, "--progress", "json"])
        XCTAssertEqual(first.status, 0, first.err)
        let lines = try first.out.split(separator: "\n").map { line in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not one JSON object per line: \(line)")
        }
        let kinds = lines.compactMap { $0["type"] as? String }
        XCTAssertEqual(lines.filter { $0["type"] as? String == "run-starting" }.compactMap { $0["index"] as? Int }, [1, 2], "\(kinds)")
        XCTAssertTrue(lines.contains { $0["type"] as? String == "run-starting" && $0["of"] as? Int == 2 })
        XCTAssertTrue(lines.contains { $0["type"] as? String == "progress" && ($0["memory_remaining_bytes"] as? Int ?? -1) >= 0 }, "no poll streamed: \(kinds)")
        // Two complete runs; a run between them only if the batch made it again because QEMU lost
        // the guest after its migration (RemadeRuns).
        let store = try ResultsStore(path: db)
        let runs = try store.runs()
        XCTAssertNil(RemadeRuns.otherThanComplete(runs))
        RemadeRuns.tell(runs, in: "LabBatchTests")
        let complete = runs.filter { $0.status == .completed }
        XCTAssertEqual(complete.count, 2, "\(runs.map { ($0.status, $0.error) })")
        XCTAssertEqual(runs.compactMap(\.plan), Array(repeating: "two-cells", count: runs.count))
        XCTAssertEqual(Set(complete.compactMap(\.cell)).count, 2)
        XCTAssertEqual(lines.filter { $0["type"] as? String == "run-finished" }.compactMap { $0["status"] as? String }, runs.map(\.status.rawValue))
        XCTAssertEqual(kinds.last, "result")
        let result = try XCTUnwrap(lines.last?["result"] as? [String: Any])
        XCTAssertEqual((result["ran"] as? [Int])?.map(Int64.init), runs.map(\.id), first.out)
        XCTAssertEqual((result["cells"] as? [Any])?.count, 2)
        XCTAssertEqual(result["report"] as? String, (report as NSString).standardizingPath + "/report.html")
        XCTAssertTrue(FileManager.default.fileExists(atPath: report + "/report.html"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: report + "/cells.csv"))

        // Resuming runs nothing (--json: the result alone); starting over without --resume is refused.
        let again = try ProcessRun.run(ProcessRun.migscope, ["batch", planFile, "--db", db, "--out", report, "--resume", "--json"])
        XCTAssertEqual(again.status, 0, again.err)
        let resumed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any], again.out)
        XCTAssertEqual(resumed["ran"] as? [Int], [])
        XCTAssertEqual(resumed["skipped"] as? Int, 2)
        let over = try ProcessRun.run(ProcessRun.migscope, ["batch", planFile, "--db", db, "--out", report])
        XCTAssertNotEqual(over.status, 0)
        XCTAssertTrue(over.err.contains("--resume"), over.err)
    }

    /// A lab guest whose kernel crashes after its migration (QEMU under TCG does that here, see
    /// LabChecks.guestCrash) costs the batch one run, not the night: the run is kept as failed with
    /// the reason, and the cell is made again with a new guest. The crash is the kernel's words on
    /// the console and the guest destroyed on host B, as libvirt's on_crash does.
    func testARunWhoseLabGuestCrashedAfterItsMigrationIsMadeAgainWithANewGuest() async throws {
        let plan = try PlanFile.parse("""
            name: crash-again
            hosts: lab
            guest: {memory_mib: 128, disk_mib: 512}
            workload: {mode: direct, block_size_kib: 1024, read_mib: 0}
            matrix: {mode: [live], link_rate: [100mbit], link: [full-duplex], timeout_s: [60]}
            repetitions: 1
            baseline_s: 2
            tail_s: 20
            """)
        let store = try ResultsStore(path: dir + "/batch.sqlite")
        let notes = NoteLog()
        let runner = BatchRunner(plan: plan, store: store) { notes.add("\($0)") }
        let crasher = Task.detached { [dir] in try await LabBatchTests.crashTheGuestOnceItRunsOnHostB(recordedIn: dir! + "/batch.sqlite") }
        let started = ContinuousClock.now
        let outcome = try await runner.run(resume: false)
        crasher.cancel()
        let crashed = try await crasher.value
        XCTAssertFalse(outcome.interrupted, "\(notes.all)")
        let runs = try store.runs()
        let said = "\(runs.map { ($0.id, $0.status, $0.error) })"
        // Printed before any check, so a CI log that shows only the lines before a failure says why.
        print("LabBatchTests: a crash injected into run \(crashed.map(String.init) ?? "none") and \(runs.count - 1) more run(s) took \(ContinuousClock.now - started): \(said); the batch said: \(notes.all.filter { $0.hasPrefix("note(") })")
        // Every run but the last failed for the guest's failure after its migration, and the last
        // is complete. Beside the injected crash there may be one more failed try: QEMU under TCG
        // crashes or hangs a guest after about 1 migration in 6 by itself (seen in CI), before or
        // after the injected one, and the batch makes the cell again for that too, within 3 tries.
        XCTAssertTrue((2...3).contains(runs.count), said)
        XCTAssertEqual(runs.last?.status, .completed, said)
        for remade in runs.dropLast() {
            XCTAssertEqual(remade.status, .failed, said)
            XCTAssertTrue(RemadeRuns.explains(remade.error), said)
        }
        // The injected run: failed because its guest stopped running, and the batch quoted the
        // kernel's first words of a crash from the console when it made the cell again: the
        // injected panic, or a crash of QEMU's own that came first in the same boot.
        let injected = try XCTUnwrap(crashed, "the guest never ran on host B alone: \(said)")
        let run = try XCTUnwrap(runs.first { $0.id == injected }, said)
        XCTAssertEqual(run.status, .failed, said)
        XCTAssertTrue(run.error?.contains("stopped running") == true, run.error ?? "")
        let note = notes.all.first { $0.contains("run \(injected): ") && $0.contains("the cell runs again with a new guest (try ") }
        XCTAssertTrue(note?.contains("kernel crashed after its migration (") == true, "\(notes.all)")
        if note?.contains("Kernel panic - not syncing: injected") != true { print("LabBatchTests: run \(injected)'s guest crashed by itself before the injected panic") }
        // The failed run's 20 s tail ended with its guest, not 20 s later.
        let failed = try store.run(injected)
        let gone = try XCTUnwrap(failed.trace.firstEvent(.guestGone), "a guest-gone event")
        let done = try XCTUnwrap(failed.trace.firstEvent(.migrationCompleted))
        XCTAssertLessThan(gone.t - done.t, 12)
        XCTAssertEqual(try Self.state(on: .hostB), "running", "the complete run's guest runs on host B")
        XCTAssertEqual(try Self.state(on: .hostA), "")
    }

    /// Host B's daemon down: with --retries a run that could not start is tried again (and
    /// succeeds once the daemon is back); with --keep-going a run that could not start is recorded
    /// as failed with the reason and the batch goes on.
    func testRetriesAndKeepGoingWithTheDestinationsDaemonDown() async throws {
        let plan = try PlanFile.parse("""
            name: night
            hosts: lab
            guest: {memory_mib: 128, disk_mib: 512}
            workload: {mode: direct, block_size_kib: 1024, read_mib: 0}
            matrix: {mode: [non-live], link_rate: [100mbit], link: [full-duplex]}
            repetitions: 2
            baseline_s: 1
            tail_s: 1
            """)

        // Down until the first try has failed (the source's daemon cannot reach it: no memory
        // sent); the retry 10 s on succeeds.
        kill(try XCTUnwrap(HypervisorDaemon.pid(.hostB)), SIGKILL)
        let store = try ResultsStore(path: dir + "/retries.sqlite")
        let back = Task.detached { [dir] in try await LabBatchTests.restartHostB(onceAFailedRunIsIn: dir! + "/retries.sqlite") }
        let notes = NoteLog()
        var once = plan
        once.repetitions = 1
        let runner = BatchRunner(plan: once, store: store) { notes.add("\($0)") }
        runner.policy = .init(retries: 1)
        let retried = try await runner.run(resume: false)
        try await back.value
        XCTAssertFalse(retried.interrupted, "\(notes.all)")
        let tries = try store.runs()
        XCTAssertEqual(tries.map(\.status), [.failed, .completed], "\(tries.map(\.error))")
        XCTAssertTrue(notes.all.contains { $0.contains("failed before any memory was sent") && $0.contains("trying again in 10 s") }, "\(notes.all)")
        XCTAssertEqual(try runner.completed().count, 1)

        // Down until the first run has failed, client-managed (migscope itself cannot reach the
        // destination): that run is kept as failed with the reason, and the next one runs.
        var clientManaged = plan
        clientManaged.peerToPeer = false
        kill(try XCTUnwrap(HypervisorDaemon.pid(.hostB)), SIGKILL)
        let night = try ResultsStore(path: dir + "/keep-going.sqlite")
        let goingOn = BatchRunner(plan: clientManaged, store: night) { notes.add("\($0)") }
        goingOn.policy = .init(keepGoing: true)
        let revive = Task.detached { [dir] in try await LabBatchTests.restartHostB(onceAFailedRunIsIn: dir! + "/keep-going.sqlite") }
        let outcome = try await goingOn.run(resume: false)
        try await revive.value
        XCTAssertFalse(outcome.interrupted, "\(notes.all)")
        let runs = try night.runs()
        XCTAssertEqual(runs.map(\.status), [.failed, .completed], "\(runs.map(\.error))")
        XCTAssertEqual(outcome.failed, [runs[0].id])
        XCTAssertTrue(runs[0].error?.contains("could not start") == true && runs[0].cell != nil && runs[0].repetition != nil, "\(runs[0])")
        // The batch says so (the CLI prints it as "failed before its migration started ...; going on").
        XCTAssertTrue(notes.all.contains { $0.hasPrefix("runCouldNotStart(id: \(runs[0].id),") }, "\(notes.all)")
        XCTAssertEqual(try Self.state(on: .hostB), "running", "the second run's guest runs on host B")
        XCTAssertEqual(try Self.state(on: .hostA), "")
        // Resuming makes the failed run again: it is not complete.
        XCTAssertEqual(try goingOn.completed().count, 1)
    }

    /// Starts host B's daemon again once the database holds a failed run.
    static func restartHostB(onceAFailedRunIsIn path: String) async throws {
        let store = try ResultsStore(path: path)
        let deadline = ContinuousClock.now + .seconds(120)
        while try store.runs().first?.status != .failed, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        try await HypervisorDaemon.start(.hostB)
    }

    /// Once the guest runs on host B alone, its "kernel" panics on the console and libvirt
    /// destroys it, as on_crash does. Returns the id of the run recorded in `path` at that moment
    /// (the batch puts a run in the database as it starts), or nil when cancelled first.
    static func crashTheGuestOnceItRunsOnHostB(recordedIn path: String) async throws -> Int64? {
        let store = try ResultsStore(path: path)
        var running: Int64?
        while !Task.isCancelled {
            // A guest left on host B before the batch is not the batch's: wait for a run recording.
            running = try store.runs().last.flatMap { $0.status == .recording ? $0.id : nil }
            if running != nil, try state(on: .hostB) == "running", try state(on: .hostA) == "" { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        if Task.isCancelled { return nil }
        guard let console = FileHandle(forWritingAtPath: LabLayout.consoleLog) else { throw LabError("no console log at \(LabLayout.consoleLog)") }
        console.seekToEndOfFile()
        console.write(Data("[   42.000000] Kernel panic - not syncing: injected by LabBatchTests\n".utf8))
        try console.close()
        _ = try Command.run(["virsh", "-c", LabMachine.hostB.libvirtURI, "destroy", LabLayout.guestName], check: false, timeout: 30)
        return running
    }

    /// virsh domstate on `host`, or "" when it has no such domain.
    static func state(on host: LabMachine) throws -> String {
        let r = try Command.run(["virsh", "-c", host.libvirtURI, "domstate", LabLayout.guestName], check: false, timeout: 30)
        return r.status == 0 ? r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : ""
    }
}

final class NoteLog: @unchecked Sendable {
    private let lock = NSLock()
    private var notes: [String] = []
    func add(_ s: String) { lock.withLock { notes.append(s) } }
    var all: [String] { lock.withLock { notes } }
}
