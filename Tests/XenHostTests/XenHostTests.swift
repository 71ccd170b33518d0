import Foundation
import MigscopeCore
import MigscopeStore
import XCTest

/// migscope's libxl backend on a real Xen 4.17 host: the image from scripts/xen-host is booted
/// under QEMU, scenarios.sh migrates a PV guest to localhost through migscope in its dom0 (live
/// with a memory-dirtying guest, non-live with a reading guest, live over TCP, and live with the
/// receiver killed mid-stream), and these tests check what came back.
///
/// One boot serves the whole class (a few minutes under TCG). MIGSCOPE_XEN_RESULTS=DIR checks
/// results already collected by scripts/xen-host/run-tests.sh DIR instead of booting.
final class XenHostTests: XCTestCase {
    static let guest = "migscope-xen-guest"

    func testALiveMigrationOfADirtyingGuestLeavesItRunningUnderItsName() throws {
        let r = try XenHostResults.shared()
        try r.assertSucceeded("live-dirty")
        try r.assertAlive("live-dirty")
    }

    func testRecordedRoundsMatchLibxenguestsProgressCallbacks() throws {
        let r = try XenHostResults.shared()
        try r.assertSucceeded("live-dirty")
        let callbacks = try r.progress("live-dirty")
        let rounds = try r.storedRun("live-dirty").trace.rounds
        let iterations = callbacks.iterations
        XCTAssertEqual(rounds.map(\.number), iterations.map(\.number), "one recorded round per 'Frames iteration N'")
        for (round, it) in zip(rounds, iterations) {
            XCTAssertEqual(round.bytesSent, it.maxDone * 4096, "round \(round.number): bytes sent are its pages")
            XCTAssertEqual(round.remainingBytesAtStart, it.total * 4096, "round \(round.number): what it had to send")
            XCTAssertEqual(round.stopAndCopy, it.afterSuspend, "round \(round.number): stop-and-copy iff after 'Domain now suspended'")
        }
        let precopy = rounds.filter { !$0.stopAndCopy }
        XCTAssertGreaterThanOrEqual(precopy.count, 2, "a guest dirtying 64 MiB needs several pre-copy rounds")
        XCTAssertEqual(rounds.filter(\.stopAndCopy).count, 1)
        XCTAssertEqual(rounds.last?.stopAndCopy, true, "the stop-and-copy round is the last")
        XCTAssertEqual(rounds.first?.bytesSent, 256 << 20, "round 0 sends all of the guest's 256 MiB")
        // What a round left dirty is what the next one sent.
        for (a, b) in zip(rounds, rounds.dropFirst()) {
            XCTAssertEqual(a.pagesDirtied, b.remainingBytesAtStart.map { $0 / 4096 })
        }
        let summary = try XCTUnwrap(try r.storedRun("live-dirty").summary)
        XCTAssertEqual(summary.rounds, rounds.count)
        let json = try JSONSerialization.jsonObject(with: Data(try r.text("live-dirty.json").utf8)) as? [String: Any]
        XCTAssertEqual(json?["rounds"] as? Int, rounds.count, "migrate --json counts the same rounds")
        XCTAssertEqual(json?["outcome"] as? String, "completed")
        XCTAssertEqual(json?["location"] as? String, "destination")
    }

    func testANonLiveMigrationOfAReadingGuestIsOneStopAndCopyRoundWithDiskCountersFromDom0() throws {
        let r = try XenHostResults.shared()
        try r.assertSucceeded("nonlive-read")
        try r.assertAlive("nonlive-read")
        let run = try r.storedRun("nonlive-read")
        XCTAssertFalse(run.trace.rounds.isEmpty)
        XCTAssertTrue(run.trace.rounds.allSatisfy(\.stopAndCopy), "non-live: the guest is paused for the whole copy")
        let hostReads = run.trace.samples.filter { $0.series == .host && $0.readBytesPerSecond > 0 }
        XCTAssertFalse(hostReads.isEmpty, "the guest's reads show in dom0's vbd statistics")
        let guestLines = run.trace.samples.filter { $0.series == .guest && $0.readBytesPerSecond > 0 }
        XCTAssertFalse(guestLines.isEmpty, "the guest's own rate lines came through the Xen console log")
        let end = try XCTUnwrap(run.trace.firstEvent(.migrationCompleted)?.t)
        XCTAssertTrue(guestLines.contains { $0.t > end }, "the guest's lines go on after the migration (its --incoming console log is followed)")
    }

