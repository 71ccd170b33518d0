import Foundation
import GRDB
import MigscopeCore
import XCTest

@testable import MigscopeStore
@testable import MigscopeReport

/// A database made by migscope before schema 2 (Fixtures/schema-v1.sqlite: two runs of the quick
/// reproduction and a failed run, with the summaries that code exported) opens, migrates, and
/// reports the same numbers.
final class SchemaMigrationTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "migscope-schema-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func fixture(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.path(forResource: "Fixtures/" + name, ofType: nil), "fixture \(name)")
    }

    func copyOfVersion1() throws -> String {
        let path = dir + "/v1.sqlite"
        try FileManager.default.copyItem(atPath: try fixture("schema-v1.sqlite"), toPath: path)
        return path
    }

    func testAVersion1DatabaseMigratesAndReportsTheSameNumbers() throws {
        let path = try copyOfVersion1()
        let store = try ResultsStore(path: path)
        let version = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA user_version") }
        XCTAssertEqual(version, 3)
        let runs = try store.runs()
        XCTAssertEqual(runs.map(\.id), [1, 3, 5])
        XCTAssertEqual(runs.map(\.status), [.completed, .completed, .failed])
        XCTAssertEqual(Set(runs.compactMap(\.uuid)).count, 3, "every run has its own UUID")
        for id in [1, 3, 5] as [Int64] {
            let stored = try store.run(id)
            XCTAssertNotNil(stored.info.uuid)
            let tables = RunExport.tables(info: stored.info, trace: stored.trace)
            let summary = try XCTUnwrap(tables.first { $0.name == "summary" })
            let before = try String(contentsOfFile: try fixture("schema-v1.run\(id).summary.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
            // The columns the old export had (later versions add columns after them).
            let oldColumns = before[0].split(separator: ",").count
            let now = RunExport.csv(summary).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(oldColumns).joined(separator: ",") }
            // Numbers within 0.01 %: the analysis may be refined since the fixture was written
            // (a usual interval taken over real gaps only moved the I/O means by 0.001 %); the data must not move.
            // "Before" (and the ratio over it) within 3 %: since 2026-12-06 the line that straddles the
            // migration's start counts toward it for its share (run 1's moved 1.8 %).
            let header = before[0].split(separator: ",").map(String.init)
            let refined: Set<String> = ["io_before", "io_during_ratio"]
            XCTAssertEqual(now.count, before.count, "run \(id)")
            XCTAssertEqual(now.first, before.first, "run \(id): the columns")
            for (a, b) in zip(now.dropFirst(), before.dropFirst()) {
                let x = a.split(separator: ",", omittingEmptySubsequences: false), y = b.split(separator: ",", omittingEmptySubsequences: false)
                XCTAssertEqual(x.count, y.count, "run \(id): \(a) vs \(b)")
                for (column, (u, v)) in zip(header, zip(x, y)) {
                    if let p = Double(u), let q = Double(v) {
                        let share = refined.contains(column) ? 0.03 : 1e-4
                        XCTAssertEqual(p, q, accuracy: max(1e-9, abs(q) * share), "run \(id), \(column): the summary computed from the migrated trace: \(a) vs \(b)")
                    } else {
                        XCTAssertEqual(u, v, "run \(id): the summary computed from the migrated trace: \(a) vs \(b)")
                    }
                }
            }
        }
        // The figures v1 kept only in words are typed facts now.
        let completed = try XCTUnwrap(try store.run(1).trace.firstEvent(.migrationCompleted))
        XCTAssertEqual(completed.facts.downtimeMs, 1748)
        XCTAssertEqual(completed.facts.location, .destination)
        XCTAssertEqual(try store.run(1).trace.firstEvent(.workloadDone)?.facts.hostSeconds, 56.54)
        // A second open finds nothing left to do, and the UUIDs stay.
        let again = try ResultsStore(path: path).runs()
        XCTAssertEqual(again.map(\.uuid), runs.map(\.uuid))
    }

    /// Version 2 as the migscope of 2026-11-30 wrote it, downtime as a bit pattern, is repaired by version 3.
    func testVersion3RepairsADowntimeStoredAsABitPattern() throws {
        let path = try copyOfVersion1()
        let queue = try DatabaseQueue(path: path)
        try SchemaMigrations.migrator.migrate(queue, upTo: "v2-run-uuids-and-event-facts")
        let broken = EventFacts(location: .destination, downtimeMs: Double(bitPattern: 1748), bytesSent: 1, rounds: 7)
        try queue.write { db in
            try db.execute(sql: "UPDATE events SET facts_json = ? WHERE run_id = 1 AND kind = 'migration-completed'", arguments: [try JSONCoding.string(broken)])
        }
        try queue.close()
        let store = try ResultsStore(path: path)
        XCTAssertEqual(try store.run(1).trace.firstEvent(.migrationCompleted)?.facts.downtimeMs, 1748)
        XCTAssertEqual(try store.run(3).trace.firstEvent(.migrationCompleted)?.facts.downtimeMs, 6336, "a true downtime is left alone")
        XCTAssertNil(DowntimeRepair.repaired(0))
        XCTAssertNil(DowntimeRepair.repaired(0.5))
    }

    func testADatabaseFromANewerMigscopeIsRefusedUntouched() throws {
        let path = try copyOfVersion1()
        try DatabaseQueue(path: path).write { try $0.execute(sql: "PRAGMA user_version = 7") }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ResultsStore(path: path)) { e in
            XCTAssertTrue("\(e)".contains("newer than this migscope's 3"), "\(e)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before, "the newer database was written to")
    }

    func testANewRunKeepsItsUUIDAndTypedFactsThroughTheDatabase() throws {
        let store = try ResultsStore(path: dir + "/new.sqlite")
        let request = MigrationRequest(domain: "g", source: "qemu:///a", destination: "qemu:///b")
        let info = RunInfo(backend: "libvirt", request: request, anchor: Date())
        let id = try store.begin(info)
        var batch = TraceBatch()
        batch.events = [.guestPaused(t: 1, on: .source), .migrationCompleted(t: 2, location: .destination, downtimeMs: 42, bytesSent: 7, rounds: 3)]
        try store.append(runID: id, batch)
        let stored = try store.run(id)
        XCTAssertEqual(stored.info.uuid, info.uuid)
        XCTAssertEqual(stored.trace.events.map(\.facts), batch.events.map(\.facts))
        XCTAssertEqual(try store.runs().first?.uuid, info.uuid?.uuidString.lowercased())
    }
}
