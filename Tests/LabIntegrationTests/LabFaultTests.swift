import Foundation
import MigscopeCore
import MigscopeStore
import XCTest

@testable import MigscopeLab

/// Faults injected for real into migrations in the lab, each checked from outside migscope: after
/// every one the guest runs exactly once (virsh on both hosts), migscope said so in one line with
/// the right exit status, and the results database still reads.
///
/// The guest here is small (128 MiB) and reads through its page cache over a shared 100 Mbit/s
/// link, so pre-copy lasts long enough to be hit in its second round; every migration is bounded
/// by --pause-after-rounds, so none runs on for ever.
final class LabFaultTests: XCTestCase {
    var dir: String!
    let a = LabMachine.hostA, b = LabMachine.hostB
    let guest = LabLayout.guestName

    override func setUp() async throws {
        try await LabFixture.ensureUp(for: Self.self)
        dir = NSTemporaryDirectory() + "/migscope-faults-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try Lab.set(bandwidth: .mbit(100), link: .shared)
        try await Lab.startGuest(on: .hostA, memoryMiB: 128, workload: Workload(mode: .buffered, blockSizeKiB: 1024, amountMiB: 0))
        XCTAssertEqual(try runningCopies(), [a], "the guest runs on host A before the fault")
    }

    override func tearDown() async throws {
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
        // A job a failed test left running would go on into the next one.
        _ = try? virsh(a, ["domjobabort", guest])
        // Whatever a test did, the next one starts from a lab with both daemons and every port up
        // (its setUp restarts the guest; the class's lab is removed at its end).
        for h in [a, b] where HypervisorDaemon.pid(h) == nil { try await HypervisorDaemon.start(h) }
        _ = try? Command.run(LabNetwork.inNamespace(LabLayout.switchNamespace, ["ip", "link", "set", b.switchPort, "up"]), check: false)
    }


    // MARK: the faults