    func testAMigrationAbortedDuringPrecopyLeavesTheSourceRunning() throws {
        let r = try XenHostResults.shared()
        XCTAssertEqual(try r.text("aborted.rc").trimmingCharacters(in: .whitespacesAndNewlines), "1")
        let stderr = try r.text("aborted.stderr")
        XCTAssertTrue(stderr.contains("aborted after 5"), stderr)
        XCTAssertTrue(stderr.contains("is on the source"), stderr)
        try r.assertAlive("aborted")
        let list = try r.text("final-xl-list.txt")
        XCTAssertFalse(list.contains("--incoming") || list.contains("--migratedaway"), list)
        XCTAssertEqual(try r.storedRun("aborted").info.status, .aborted)
    }

    func testALiveMigrationOverTCPToAListeningReceiver() throws {
        let r = try XenHostResults.shared()
        try r.assertSucceeded("live-tcp")
        try r.assertAlive("live-tcp")
        let receiver = try r.text("tcp-receiver.log")
        XCTAssertTrue(receiver.contains("'\(Self.guest)'") && receiver.contains("migrated in from 127.0.0.1"), receiver)
    }

    func testAReceiverKilledDuringTheTransferLeavesTheSourceRunning() throws {
        let r = try XenHostResults.shared()
        XCTAssertNotNil(try? r.text("killed-when.txt"), "the receiver was never killed; see killed.stderr")
        XCTAssertEqual(try r.text("killed.rc").trimmingCharacters(in: .whitespacesAndNewlines), "1")
        let stderr = try r.text("killed.stderr")
        XCTAssertTrue(stderr.contains("the source was resumed: domain '\(Self.guest)' runs on this host"), stderr)
        try r.assertAlive("killed")
        let list = try r.text("final-xl-list.txt")
        XCTAssertFalse(list.contains("--incoming") || list.contains("--migratedaway"), list)
        let run = try r.storedRun("killed")
        XCTAssertEqual(run.info.status, .failed)
        XCTAssertGreaterThan(run.trace.samples.count, 0, "what was sampled before the failure is kept")
    }
}

extension XenHostTests {
    func testALiveMigrationWithTheReceiverStartedOverSSH() throws {
        let r = try XenHostResults.shared()
        try r.assertSucceeded("live-ssh")
        try r.assertAlive("live-ssh")
        XCTAssertFalse(try r.storedRun("live-ssh").trace.rounds.isEmpty)
    }

    func testDomainsListsTheXenHostsDomainsThroughLibxl() throws {
        let text = try XenHostResults.shared().text("domains.txt")
        let guest = text.split(separator: "\n").first { $0.contains(" \(Self.guest) ") }
        XCTAssertNotNil(guest, text)
        XCTAssertTrue(guest?.contains("running") == true, text)
        XCTAssertTrue(text.contains("Domain-0"), text)
    }

    func testAPlanRunsOnXenThroughBatchWithItsReport() throws {
        let r = try XenHostResults.shared()
        try r.assertSucceeded("batch")
        try r.assertAlive("batch")
        let store = try ResultsStore(path: r.dir.appendingPathComponent("batch.sqlite").path)
        let runs = try store.runs().filter { $0.plan == "xen-localhost" }
        XCTAssertEqual(runs.map(\.status), [.completed, .completed])
        XCTAssertEqual(Set(runs.map(\.mode)), [.live, .nonLive])
        for listed in runs {
            let run = try store.run(listed.id)
            XCTAssertEqual(run.info.backend, "libxl")
            XCTAssertFalse(run.trace.rounds.isEmpty, "run \(listed.id) has its rounds")
            XCTAssertEqual(run.trace.rounds.last?.stopAndCopy, true)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.dir.appendingPathComponent("batch-report/report.html").path), "the plan's report was written")
    }
}

