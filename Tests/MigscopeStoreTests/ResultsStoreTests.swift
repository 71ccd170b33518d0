import Foundation
import GRDB
import MigscopeCore
import XCTest

@testable import MigscopeStore

final class ResultsStoreTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "/migscope-store-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    var info: RunInfo {
        RunInfo(backend: "libvirt", request: MigrationRequest(domain: "g", source: "qemu:///a", destination: "qemu:///b"),
                domain: DomainFacts(name: "g", uuid: "u", memoryBytes: 1 << 30), anchor: Date(timeIntervalSince1970: 1_800_000_000),
                linkRate: "100mbit", linkModel: "shared", accelerator: "tcg", workload: Workload(mode: .buffered))
    }

    func batch() -> TraceBatch {
        var b = TraceBatch()
        b.events = [EventRecord(t: 0, kind: .recordingStarted), EventRecord(t: 1, kind: .migrationStarted, detail: "live"),
                    EventRecord.roundStarted(t: 1.2, round: 1)]
        b.samples = [IOSample(t: 0.5, series: .guest, host: "guest", readBytesPerSecond: 12e6, writeBytesPerSecond: 0),
                     IOSample(t: 0.6, series: .host, host: "source", readBytesPerSecond: 11e6, writeBytesPerSecond: 1, readOpsPerSecond: 10, writeOpsPerSecond: 0)]
        b.links = [LinkSample(t: 0.6, link: "hostA", direction: .received, bytesPerSecond: 12e6)]
        b.jobSamples = [JobSample(t: 1.5, progress: JobProgress(iteration: 1, dirtyRatePagesPerSecond: 0, pageSizeBytes: 4096, memoryTotalBytes: 1 << 30,
                                                                memoryProcessedBytes: 1000, memoryRemainingBytes: 5000, memoryBytesPerSecond: 12_000_000))]
        return b
    }

    func testARunRoundTripsWithEverySeries() throws {
        let store = try ResultsStore(path: dir + "/r.sqlite")
        let id = try store.begin(info)
        try store.append(runID: id, batch())
        var done = info
        done.status = .completed
        done.outcome = .completed
        let rounds = [RoundRecord(number: 1, startS: 1.2, endS: 3, bytesSent: 900, dirtyPagesPerSecond: 5, dirtyBytesPerSecond: 20480,
                                  remainingBytesAtStart: 5000, remainingBytesAtEnd: 0, pagesDirtied: 2, transferBytesPerSecond: 500, stopAndCopy: true)]
        var trace = Trace()
        trace.rounds = rounds
        let summary = RunSummary(info: done, trace: trace, analysis: RunAnalysis(trace: trace))
        try store.finish(runID: id, info: done, rounds: rounds, summary: summary)

        let back = try ResultsStore(path: dir + "/r.sqlite").run(id)
        XCTAssertEqual(back.info.status, .completed)
        XCTAssertEqual(back.info.request, info.request)
        XCTAssertEqual(back.info.workload, info.workload)
        XCTAssertEqual(back.trace.rounds, rounds)
        XCTAssertEqual(back.trace.events, batch().events)
        XCTAssertEqual(back.trace.samples, batch().samples)
        XCTAssertEqual(back.trace.links, batch().links)
        XCTAssertEqual(back.trace.jobSamples, batch().jobSamples)
        XCTAssertEqual(back.summary, summary)
        let list = try store.runs()
        XCTAssertEqual(list.map(\.id), [id])
        XCTAssertFalse(list[0].incomplete)
    }

    func testARunWhoseRecorderDiedIsListedIncompleteWithWhatWasCommitted() throws {
        let store = try ResultsStore(path: dir + "/r.sqlite")
        let id = try store.begin(info)
        try store.append(runID: id, batch())
        // No finish: the recorder was killed.
        let reopened = try ResultsStore(path: dir + "/r.sqlite")
        XCTAssertTrue(try reopened.runs()[0].incomplete)
        let run = try reopened.run(id)
        XCTAssertTrue(run.info.isIncomplete)
        XCTAssertEqual(run.trace.samples.count, 2)
        XCTAssertNil(run.summary)
    }

    func testADatabaseFromANewerSchemaIsRefusedInOneLine() throws {
        let path = dir + "/new.sqlite"
        let q = try DatabaseQueue(path: path)
        try q.write { try $0.execute(sql: "PRAGMA user_version = 99") }
        try q.close()
        let before = try XCTUnwrap(FileManager.default.contents(atPath: path))
        XCTAssertThrowsError(try ResultsStore(path: path)) { e in
            XCTAssertTrue("\(e)".contains("schema 99, newer than this migscope's 3"), "\(e)")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: path), before, "the newer database was written to")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"))
    }

    func testANewDatabaseIsReadableByItsOwnerOnlyAndStoresNoCredentials() throws {
        let path = dir + "/private.sqlite"
        let store = try ResultsStore(path: path)
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o777, 0o600)
        var i = info
        i.request.source = "qemu+ssh://alice:secret@hostA/system?keyfile=/root/.ssh/id_lab&no_verify=1"
        i.request.destination = "qemu+libssh2://bob@hostB/system?known_hosts=/k&sshauth=privkey"
        let id = try store.begin(i)
        let stored = try store.run(id).info
        XCTAssertEqual(stored.request.source, "qemu+ssh://hostA/system?no_verify=1")
        XCTAssertEqual(stored.request.destination, "qemu+libssh2://hostB/system")
        let raw = try String(contentsOfFile: path, encoding: .isoLatin1) + ((try? String(contentsOfFile: path + "-wal", encoding: .isoLatin1)) ?? "")
        XCTAssertFalse(raw.contains("secret") || raw.contains("id_lab") || raw.contains("alice"), "credentials reached the file")
    }

    func testTwoFirstOpensAtOnceBothSucceed() async throws {
        for round in 0..<5 {
            let path = dir + "/race-\(round).sqlite"
            async let a = Task.detached { try ResultsStore(path: path).runs().count }.value
            async let b = Task.detached { try ResultsStore(path: path).runs().count }.value
            let (x, y) = try await (a, b)
            XCTAssertEqual(x + y, 0)
        }
    }

    func testAMissingFolderAndAnUnknownRunAreClearErrors() throws {
        XCTAssertThrowsError(try ResultsStore(path: dir + "/nope/r.sqlite")) { e in
            XCTAssertTrue("\(e)".contains("does not exist"), "\(e)")
        }
        let store = try ResultsStore(path: dir + "/r.sqlite")
        XCTAssertThrowsError(try store.run(7)) { e in XCTAssertTrue("\(e)".contains("no run 7"), "\(e)") }
    }

    func testNotADatabaseIsAClearError() throws {
        let path = dir + "/junk.sqlite"
        try "this is not sqlite, it is a text file long enough to have a header of sorts".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ResultsStore(path: path)) { e in
            XCTAssertTrue("\(e)".contains("cannot"), "\(e)")
        }
    }
}
