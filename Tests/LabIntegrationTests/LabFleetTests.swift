import Foundation
import MigscopeCore
@testable import MigscopeLab
import MigscopeStore
import XCTest

/// Drains of a lab with several guests (`lab up --guests 3`), checked with virsh on both daemons:
/// every guest ends running exactly once, and a recorded drain keeps one run per guest under one id.
/// The class builds its own lab (three small idle guests) and takes it down, whatever happened.
final class LabFleetTests: XCTestCase {
    var dir: String!
    let a = LabMachine.hostA, b = LabMachine.hostB
    let guests = LabGuestSlot.upTo(3)

    override func setUp() async throws {
        if let why = LabFixture.cannotRun { throw XCTSkip(why) }
        LabFixture.tearDown()
        if Lab.isUp() { Lab.down() }
        var s = LabSettings(bandwidth: .mbit(100), link: .fullDuplex, guestMemoryMiB: 128, workload: Workload(mode: .idle), diskSizeMiB: 512)
        s.guests = guests.count
        try await Lab.up(s) { print("LabFleetTests: \($0)") }
        dir = NSTemporaryDirectory() + "migscope-fleet-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        let t = Lab.down()
        XCTAssertEqual(t.leftovers, [], "lab down left things behind")
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// Each guest's hosts, as virsh on both daemons lists the running domains.
    func runningOn() throws -> [String: [LabMachine]] {
        var on: [String: [LabMachine]] = [:]
        for h in [a, b] {
            let names = try Command.run(["virsh", "-c", h.libvirtURI, "list", "--name", "--state-running"], check: false, timeout: 30).stdout
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            for g in guests where names.contains(g.name) { on[g.name, default: []].append(h) }
        }
        return on
    }

    func testADrainOfThreeGuestsTwoAtATimeEndsWithEachOnBOnceUnderOneDrainID() throws {
        XCTAssertEqual(try runningOn(), Dictionary(uniqueKeysWithValues: guests.map { ($0.name, [a]) }), "lab up started three guests on A")
        let db = dir + "/r.sqlite"
        let r = try ProcessRun.run(ProcessRun.migscope, ["drain", "--from", a.libvirtURI, "--to", b.libvirtURI, "--all", "--concurrency", "2",
                                                         "--record", "--db", db, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try runningOn(), Dictionary(uniqueKeysWithValues: guests.map { ($0.name, [b]) }), "virsh on both hosts: each guest on B only")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], r.out)
        let rows = try XCTUnwrap(json["domains"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 3, r.out)
        XCTAssertEqual(rows.compactMap { $0["outcome"] as? String }, ["completed", "completed", "completed"], r.out)
        let drain = try XCTUnwrap(json["drain"] as? String)
        let store = try ResultsStore(path: db)
        var names: Set<String> = []
        for row in rows {
            let run = try store.run(Int64(try XCTUnwrap(row["run"] as? Int)))
            XCTAssertEqual(run.info.drain, drain, "every run under the drain's id")
            XCTAssertEqual(run.info.status, .completed)
            XCTAssertFalse(run.trace.rounds.isEmpty, "its rounds are recorded")
            names.insert(run.info.request.domain)
        }
        XCTAssertEqual(names, Set(guests.map(\.name)), "one run per guest")
        // The drain's report: its table of the three and the figure on one clock.
        let rep = try ProcessRun.run(ProcessRun.migscope, ["report", "--drain", drain, "--db", db, "--out", dir + "/report"])
        XCTAssertEqual(rep.status, 0, rep.err)
        let csv = try String(contentsOfFile: dir + "/report/drain.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 4, "a header and a row per guest: \(csv)")
        for g in guests { XCTAssertTrue(csv.contains("\n\(g.name),"), "\(g.name) in \(csv)") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/report/drain.png"), "the drain's figure")
    }

    /// SIGINT while two of three guests migrate: those are aborted, the third never starts, and
    /// every guest runs exactly once (virsh on both hosts).
    func testCtrlCDuringADrainOfThreeLeavesEachGuestRunningOnce() async throws {
        _ = try Lab.set(bandwidth: .mbit(10), link: .shared)
        let r = try await ProcessRun.interruptedOnceMigrating(["drain", "--from", a.libvirtURI, "--to", b.libvirtURI, "--all", "--concurrency", "2"],
                                                              source: a.libvirtURI, domains: guests.map(\.name), atLeast: 2)
        let (stdout, stderr) = (r.out, r.err)
        XCTAssertNotEqual(r.status, 0, stderr)
        XCTAssertTrue(stderr.contains("interrupted: aborting the running migrations"), stderr)
        let on = try runningOn()
        for g in guests { XCTAssertEqual(on[g.name]?.count, 1, "virsh on both hosts: \(g.name) runs exactly once, on \(on[g.name] ?? [])") }
        XCTAssertTrue(stdout.contains("aborted"), stdout)
    }
}