/// The results scenarios.sh left, collected once per test process.
final class XenHostResults: @unchecked Sendable {
    let dir: URL
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: Result<XenHostResults, any Error>?

    init(dir: URL) { self.dir = dir }

    static func shared() throws -> XenHostResults {
        try lock.withLock {
            if cached == nil { cached = Result { try collect() } }
            return try cached!.get()
        }
    }

    private static func collect() throws -> XenHostResults {
        if let given = ProcessInfo.processInfo.environment["MIGSCOPE_XEN_RESULTS"], !given.isEmpty {
            return XenHostResults(dir: URL(fileURLWithPath: given))
        }
        guard getuid() == 0 else { throw XCTSkip("the Xen host tests need root (debootstrap, QEMU); run them as root") }
        for tool in ["/usr/bin/qemu-system-x86_64", "/usr/sbin/debootstrap"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("the Xen host tests need \(tool); run scripts/install-deps.sh")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("migscope-xen-results-\(getpid())")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [root.appendingPathComponent("scripts/xen-host/run-tests.sh").path, out.path]
        p.currentDirectoryURL = root
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 || FileManager.default.fileExists(atPath: out.appendingPathComponent("run.log").path) else {
            throw XenHostFailure("booting the Xen host failed (exit \(p.terminationStatus)); see \(out.path)/console.log")
        }
        return XenHostResults(dir: out)
    }

    func text(_ name: String) throws -> String {
        guard let t = try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8) else {
            throw XenHostFailure("no \(name) in \(dir.path): that scenario did not run; see run.log and console.log there")
        }
        return t
    }

    func assertSucceeded(_ tag: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let rc = (try? text("\(tag).rc"))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard rc == "0" else {
            let why = (try? text("\(tag).stderr"))?.split(separator: "\n").suffix(3).joined(separator: " | ") ?? "no output"
            throw XenHostFailure("\(tag): migscope exited \(rc ?? "never ran") (\(why)); results in \(dir.path)")
        }
    }

    /// The guest answers to its own name, is not paused, and printed new rate lines afterwards.
    func assertAlive(_ tag: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let alive = try text("\(tag)-alive.txt")
        let fields = Dictionary(uniqueKeysWithValues: alive.split(whereSeparator: \.isWhitespace).compactMap { pair -> (String, String)? in
            let kv = pair.split(separator: "=", maxSplits: 1)
            return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
        })
        let state = fields["state"] ?? "absent"
        XCTAssertNotEqual(state, "absent", "\(tag): no domain named \(XenHostTests.guest) afterwards", file: file, line: line)
        XCTAssertFalse(state.contains("p"), "\(tag): the guest is paused (\(state))", file: file, line: line)
        let before = Int(fields["lines_before"] ?? "") ?? 0, after = Int(fields["lines_after"] ?? "") ?? 0
        XCTAssertGreaterThan(after, before, "\(tag): the guest printed nothing in 10 s after the migration", file: file, line: line)
    }

    func storedRun(_ tag: String) throws -> StoredRun {
        let stderr = try text("\(tag).stderr")
        guard let range = stderr.range(of: #"recorded run (\d+)"#, options: .regularExpression),
              let id = Int64(stderr[range].split(separator: " ").last ?? "") else {
            throw XenHostFailure("\(tag): migscope did not say which run it recorded: \(stderr.suffix(300))")
        }
        return try ResultsStore(path: dir.appendingPathComponent("results.sqlite").path).run(id)
    }

    /// libxenguest's progress as `--progress-log` wrote it: `t context "doing" percent done total`.
    func progress(_ tag: String) throws -> ProgressLog {
        try ProgressLog(try text("\(tag)-progress.log"))
    }
}

struct ProgressLog {
    struct Iteration { var number: Int; var maxDone: UInt64; var total: UInt64; var afterSuspend: Bool }
    var iterations: [Iteration] = []

