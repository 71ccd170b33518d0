import Foundation
import GRDB
import MigscopeCore
import XCTest

@testable import MigscopeStore

final class MergeTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "/migscope-merge-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A completed run with a sample of every series, on machine `host`.
    @discardableResult
    func record(into store: ResultsStore, domain: String, readRate: Double = 12e6, complete: Bool = true) throws -> Int64 {
        let info = RunInfo(backend: "libvirt", request: MigrationRequest(domain: domain, source: "qemu:///a", destination: "qemu:///b"),
                           domain: DomainFacts(name: domain, uuid: "u-\(domain)", memoryBytes: 1 << 30), anchor: Date(timeIntervalSince1970: 1_800_000_000))
        let id = try store.begin(info)
        var b = TraceBatch()
        b.events = [EventRecord(t: 0, kind: .recordingStarted), EventRecord(t: 1, kind: .migrationStarted, detail: "live")]
        b.samples = [IOSample(t: 0.5, series: .guest, host: "guest", readBytesPerSecond: readRate, writeBytesPerSecond: 0)]
        b.links = [LinkSample(t: 0.6, link: "hostA", direction: .received, bytesPerSecond: 12e6)]
        b.jobSamples = [JobSample(t: 1.5, progress: JobProgress(iteration: 1, memoryTotalBytes: 1 << 30, memoryRemainingBytes: 5000))]
        try store.append(runID: id, b)
        guard complete else { return id }
        var done = try store.run(id).info
        done.status = .completed
        done.outcome = .completed
        var trace = Trace()
        trace.rounds = [RoundRecord(number: 1, startS: 1, endS: 3, bytesSent: 900, dirtyPagesPerSecond: 5, dirtyBytesPerSecond: 20480, remainingBytesAtStart: 5000, remainingBytesAtEnd: 0, pagesDirtied: 2, transferBytesPerSecond: 500, stopAndCopy: true)]
        try store.finish(runID: id, info: done, rounds: trace.rounds, summary: RunSummary(info: done, trace: trace, analysis: RunAnalysis(trace: trace)))
        return id
    }

    func testRunsFromTwoMachinesMergeOnceEachAndAgainChangesNothing() throws {
        let a = try ResultsStore(path: dir + "/a.sqlite"), b = try ResultsStore(path: dir + "/b.sqlite")
        try record(into: a, domain: "g1")
        try record(into: a, domain: "g2", complete: false)
        try record(into: b, domain: "g3")
        let out = try ResultsStore(path: dir + "/out.sqlite")
        try record(into: out, domain: "g0")

        let first = try out.merge(from: [a.path, b.path])
        XCTAssertEqual(first.copied, 3)
        let merged = try out.runs()
        XCTAssertEqual(merged.map(\.domain), ["g0", "g1", "g2", "g3"])
        XCTAssertEqual(Set(merged.compactMap(\.uuid)).count, 4, "UUIDs are kept, one each")
        XCTAssertEqual(merged[2].status, .recording, "an incomplete run stays incomplete")
        // Every series came along, equal to the original.
        let original = try a.run(1), copy = try out.run(merged[1].id)
        XCTAssertEqual(copy.trace, original.trace)
        XCTAssertEqual(copy.summary, original.summary)
        XCTAssertEqual(copy.info.uuid, original.info.uuid)

        // Again, and with an input that is a merge of the others: nothing new.
        let again = try out.merge(from: [a.path, b.path, out.path])
        XCTAssertEqual(again.copied, 0)
        XCTAssertEqual(again.inputs.map(\.alreadyThere), [2, 1, 4])
        XCTAssertEqual(try out.runs().count, 4)
    }

    func testAUUIDWithDifferentContentRefusesTheWholeMergeAndWritesNothing() throws {
        let a = try ResultsStore(path: dir + "/a.sqlite")
        try record(into: a, domain: "g1")
        try record(into: a, domain: "g2")
        // A forged copy: the same UUID as a's first run, other figures.
        let forged = try ResultsStore(path: dir + "/forged.sqlite")
        let id = try record(into: forged, domain: "g1", readRate: 1)
        let uuid = try a.runs()[0].uuid!
        try DatabaseQueue(path: forged.path).write { try $0.execute(sql: "UPDATE runs SET uuid = ? WHERE id = ?", arguments: [uuid, id]) }
        let out = try ResultsStore(path: dir + "/out.sqlite")
        XCTAssertThrowsError(try out.merge(from: [a.path, forged.path])) { e in
            let m = (e as? StoreError)?.message ?? ""
            XCTAssertTrue(m.hasPrefix("nothing merged: 1 run UUID(s) collide"), m)
            XCTAssertTrue(m.contains(uuid) && m.contains("forged.sqlite"), m)
        }
        XCTAssertEqual(try out.runs().count, 0, "nothing was written")
    }

    func testAnInputIsNeverChangedAndANonDatabaseIsRefusedInOneLine() throws {
        let a = try ResultsStore(path: dir + "/a.sqlite")
        try record(into: a, domain: "g1")
        let before = try Data(contentsOf: URL(fileURLWithPath: a.path))
        let out = try ResultsStore(path: dir + "/out.sqlite")
        _ = try out.merge(from: [a.path])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a.path)), before)
        try Data("not sqlite at all".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        XCTAssertThrowsError(try out.merge(from: [dir + "/notes.txt"])) { e in
            let m = (e as? StoreError)?.message ?? ""
            XCTAssertTrue(m.contains("notes.txt") && !m.contains("\n"), m)
        }
    }
}
