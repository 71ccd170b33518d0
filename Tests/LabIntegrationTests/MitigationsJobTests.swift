import Foundation
import MigscopeCore
@testable import MigscopeLab
import MigscopeStore
import XCTest

/// `bash scripts/reproduce.sh --mitigations --quick`, as a user runs it after the main job (from the
/// repository root, default database and report folder). scripts/test.sh runs it in stage 3 and
/// names its output folder in MIGSCOPE_MITIGATIONS_JOB; these tests read what its real lab
/// migrations recorded. Where the guest ends up is asked of virsh on both hosts.
final class MitigationsJobTests: XCTestCase {
    var jobFolder: String!
    var root: String { MainJobTests.repositoryRoot }
    var reportFolder: String { root + "/results/mitigations-quick-report" }
    var store: ResultsStore!
    /// The plan's runs by their cell's mitigation and reader ("io-floor:50 direct").
    var runs: [String: StoredRun] = [:]

    override func setUpWithError() throws {
        guard let folder = ProcessInfo.processInfo.environment["MIGSCOPE_MITIGATIONS_JOB"] else {
            throw XCTSkip("the mitigations job runs from scripts/test.sh (stage 3: bash scripts/reproduce.sh --mitigations --quick, as root), which then runs these checks")
        }
        jobFolder = folder
        store = try ResultsStore(path: root + "/results/migscope-results.sqlite")
        for listing in try store.runs() where listing.plan == "mitigations-quick" {
            let run = try store.run(listing.id)
            let words = (listing.cell ?? "").split(separator: " ")
            func value(_ key: String) -> String { words.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) } ?? "none" }
            runs[value("mitigation") + " " + value("read")] = run
        }
    }

    func run(_ key: String) throws -> StoredRun {
        try XCTUnwrap(runs[key], "no run of cell '\(key)'; the plan's runs: \(runs.keys.sorted())")
    }

    func testTheCommandExitedZeroAndItsReportHasTheEfficiencyTableAndTheTradeoffFigure() throws {
        let status = try String(contentsOfFile: jobFolder + "/status", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let output = (try? String(contentsOfFile: jobFolder + "/output.log", encoding: .utf8)) ?? ""
        XCTAssertEqual(status, "0", "reproduce --mitigations --quick exited \(status):\n" + output.split(separator: "\n").suffix(15).joined(separator: "\n"))
        XCTAssertTrue(output.contains("efficiency"), "the efficiency table is printed")
        XCTAssertEqual(runs.count, 6, "one run per cell: \(runs.keys.sorted())")
        XCTAssertTrue(runs.values.allSatisfy { $0.info.status == .completed }, runs.mapValues(\.info.status).description)
        let png = try XCTUnwrap(FileManager.default.contents(atPath: reportFolder + "/tradeoff.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let table = try String(contentsOfFile: reportFolder + "/efficiency.csv", encoding: .utf8)
        XCTAssertEqual(table.split(separator: "\n").count, 7, table)
        for r in runs.values {
            let e = try XCTUnwrap(r.summary?.efficiency, "run \(r.info.id ?? 0) has no efficiency")
            // No run beats the link: the frontier is a physical limit.
            XCTAssertLessThanOrEqual(e.efficiency, 1.02, "run \(r.info.id ?? 0) \(r.info.cell ?? "")")
        }
    }

    func testThePacerHeldTheFloorAndRecordedEveryChangeOfTheCap() throws {
        let r = try run("io-floor:50 direct")
        // Held: the guest's mean read rate during the migration, its stop included, within the
        // issue's 5 points of the floor (measured here: 49.8-50.5 % in four runs). Without the
        // pacer this link gave it 37-48 %.
        let ratio = try XCTUnwrap(r.summary?.ioDuringRatio)
        let events = r.trace.events.filter { $0.kind == .speedCapSet }
        // Above the floor by more than 5 points only when the stream could not use what the guest
        // left it: the pacer lifted its cap because it stayed short of it (a CI run, 2026-12-07:
        // the stream at 4.8 MiB/s under a 7 MiB/s cap, then uncapped, and the guest read 59 %).
        let streamShortOfItsCap = events.contains { $0.detail.contains("short of its cap") }
        XCTAssertGreaterThanOrEqual(ratio * 100, 45, "the guest read \(Int((ratio * 100).rounded())) % of its rate before")
        if !streamShortOfItsCap {
            XCTAssertLessThanOrEqual(ratio * 100, 55, "the guest read \(Int((ratio * 100).rounded())) % of its rate before, with the stream using its cap")
        }
        XCTAssertEqual(r.summary?.outcome, .completed, "the migration completed")
        XCTAssertFalse(events.isEmpty)
        // The series of caps in the job samples changes only where an event says it changed, to the
        // event's value (a lifted cap has none).
        var last: UInt64?? = .none
        for j in r.trace.jobSamples {
            let cap = j.progress.speedCapBytesPerSecond
            defer { last = .some(cap) }
            guard case .some(let previous) = last, previous != cap else { continue }
            let event = events.last { $0.t <= j.t }
            XCTAssertNotNil(event, "the cap became \(String(describing: cap)) at t=\(j.t) with no event before it")
            XCTAssertEqual(event?.facts.rateBytesPerSecond.map { UInt64($0) }, cap, "t=\(j.t)")
        }
    }

    func testStoragePriorityKeptTheGuestsIOHigherThanTheSameReaderWithout() throws {
        let none = try XCTUnwrap(try run("none direct").summary?.ioDuring)
        let prioritised = try run("storage-priority+stop:rounds=5 direct")
        let during = try XCTUnwrap(prioritised.summary?.ioDuring)
        XCTAssertGreaterThan(during, none * 1.2, "storage first: \(Int(during)) B/s during, without: \(Int(none)) B/s")
        XCTAssertEqual(prioritised.info.storagePriority, true)
        // The stop after 5 rounds only bounds it: the direct reader's pre-copy may converge before
        // (it did after 4 rounds in a CI run); either way it completes, and the policy, if it acted, kept its rule.
        XCTAssertNotNil(prioritised.trace.firstEvent(.migrationCompleted))
        if let stop = prioritised.trace.firstEvent(.stoppedByPolicy) { XCTAssertGreaterThanOrEqual(stop.facts.rounds ?? 0, 5, stop.detail) }
    }

    func testTheXenLikeStopEndedABufferedReadersPreCopyByItsRule() throws {
        let r = try run("stop:rounds=5 buffered")
        let policy = try XCTUnwrap(r.info.request.stopPolicy)
        let stop = try XCTUnwrap(r.trace.firstEvent(.stoppedByPolicy), "no stopped-by-policy event")
        let rounds = try XCTUnwrap(stop.facts.rounds)
        let sent = try XCTUnwrap(stop.facts.bytesSent)
        let memory = try XCTUnwrap(r.trace.jobSamples.compactMap(\.progress.memoryTotalBytes).last)
        XCTAssertTrue(rounds >= policy.rounds ?? .max || Double(sent) >= (policy.sentMultiple ?? .infinity) * Double(memory),
                      "stopped after \(rounds) rounds and \(sent) of \(memory) bytes: \(policy) not reached")
        XCTAssertTrue(r.summary?.convergence?.contains("stop policy") == true, r.summary?.convergence ?? "")
        XCTAssertNotNil(r.trace.firstEvent(.migrationCompleted))
    }

    func testAutoConvergeThrottledTheGuestAndTheThrottleWasRecorded() throws {
        let r = try run("auto-converge+cap:25% buffered")
        let throttle = r.trace.jobSamples.compactMap(\.progress.cpuThrottlePercent).max() ?? 0
        XCTAssertGreaterThan(throttle, 0, "no CPU throttle in \(r.trace.jobSamples.count) job samples")
        XCTAssertNotNil(r.trace.firstEvent(.migrationCompleted))
    }

    /// The plan's last run: the guest stays where post-copy took it.
    func testPostcopyCompletedItsSwitchIsRecordedAndTheGuestRunsOnTheDestinationOnly() throws {
        let r = try run("postcopy:round:1 buffered")
        XCTAssertNotNil(r.trace.firstEvent(.postcopyStarted))
        XCTAssertNotNil(r.trace.firstEvent(.migrationCompleted))
        XCTAssertTrue(r.summary?.convergence?.hasPrefix("post-copy") == true, r.summary?.convergence ?? "")
        let state = { (h: LabMachine) in
            (try? Command.run(["virsh", "-c", h.libvirtURI, "domstate", LabLayout.guestName], check: false, timeout: 30).stdout)?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        }
        // The guest ends the plan there: a kernel crash since (LabChecks.guestCrash) is QEMU's, not the plan's.
        if state(.hostB) != "running", state(.hostA) != "running",
           let line = LabChecks.lastGuestCrash(), r.trace.firstEvent(.migrationCompleted) != nil {
            throw XCTSkip("the guest's kernel crashed after the completed post-copy migration ('\(line)'): QEMU 7.2's virtio under TCG, see LabChecks.guestCrash")
        }
        XCTAssertEqual(state(.hostB), "running")
        XCTAssertNotEqual(state(.hostA), "running")
    }
}