    init(_ text: String) throws {
        var suspended = false
        for line in text.split(separator: "\n") {
            let quoted = line.split(separator: "\"")
            guard quoted.count == 3 else { continue }
            let doing = String(quoted[1])
            let numbers = quoted[2].split(separator: " ").compactMap { UInt64($0) }
            if doing.hasPrefix("Domain now suspended") { suspended = true; continue }
            guard doing.hasPrefix("Frames iteration "), let n = Int(doing.dropFirst("Frames iteration ".count)), numbers.count == 3 else { continue }
            if iterations.last?.number == n {
                iterations[iterations.count - 1].maxDone = max(iterations[iterations.count - 1].maxDone, numbers[1])
            } else {
                iterations.append(Iteration(number: n, maxDone: numbers[1], total: numbers[2], afterSuspend: suspended))
            }
        }
        if iterations.isEmpty { throw XenHostFailure("the progress log has no 'Frames iteration' lines:\n\(text.prefix(400))") }
    }
}

struct XenHostFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The faults of a Xen migration, on the real host (scenarios 8 to 11 of scenarios.sh).
extension XenHostTests {
    func testASenderWithAnotherKeyIsRefusedAndNothingIsRestored() throws {
        let r = try XenHostResults.shared()
        XCTAssertEqual(try r.text("wrongkey.rc").trimmingCharacters(in: .whitespacesAndNewlines), "1")
        let stderr = try r.text("wrongkey.stderr")
        XCTAssertTrue(stderr.contains("refused this host's migration key"), stderr)
        XCTAssertTrue(try r.text("wrongkey-receiver.log").contains("without the migration key was refused"))
        XCTAssertFalse(try r.text("wrongkey-xl-list.txt").contains("--incoming"), "the receiver restored something")
        try r.assertAlive("wrongkey")
    }

    func testAFakeReceiverWithoutTheKeyGetsNothingAndTheSourceLives() throws {
        let r = try XenHostResults.shared()
        if let why = try? r.text("fake-skipped.txt") { throw XCTSkip(why) }
        XCTAssertEqual(try r.text("fake.rc").trimmingCharacters(in: .whitespacesAndNewlines), "1")
        let fakeErr = try r.text("fake.stderr")
        XCTAssertTrue(fakeErr.contains("did not prove it holds the migration key"), fakeErr)
        let received = try r.text("fake-received.txt")
        XCTAssertFalse(received.contains("migscope-xen 1"), "the sender sent its header to a stranger: \(received)")
        XCTAssertTrue(received.hasPrefix("auth "), received)
        try r.assertAlive("fake")
    }

    func testAStoppedReceiverAndCtrlCLeaveTheGuestRunningHere() throws {
        let r = try XenHostResults.shared()
        XCTAssertNotNil(try? r.text("stopped-when.txt"), "the receiver was never stopped; see stopped.stderr")
        XCTAssertEqual(try r.text("stopped.rc").trimmingCharacters(in: .whitespacesAndNewlines), "130")
        let stderr = try r.text("stopped.stderr")
        XCTAssertTrue(stderr.contains("runs on this host") || stderr.contains("is on the source"), stderr)
        try r.assertAlive("stopped")
    }

    func testAKilledMigscopeLeavesAJournalThatXenRecoverResolves() throws {
        let r = try XenHostResults.shared()
        XCTAssertNotNil(try? r.text("sigkill-when.txt"), "migscope was never killed; see sigkill.stderr")
        XCTAssertTrue(try r.text("sigkill-before-xl-list.txt").contains("--migratedaway"), "the source was left renamed, as a dead migscope leaves it")
        XCTAssertTrue(try r.text("sigkill-journal.txt").contains("\(Self.guest).json"))
        XCTAssertEqual(try r.text("sigkill-refused.rc").trimmingCharacters(in: .whitespacesAndNewlines), "1")
        let refused = try r.text("sigkill-refused.stderr"), recovered = try r.text("sigkill-recover.txt")
        XCTAssertTrue(refused.contains("run 'migscope xen-recover \(Self.guest)' first"), refused)
        XCTAssertEqual(try r.text("sigkill-recover.rc").trimmingCharacters(in: .whitespacesAndNewlines), "0", recovered)
        XCTAssertTrue(recovered.contains("resumed on this host"), recovered)
        let after = try r.text("sigkill-after-xl-list.txt")
        XCTAssertFalse(after.contains("--migratedaway") || after.contains("--incoming"), after)
        try r.assertAlive("sigkill")
    }
}