    func testTheDestinationDaemonKilledInRoundTwoLeavesTheGuestOnTheSource() async throws {
        let m = try startMigrate(["--p2p", "--live", "--record", "--db", dir + "/r.sqlite", "--pause-after-rounds", "8"])
        try await waitForIteration(2)
        let daemon = try XCTUnwrap(HypervisorDaemon.pid(b))
        kill(daemon, SIGKILL)
        let r = try await m.finish(within: .seconds(120))
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.lastErrorLine.contains("is on the source") || r.lastErrorLine.contains("on the source,"), r.err)
        try await HypervisorDaemon.start(b)
        try await waitUntil("no copy runs on host B once its daemon is back") { try self.runningCopies() == [self.a] }
        XCTAssertEqual(try listedRun(dir + "/r.sqlite")["status"] as? String, "failed")
    }

    func testTheLinkToTheDestinationCutFor40SecondsEndsWithTheGuestRunningOnce() async throws {
        let m = try startMigrate(["--p2p", "--live", "--record", "--db", dir + "/r.sqlite", "--pause-after-rounds", "4", "--abort-after", "150"])
        try await waitForIteration(2)
        try switchPort(b, up: false)
        try await Task.sleep(for: .seconds(40))
        try switchPort(b, up: true)
        let r = try await m.finish(within: .seconds(240))
        XCTAssertTrue([0, 1].contains(r.status), "exit \(r.status): \(r.err)")
        if r.status == 1 { XCTAssertTrue(r.lastErrorLine.contains("domain '\(guest)' is"), r.err) }
        let copies = try runningCopies()
        XCTAssertEqual(copies.count, 1, "running on \(copies)")
        XCTAssertEqual(copies, r.status == 0 ? [b] : [a], "migscope's outcome matches where the guest runs")
        XCTAssertNotNil(try listedRun(dir + "/r.sqlite")["status"])
    }

    /// A guest that dies on the destination after its migration (as QEMU's crash under TCG makes
    /// it do) ends the recording's tail with it; the run is failed with the reason, migscope exits 1.
    func testAGuestThatDiesAfterItsMigrationEndsTheTailAndTheRunSaysWhy() async throws {
        let db = dir + "/r.sqlite"
        let m = try startMigrate(["--p2p", "--live", "--record", "--db", db, "--baseline", "3", "--tail", "120", "--pause-after-rounds", "2"])
        try await waitUntil("the guest runs on host B alone", timeout: .seconds(120)) { try self.runningCopies() == [self.b] && !self.hasCopy(self.a) }
        let destroyed = ContinuousClock.now
        _ = try virsh(b, ["destroy", guest])
        let r = try await m.finish(within: .seconds(60))
        XCTAssertLessThan(ContinuousClock.now - destroyed, .seconds(20), "the 120 s tail ended with the guest")
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.lastErrorLine.contains("the guest stopped running") && r.lastErrorLine.contains("after its migration completed"), r.err)
        XCTAssertTrue(r.lastErrorLine.contains("keeps what was recorded until then"), r.err)
        XCTAssertTrue(r.lastErrorLine.contains("runs on neither"), r.err)
        XCTAssertFalse(try hasCopy(a) || hasCopy(b), "virsh lists the guest nowhere")
        let run = try listedRun(db)
        XCTAssertEqual(run["status"] as? String, "failed")
        XCTAssertTrue((run["error"] as? String ?? "").contains("stopped running"), "\(run)")
    }

    /// Stall detection: pre-copy of this guest never converges on the shared link, so the
    /// completion timeout (at least one GiB's worth: 12 s here) ends it, by abort or by pausing.
    func testAStalledMigrationIsAbortedOrFinishedByPausingAsAsked() async throws {
        let db = dir + "/r.sqlite"
        let aborted = try await startMigrate(["--p2p", "--live", "--record", "--db", db, "--baseline", "3", "--tail", "2",
                                               "--completion-timeout-per-gib", "12", "--abort-after", "120"]).finish(within: .seconds(120))
        XCTAssertEqual(aborted.status, 1, aborted.err)
        XCTAssertTrue(aborted.lastErrorLine.contains("not complete within 12.0 s") && aborted.lastErrorLine.contains("on the source"), aborted.err)
        try await waitUntil("the guest runs on host A alone after the abort") { try self.runningCopies() == [self.a] && !self.hasCopy(self.b) }
        let run = try listedRun(db)
        XCTAssertEqual(run["status"] as? String, "aborted", "\(run)")
        let events = try migscope(["export", "\(run["id"] ?? 0)", "--db", db, "--out", dir + "/export"])
        XCTAssertEqual(events.status, 0, events.err)
        XCTAssertTrue(try String(contentsOfFile: dir + "/export/events.csv", encoding: .utf8).contains("stall-detected"))

        let paused = try await startMigrate(["--p2p", "--live", "--completion-timeout-per-gib", "12", "--on-stall", "pause", "--abort-after", "120"])
            .finish(within: .seconds(150))
        XCTAssertEqual(paused.status, 0, paused.err)
        XCTAssertTrue(paused.err.contains("migration stalled: not complete within 12.0 s") && paused.err.contains("guest paused to force completion"), paused.err)
        try await waitUntil("the guest runs on host B alone after the forced stop-and-copy") { try self.runningCopies() == [self.b] && !self.hasCopy(self.a) }
    }

    func testAMigscopeKilledMidRecordingLeavesAnIncompleteRunThatExportsAndReports() async throws {
        let db = dir + "/r.sqlite"
        let m = try startMigrate(["--p2p", "--live", "--record", "--db", db, "--baseline", "3", "--pause-after-rounds", "8"])
        try await waitForIteration(2)
        let killedAt = Date()
        kill(m.process.processIdentifier, SIGKILL)
        _ = try await m.finish(within: .seconds(10))
        // The source daemon drives a peer-to-peer job on; the operator stops it, and the guest
        // stays where it was.
        let aborted = try migscope(["abort", guest, "--on", a.libvirtURI])
        XCTAssertEqual(aborted.status, 0, aborted.out + aborted.err)
        try await waitUntil("the guest runs on host A alone after the job is aborted") { try self.runningCopies() == [self.a] }

        let run = try listedRun(db)
        XCTAssertEqual(run["status"] as? String, "recording", "listed incomplete")
        let id = try XCTUnwrap(run["id"] as? Int)
        let exported = try migscope(["export", "\(id)", "--db", db, "--out", dir + "/export"])
        XCTAssertEqual(exported.status, 0, exported.err)
        let samples = try String(contentsOfFile: dir + "/export/samples.csv", encoding: .utf8)
        let json = try migscope(["export", "\(id)", "--db", db, "--out", dir + "/json", "--format", "json"])
        XCTAssertEqual(json.status, 0, json.err)
        XCTAssertGreaterThan(samples.split(separator: "\n").count, 10)
        // Samples reach to within one commit interval (1 s) of the kill, plus what a loaded
        // 2-core machine adds to a commit (2.1 s seen in CI); without periodic commits the gap
        // would be the whole recording.
        let stored = try ResultsStore(path: db).run(Int64(id))
        let lastT = try XCTUnwrap(stored.trace.samples.map(\.t).max())
        let lastSample = stored.info.anchor.addingTimeInterval(lastT)
        XCTAssertLessThan(killedAt.timeIntervalSince(lastSample), 3.0, "the last committed sample is \(killedAt.timeIntervalSince(lastSample)) s before the kill")
        let report = try migscope(["report", "\(id)", "--db", db, "--out", dir + "/report"])
        XCTAssertEqual(report.status, 0, report.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/report/run-\(id)/timeline.png"))
    }

    /// A peer-to-peer job outlives a killed migscope (the source daemon drives it): `jobs` lists it
    /// as watched by nobody, `migrate` says it is in progress, `abort` stops it, the guest runs
    /// once, and a new migration succeeds.
    func testAPeerToPeerMigrationLeftByAKilledMigscopeIsListedAbortedAndMigratesAgain() async throws {
        let m = try startMigrate(["--p2p", "--live"])
        try await waitForIteration(2)
        kill(m.process.processIdentifier, SIGKILL)
        _ = try await m.finish(within: .seconds(10))

        let jobs = try listedJobs()
        let outgoing = try XCTUnwrap(jobs.first { $0["direction"] as? String == "outgoing" }, "jobs: \(jobs)")
        XCTAssertEqual(outgoing["domain"] as? String, guest)
        XCTAssertEqual(outgoing["host"] as? String, a.libvirtURI)
        XCTAssertNil(outgoing["migscope_pid"], "nobody watches it: \(outgoing)")
        XCTAssertTrue((outgoing["watcher"] as? String)?.hasPrefix("nobody (migscope pid \(m.process.processIdentifier)") == true, "\(outgoing)")
        XCTAssertEqual(outgoing["peer"] as? String, b.libvirtURI, "the journal knows where it goes")
        XCTAssertTrue(jobs.contains { $0["direction"] as? String == "incoming" && $0["host"] as? String == b.libvirtURI }, "the arriving copy on B: \(jobs)")

        let again = try migscope(["migrate", guest, "--from", a.libvirtURI, "--to", b.libvirtURI, "--p2p"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.err.contains("already in progress") && again.err.contains("no migscope attached") && again.err.contains("migscope abort \(guest)"), again.err)

        let aborted = try migscope(["abort", guest, "--on", a.libvirtURI])
        XCTAssertEqual(aborted.status, 0, aborted.out + aborted.err)
        XCTAssertTrue(aborted.out.contains("runs on \(a.libvirtURI)"), aborted.out)
        try await waitUntil("the guest runs on host A alone after the abort") { try self.runningCopies() == [self.a] && !self.hasCopy(self.b) }
        XCTAssertEqual(try listedJobs().count, 0, "no job is left")

        try await migratesAgain()
    }

    /// A client-managed migration whose migscope is killed: libvirt's source daemon cancels it when
    /// the client's connections close (measured here; the README says so). Whatever it did, `jobs`
    /// agrees with virsh, the guest runs once, and a new migration succeeds.
    func testAClientManagedMigrationWhoseMigscopeIsKilledLeavesTheGuestRunningOnce() async throws {
        let m = try startMigrate(["--live"])
        try await waitForIteration(2)
        kill(m.process.processIdentifier, SIGKILL)
        _ = try await m.finish(within: .seconds(10))
        try await Task.sleep(for: .seconds(3))
        if let outgoing = try listedJobs().first(where: { $0["direction"] as? String == "outgoing" }) {
            XCTAssertNil(outgoing["migscope_pid"], "\(outgoing)")
            let aborted = try migscope(["abort", guest, "--on", a.libvirtURI])
            XCTAssertEqual(aborted.status, 0, aborted.out + aborted.err)
        }
        try await waitUntil("the guest runs on host A alone") { try self.runningCopies() == [self.a] && !self.hasCopy(self.b) }
        XCTAssertEqual(try listedJobs().count, 0, "no job is left")
        try await migratesAgain()
    }

    /// `recover` removes only a provable leftover: a copy paused by a user beside the running one is
    /// reported and left where it is (virsh on both hosts says so), and once it is gone, nothing is
    /// left to do.
    func testRecoverReportsACopyItCannotProveALeftoverAndTouchesNothing() async throws {
        // A second copy of the guest, paused from its start, on host B (without the control pipe,
        // which is the running copy's).
        let xml = try virsh(a, ["dumpxml", guest])
            .replacingOccurrences(of: "<console type='pipe'>[\\s\\S]*?</console>", with: "", options: .regularExpression)
        let file = dir + "/copy.xml"
        try xml.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try virsh(b, ["create", file, "--paused"])
        defer { _ = try? virsh(b, ["destroy", guest]) }
        XCTAssertTrue(try virsh(b, ["domstate", "--reason", guest]).contains("paused (user)"))

        let r = try migscope(["recover", guest, "--on", a.libvirtURI, "--on", b.libvirtURI])
        XCTAssertEqual(r.status, 1, r.out + r.err)
        XCTAssertTrue(r.out.contains("left as it is"), r.out)
        XCTAssertEqual(try runningCopies(), [a])
        XCTAssertTrue(try hasCopy(b), "the paused copy is still there: nothing was guessed")

        _ = try virsh(b, ["destroy", guest])
        let clean = try migscope(["recover", guest, "--on", a.libvirtURI, "--on", b.libvirtURI])
        XCTAssertEqual(clean.status, 0, clean.out + clean.err)
        XCTAssertTrue(clean.out.contains("nothing is left"), clean.out)
    }

    func testSIGTERMDuringAMigrationAbortsItLikeCtrlC() async throws {
        let m = try startMigrate(["--p2p", "--live", "--record", "--db", dir + "/r.sqlite", "--pause-after-rounds", "8"])
        try await waitForIteration(2)
        kill(m.process.processIdentifier, SIGTERM)
        let r = try await m.finish(within: .seconds(60))
        XCTAssertEqual(r.status, 130, r.err)
        XCTAssertTrue(r.lastErrorLine.contains("interrupted; domain '\(guest)' is on the source"), r.err)
        XCTAssertEqual(try runningCopies(), [a])
        XCTAssertEqual(try listedRun(dir + "/r.sqlite")["status"] as? String, "aborted")
    }

    func testSIGTERMDuringABatchStopsItWithTheGuestRunningOnce() async throws {
        let plan = dir + "/plan.yaml"
        try """
            name: fault-batch
            hosts: lab
            guest: {memory_mib: 128, disk_mib: 512}
            workload: {mode: buffered, block_size_kib: 1024, read_mib: 0}
            matrix: {mode: [live], link_rate: [100mbit], link: [shared], pause_after_rounds: [8]}
            baseline_s: 2
            tail_s: 2
            """.write(toFile: plan, atomically: true, encoding: .utf8)
        let m = try start(["batch", plan, "--db", dir + "/b.sqlite", "--out", dir + "/report"])
        try await waitForIteration(2, timeout: .seconds(180))
        kill(m.process.processIdentifier, SIGTERM)
        let r = try await m.finish(within: .seconds(60))
        XCTAssertEqual(r.status, 130, r.err)
        XCTAssertTrue(r.err.contains("the guest is"), r.err)
        XCTAssertEqual(try runningCopies(), [a])
        let runs = try migscope(["runs", "--db", dir + "/b.sqlite", "--json"])
        XCTAssertEqual(runs.status, 0, runs.err)
    }

    /// A guest's console is a tenant's: 1e30, nan, inf and a 10 MiB line without a newline are
    /// dropped and counted, and the run completes as if they were not there.
    func testUntrueAndOverlongGuestLinesAreDroppedAndTheRunCompletes() async throws {
        try await Lab.startGuest(on: .hostA, memoryMiB: 128, workload: Workload(mode: .direct, blockSizeKiB: 1024, amountMiB: 0))
        let kernelBefore = LabChecks.consoleEnd()
        let db = dir + "/r.sqlite"
        let m = try startMigrate(["--p2p", "--live", "--record", "--db", db, "--baseline", "6", "--tail", "3", "--pause-after-rounds", "8"])
        // Written once migscope follows the console (it reads what is written after it starts).
        try await waitUntil("migscope records", timeout: .seconds(30)) { ((try? String(contentsOfFile: m.err, encoding: .utf8)) ?? "").contains("recording into") }
        let console = try XCTUnwrap(FileHandle(forWritingAtPath: LabLayout.reportLog))
        console.seekToEndOfFile()
        for line in ["MIGSCOPE done read_total=1e30 seconds=5", "MIGSCOPE rate seq=1 up=1 read_bps=nan write_bps=0",
                     "MIGSCOPE rate seq=2 up=2 read_bps=inf write_bps=0", "MIGSCOPE rate seq=3 up=3 read_bps=-1 write_bps=0"] {
            console.write(Data((line + "\n").utf8))
        }
        console.write(Data(repeating: UInt8(ascii: "x"), count: 10 << 20))
        console.write(Data("\n".utf8))
        try console.close()
        let r = try await m.finish(within: .seconds(240))
        let run = try listedRun(db)
        let summary = try XCTUnwrap(run["summary"] as? [String: Any])
        XCTAssertEqual(summary["guest_lines_dropped"] as? Int, 5, "\(summary)")
        XCTAssertNotNil(summary["io_during_ratio"], "the guest's true lines were still measured")
        if r.status != 0 || (try? runningCopies()) != [b] {
            try LabFixture.skipIfTheGuestCrashed(since: kernelBefore, after: "on hostB after the completed migration (the run says: \(run["error"] ?? "-"))")
        }
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(run["status"] as? String, "completed")
        try await waitUntil("the guest runs on host B alone", timeout: .seconds(30)) { try self.runningCopies() == [self.b] }
    }

    // MARK: helpers (the guest's place comes from virsh, never from migscope)

    /// `migscope jobs --json` on both hosts.
    func listedJobs() throws -> [[String: Any]] {
        let r = try migscope(["jobs", "--on", a.libvirtURI, "--on", b.libvirtURI, "--json"])
        guard r.status == 0, let jobs = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]] else {
            throw LabError("migscope jobs failed (\(r.status)): \(r.err)")
        }
        return jobs.filter { $0["domain"] as? String == guest }
    }

    /// Whether virsh lists the guest as active on `h` (running or paused).
    func hasCopy(_ h: LabMachine) throws -> Bool {
        let state = try virsh(h, ["domstate", guest]).trimmingCharacters(in: .whitespacesAndNewlines)
        return state == "running" || state == "paused"
    }

    /// A new migration of the guest from A to B completes, and it then runs on B alone.
    func migratesAgain() async throws {
        let r = try migscope(["migrate", guest, "--from", a.libvirtURI, "--to", b.libvirtURI, "--p2p", "--live", "--pause-after-rounds", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        try await waitUntil("the guest runs on host B alone after a new migration") { try self.runningCopies() == [self.b] && !self.hasCopy(self.a) }
    }

    func virsh(_ h: LabMachine, _ args: [String]) throws -> String {
        try Command.run(["virsh", "-c", h.libvirtURI] + args, check: false, timeout: 30).stdout
    }

    /// The hosts on which virsh says the guest is running.
    func runningCopies() throws -> [LabMachine] {
        try [a, b].filter { h in
            guard HypervisorDaemon.pid(h) != nil else { return false }
            return try virsh(h, ["domstate", guest]).trimmingCharacters(in: .whitespacesAndNewlines) == "running"
        }
    }

    /// Waits until the source's job (virsh domjobinfo) is in pre-copy iteration `n`.
    func waitForIteration(_ n: Int, timeout: Duration = .seconds(120)) async throws {
        try await waitUntil("pre-copy reaches round \(n)", timeout: timeout) {
            let info = try self.virsh(self.a, ["domjobinfo", self.guest])
            let iteration = info.split(separator: "\n").first { $0.hasPrefix("Iteration:") }
                .flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") }
            return (iteration ?? 0) >= n
        }
    }

    func waitUntil(_ what: String, timeout: Duration = .seconds(90), _ condition: @escaping () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        let states = [a, b].map { h in "\(h.rawValue): \(((try? virsh(h, ["domstate", guest])) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines))" }
        throw LabError("timed out waiting until \(what) (virsh domstate: \(states.joined(separator: ", ")))")
    }

    func switchPort(_ h: LabMachine, up: Bool) throws {
        try Command.run(LabNetwork.inNamespace(LabLayout.switchNamespace, ["ip", "link", "set", h.switchPort, up ? "up" : "down"]))
    }

    final class Running: @unchecked Sendable {
        let process: Process
        let out: String, err: String
        init(process: Process, out: String, err: String) {
            self.process = process
            self.out = out
            self.err = err
        }

        struct Result {
            var status: Int32
            var err: String
            var lastErrorLine: String { err.split(separator: "\n").last { $0.hasPrefix("migscope: error:") }.map(String.init) ?? "" }
        }

        func finish(within limit: Duration) async throws -> Result {
            let deadline = ContinuousClock.now + limit
            while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
            if process.isRunning {
                process.interrupt()
                throw LabError("migscope did not end within \(limit); interrupted it")
            }
            return Result(status: process.terminationStatus, err: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        }
    }

    func start(_ args: [String]) throws -> Running {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ProcessRun.migscope)
        p.arguments = args
        let out = dir + "/stdout-\(UUID().uuidString)", err = dir + "/stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: err)
        try p.run()
        return Running(process: p, out: out, err: err)
    }

    func startMigrate(_ extra: [String]) throws -> Running {
        try start(["migrate", guest, "--from", a.libvirtURI, "--to", b.libvirtURI] + extra)
    }

    func migscope(_ args: [String]) throws -> ProcessRun { try ProcessRun.run(ProcessRun.migscope, args) }

    /// The database's only run, as `migscope runs --json` lists it.
    func listedRun(_ db: String) throws -> [String: Any] {
        let r = try migscope(["runs", "--db", db, "--json"])
        guard r.status == 0, let runs = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]], let run = runs.last else {
            throw LabError("migscope runs --db \(db) failed (\(r.status)): \(r.err)")
        }
        return run
    }
}
