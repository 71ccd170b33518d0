import Foundation
import MigscopeCore
import XCTest

@testable import MigscopeReport

final class RunExportTests: XCTestCase {
    func trace() -> Trace {
        var t = Trace()
        t.events = [EventRecord(t: 0, kind: .recordingStarted), EventRecord(t: 10, kind: .migrationStarted),
                    EventRecord(t: 10.5, kind: .roundStarted, detail: "1"), EventRecord(t: 15, kind: .guestPaused, detail: "source"),
                    EventRecord(t: 15.2, kind: .roundStarted, detail: "2"), EventRecord(t: 16, kind: .guestResumed, detail: "destination"),
                    EventRecord(t: 16.1, kind: .migrationCompleted, detail: "location=destination downtime_ms=700 bytes=2000 rounds=2"),
                    EventRecord(t: 26, kind: .recordingEnded)]
        t.jobSamples = [JobSample(t: 12, progress: JobProgress(iteration: 1, memoryProcessedBytes: 1000, memoryRemainingBytes: 1000)),
                        JobSample(t: 15.5, progress: JobProgress(iteration: 2, memoryProcessedBytes: 1900, memoryRemainingBytes: 100))]
        for s in stride(from: 1.0, through: 26, by: 1) {
            t.samples.append(IOSample(t: s, series: .guest, host: "guest", readBytesPerSecond: s > 10 && s <= 16 ? 1e6 : 4e6, writeBytesPerSecond: 0))
        }
        return t
    }

    func info(status: String) -> RunInfo {
        RunInfo(id: 3, backend: "libvirt", request: MigrationRequest(domain: "g", source: "a", destination: "b"), anchor: Date(),
                linkRate: "10mbit", linkModel: "full-duplex", status: status, outcome: status == "recording" ? nil : status)
    }

    func testTablesUseTimesFromTheMigrationStartAndTheSummaryMatchesTheAnalysis() {
        var t = trace()
        t.rounds = RoundBuilder.rounds(.init(starts: [(1, 10.5), (2, 15.2)], polls: t.jobSamples, migrationStartT: 10, pausedAt: 15, endT: 16.1,
                                             final: JobProgress(memoryProcessedBytes: 2000), completed: true))
        let tables = Dictionary(uniqueKeysWithValues: RunExport.tables(info: info(status: "completed"), trace: t).map { ($0.name, $0) })
        XCTAssertEqual(Set(tables.keys), ["rounds", "samples", "links", "events", "job", "summary"])
        let rounds = tables["rounds"]!
        XCTAssertEqual(rounds.header.prefix(5), ["round", "start_s", "end_s", "duration_s", "bytes_sent"])
        XCTAssertEqual(rounds.rows.map { $0[1] }, ["0.500", "5.200"])
        XCTAssertEqual(rounds.rows.map { $0.last }, ["0", "1"], "stop_and_copy")
        let summary = tables["summary"]!
        let row = Dictionary(uniqueKeysWithValues: zip(summary.header, summary.rows[0]))
        XCTAssertEqual(row["migration_s"], "6.000")
        XCTAssertEqual(row["downtime_ms"], "700")
        XCTAssertEqual(row["rounds"], "2")
        XCTAssertEqual(row["io_during_ratio"], "0.2500")
        XCTAssertEqual(row["bandwidth"], "10mbit")
        XCTAssertEqual(tables["events"]!.rows.first?[0], "-10.000")
    }

    func testAnIncompleteRunGetsItsRoundsRebuiltAndSaysSo() {
        let tables = RunExport.tables(info: info(status: "recording"), trace: trace())
        let rounds = tables.first { $0.name == "rounds" }!
        XCTAssertEqual(rounds.rows.count, 2)
        let summary = tables.first { $0.name == "summary" }!
        XCTAssertEqual(summary.rows[0][1], "incomplete")
    }

    func testCSVQuotesWhatNeedsQuotingAndJSONKeepsNumbers() {
        let table = RunExport.Table(name: "x", header: ["a", "b"], rows: [["1.5", "say \"hi\", twice"], ["", "plain"]])
        XCTAssertEqual(RunExport.csv(table), "a,b\n1.5,\"say \"\"hi\"\", twice\"\n,plain\n")
        let json = try? JSONSerialization.jsonObject(with: Data(RunExport.json(table).utf8)) as? [[String: Any]]
        XCTAssertEqual(json?[0]["a"] as? Double, 1.5)
        XCTAssertTrue(json?[1]["a"] is NSNull)
    }

    func testWritingToAnUnwritableFolderIsAClearError() {
        XCTAssertThrowsError(try RunExport.write(info: info(status: "completed"), trace: trace(), to: "/proc/migscope-cannot", format: .csv)) { e in
            XCTAssertTrue("\(e)".contains("cannot create output folder /proc/migscope-cannot"), "\(e)")
        }
    }
}
