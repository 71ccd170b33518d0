import Foundation
import MigscopeCore
import MigscopeStore
import XCTest

/// Paths as users give them: relative to where they stand, with spaces and quotes, or not at all
/// (the default database that `reproduce` and `batch` write is the one `runs` and `report` read).
final class PathTests: XCTestCase {
    var root: String!

    override func setUpWithError() throws {
        root = (NSTemporaryDirectory() as NSString).appendingPathComponent("migscope paths 'q' \(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    /// A stored run made of plain values: these tests are about paths, not about recording.
    func storeOneRun(at path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let store = try ResultsStore(path: path)
        var info = RunInfo(backend: "libvirt", request: MigrationRequest(domain: "g", source: "a", destination: "b"), anchor: Date(),
                           linkRate: "100mbit", linkModel: "shared")
        let id = try store.begin(info)
        var batch = TraceBatch()
        batch.events = [EventRecord(t: 0, kind: .recordingStarted), EventRecord(t: 5, kind: .migrationStarted),
                        EventRecord.guestResumed(t: 9, on: .destination),
                        EventRecord.migrationCompleted(t: 9.1, location: .destination, downtimeMs: 300, bytesSent: nil, rounds: 0),
                        EventRecord(t: 14, kind: .recordingEnded)]
        batch.samples = stride(from: 1.0, through: 14, by: 1).map { IOSample(t: $0, series: .guest, host: "guest", readBytesPerSecond: $0 > 5 && $0 <= 9 ? 2e6 : 8e6, writeBytesPerSecond: 0) }
        try store.append(runID: id, batch)
        info.id = id
        info.status = .completed
        info.outcome = .completed
        var trace = Trace()
        trace.events = batch.events
        trace.samples = batch.samples
        try store.finish(runID: id, info: info, rounds: [], summary: RunSummary(info: info, trace: trace, analysis: RunAnalysis(trace: trace)))
    }

    func run(_ args: [String], in cwd: String, env: [String: String] = [:]) throws -> CLITests.Result {
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var e = ProcessInfo.processInfo.environment
        e["MIGSCOPE_DB"] = nil
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let x = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return .init(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: x, as: UTF8.self))
    }

    func testTheDefaultDatabaseIsTheOneReproduceWritesAndRelativeFoldersWork() throws {
        try storeOneRun(at: root + "/results/migscope-results.sqlite")
        let runs = try run(["runs"], in: root)
        XCTAssertEqual(runs.status, 0, runs.err)
        XCTAssertTrue(runs.out.contains("completed"), runs.out)

        let report = try run(["report", "1", "--out", "my report"], in: root)
        XCTAssertEqual(report.status, 0, report.err)
        for f in ["my report/report.html", "my report/run-1/timeline.png", "my report/run-1/timeline.gp"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/" + f), "missing \(f): \(report.out) \(report.err)")
        }
        XCTAssertEqual(report.out.trimmingCharacters(in: .whitespacesAndNewlines), root + "/my report/report.html", "the page's path, absolute")

        let export = try run(["export", "1", "--out", "./csv 'files'"], in: root)
        XCTAssertEqual(export.status, 0, export.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/csv 'files'/summary.csv"))
    }

    func testAPlanIsFoundByARelativePathWithSpaces() throws {
        try FileManager.default.createDirectory(atPath: root + "/plans dir", withIntermediateDirectories: true)
        try "name: x\nhosts: lab\n".write(toFile: root + "/plans dir/my plan.yaml", atomically: true, encoding: .utf8)
        let r = try run(["batch", "plans dir/my plan.yaml"], in: root)
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("missing 'matrix'"), "the plan was read: \(r.err)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/results"), "a plan with problems writes nothing")
    }

    func testDbFlagAndEnvironmentTakeRelativePathsAndTheFlagWins() throws {
        let sub = root + "/sub dir"
        try storeOneRun(at: sub + "/a b.sqlite")
        XCTAssertEqual(try run(["runs", "--db", "sub dir/a b.sqlite"], in: root).status, 0)
        XCTAssertEqual(try run(["runs"], in: root, env: ["MIGSCOPE_DB": "sub dir/a b.sqlite"]).status, 0)
        let missing = try run(["runs", "--db", "nothing.sqlite"], in: root, env: ["MIGSCOPE_DB": "sub dir/a b.sqlite"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains(root! + "/nothing.sqlite"), "the error names the absolute path: \(missing.err)")
        XCTAssertEqual(missing.err.split(separator: "\n").count, 1, missing.err)
        let none = try run(["report", "1", "--out", "r"], in: root)
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.err.contains("no results database at \(root!)/results/migscope-results.sqlite"), none.err)
    }
}
