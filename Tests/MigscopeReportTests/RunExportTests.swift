import Foundation
import MigscopeCore
import XCTest

@testable import MigscopeReport

/// A small recorded-looking run: a migration from 10 to 16 s, guest at 4 MB/s, 1 MB/s during.
enum ReportFixture {
    static func trace() -> Trace {
        var t = Trace()
        t.events = [EventRecord(t: 0, kind: .recordingStarted), EventRecord(t: 10, kind: .migrationStarted),
                    EventRecord.roundStarted(t: 10.5, round: 1), EventRecord.guestPaused(t: 15, on: .source),
                    EventRecord.roundStarted(t: 15.2, round: 2), EventRecord.guestResumed(t: 16, on: .destination),
                    EventRecord.migrationCompleted(t: 16.1, location: .destination, downtimeMs: 700, bytesSent: 2000, rounds: 2),
                    EventRecord(t: 26, kind: .recordingEnded)]
        t.jobSamples = [JobSample(t: 12, progress: JobProgress(iteration: 1, memoryProcessedBytes: 1000, memoryRemainingBytes: 1000)),
                        JobSample(t: 15.5, progress: JobProgress(iteration: 2, memoryProcessedBytes: 1900, memoryRemainingBytes: 100))]
        for s in stride(from: 1.0, through: 26, by: 1) {
            t.samples.append(IOSample(t: s, series: .guest, host: "guest", readBytesPerSecond: s > 10 && s <= 16 ? 1e6 : 4e6, writeBytesPerSecond: 0))
        }
        return t
    }

    static func info(status: RunStatus) -> RunInfo {
        RunInfo(id: 3, backend: "libvirt", request: MigrationRequest(domain: "g", source: "a", destination: "b"), anchor: Date(),
                linkRate: "10mbit", linkModel: "full-duplex", status: status, outcome: status == .recording ? nil : status)
    }
}

final class RunExportTests: XCTestCase {
    func trace() -> Trace { ReportFixture.trace() }
    func info(status: RunStatus) -> RunInfo { ReportFixture.info(status: status) }

    func testTablesUseTimesFromTheMigrationStartAndTheSummaryMatchesTheAnalysis() {
        var t = trace()
        t.rounds = RoundBuilder.rounds(.init(starts: [(1, 10.5), (2, 15.2)], polls: t.jobSamples, migrationStartT: 10, pausedAt: 15, endT: 16.1,
                                             final: JobProgress(memoryProcessedBytes: 2000), completed: true))
        let tables = Dictionary(uniqueKeysWithValues: RunExport.tables(info: info(status: .completed), trace: t).map { ($0.name, $0) })
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
        let tables = RunExport.tables(info: info(status: .recording), trace: trace())
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
        XCTAssertThrowsError(try RunExport.write(info: info(status: .completed), trace: trace(), to: "/proc/migscope-cannot", format: .csv)) { e in
            XCTAssertTrue("\(e)".contains("cannot create output folder /proc/migscope-cannot"), "\(e)")
        }
    }
}

final class RunReportTests: XCTestCase {
    func testAReportOfTwoRunsHasThePageTheFiguresAndTheTables() throws {
        guard Gnuplot.executable != nil else { throw XCTSkip("gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)") }
        let dir = NSTemporaryDirectory() + "/migscope-report-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = ReportFixture.self
        var t = base.trace()
        t.links = stride(from: 0.5, through: 26, by: 0.5).map { LinkSample(t: $0, link: "hostA", direction: .sent, bytesPerSecond: $0 > 10 && $0 < 16 ? 9e6 : 1e4) }
        t.rounds = RoundBuilder.rounds(.init(starts: [(1, 10.5), (2, 15.2)], polls: t.jobSamples, migrationStartT: 10, pausedAt: 15, endT: 16.1,
                                             final: JobProgress(memoryProcessedBytes: 2000), completed: true))
        var second = base.info(status: .recording)
        second.id = 4
        let page = try RunReport.write([.init(info: base.info(status: .completed), trace: t), .init(info: second, trace: base.trace())], to: dir)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>Comparison</h2>"))
        XCTAssertTrue(html.contains("Incomplete run"), "the incomplete run says so")
        XCTAssertGreaterThanOrEqual(html.components(separatedBy: "data:image/png;base64,").count - 1, 6, "images embedded")
        XCTAssertFalse(html.contains("src='http"), "no network needed to open it")
        for f in ["run-3/timeline.png", "run-3/timeline.svg", "run-3/network.png", "run-3/rounds.png", "run-3/rounds.csv", "run-3/summary.csv",
                  "run-4/timeline.png", "comparison/comparison.png", "comparison/comparison.svg", "comparison/comparison.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), "missing \(f)")
        }
        let png = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/run-3/timeline.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a real PNG")
        XCTAssertGreaterThan(png.count, 10_000)
        let cmp = try String(contentsOfFile: dir + "/comparison/comparison.csv", encoding: .utf8)
        XCTAssertTrue(cmp.contains("25 %"), cmp)
    }

    /// Without gnuplot a report is still written, with its tables, data and scripts, and a note
    /// where each figure would be (a night's batch must not fail at its last step).
    func testWithoutGnuplotTheReportHasItsTablesAndANoteForEachFigure() throws {
        setenv("MIGSCOPE_GNUPLOT", "none", 1)
        defer { unsetenv("MIGSCOPE_GNUPLOT") }
        XCTAssertNil(Gnuplot.executable)
        let dir = NSTemporaryDirectory() + "/migscope-report-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var second = ReportFixture.info(status: .completed)
        second.id = 4
        let page = try RunReport.write([.init(info: ReportFixture.info(status: .completed), trace: ReportFixture.trace()),
                                        .init(info: second, trace: ReportFixture.trace())], to: dir)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>Comparison</h2>"))
        XCTAssertTrue(html.contains("<table"), "the tables are there")
        XCTAssertFalse(html.contains("data:image/png;base64,"))
        XCTAssertGreaterThanOrEqual(html.components(separatedBy: "not drawn: gnuplot is not installed").count - 1, 3, "a note for each figure")
        for f in ["run-3/timeline.gp", "run-3/summary.csv", "comparison/comparison.gp", "comparison/comparison.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), "missing \(f)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run-3/timeline.png"))
    }

    /// A non-live Xen run: one stop-and-copy round and no dirty rate anywhere. gnuplot refuses a
    /// series with no defined point, so the rounds figure must leave the dirty-rate line out.
    func testARunWhoseRoundsHaveNoDirtyRateStillGetsItsRoundsFigure() throws {
        guard Gnuplot.executable != nil else { throw XCTSkip("gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)") }
        let dir = NSTemporaryDirectory() + "/migscope-report-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = ReportFixture.trace()
        t.rounds = [RoundRecord(number: 0, startS: 10.2, endS: 16, bytesSent: 256 << 20, dirtyPagesPerSecond: nil, dirtyBytesPerSecond: nil,
                                remainingBytesAtStart: 256 << 20, remainingBytesAtEnd: 0, transferBytesPerSecond: 4.6e7, stopAndCopy: true)]
        _ = try RunReport.write([.init(info: ReportFixture.info(status: .completed), trace: t)], to: dir)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run-3/rounds.png"))
        let script = try String(contentsOfFile: dir + "/run-3/rounds.gp", encoding: .utf8)
        XCTAssertFalse(script.contains("dirty rate"), script)
    }

    /// The dirty-pages figure: two readers' rounds, each with its slope line, drawn by gnuplot; a
    /// group name with quotes stays a title.
    func testTheDirtyingFigureDrawsEachReadersRoundsAndSlope() throws {
        guard Gnuplot.executable != nil else { throw XCTSkip("gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)") }
        let dir = NSTemporaryDirectory() + "/migscope-dirtying-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mib = 1_048_576.0
        let html = try DirtyingFigure.write([
            .init(name: "buffered reader", rounds: [.init(number: 1, readBytes: 90 * mib, dirtiedBytes: 80 * mib), .init(number: 2, readBytes: 40 * mib, dirtiedBytes: 38 * mib)]),
            .init(name: "direct 'reader'", rounds: [.init(number: 1, readBytes: 90 * mib, dirtiedBytes: 2 * mib)]),
            .init(name: "no rounds", rounds: []),
        ], in: dir)
        XCTAssertTrue(html.contains("data:image/png;base64,"), "drawn and embedded")
        let png = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/dirtying.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let script = try String(contentsOfFile: dir + "/dirtying.gp", encoding: .utf8)
        XCTAssertTrue(script.contains("slope 0.9"), script)
        XCTAssertFalse(script.contains("no rounds"), "a group without rounds is left out")
        XCTAssertEqual(try DirtyingFigure.write([], in: dir), "")
    }

    /// Folder names and titles are text to gnuplot, never code: quotes, semicolons, backquotes and
    /// system() in a path or a label neither break the figure nor run anything.
    func testNoFolderNameOrLabelReachesGnuplotAsCode() throws {
        guard Gnuplot.executable != nil else { throw XCTSkip("gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)") }
        let base = NSTemporaryDirectory() + "/migscope-hostile-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let marker = base + "/ran"
        let dir = base + "/a 'b'; system(\"touch \(marker)\") `touch \(marker)` \\ \"c\""
        var info = ReportFixture.info(status: .completed)
        info.linkModel = "x' ; system('touch \(marker)') ; `touch \(marker)`\nset output '/tmp/x"
        _ = try RunReport.write([.init(info: info, trace: ReportFixture.trace())], to: dir)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run-3/timeline.png"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "gnuplot ran a command from a path or a label")
        let script = try String(contentsOfFile: dir + "/run-3/timeline.gp", encoding: .utf8)
        XCTAssertTrue(script.contains("set output 'timeline.png'") && !script.contains("set output '/"), "the script names files relative to its folder")
    }

    func testNumbersAreWrittenWithoutFoundationFormattingButTheSame() {
        for (x, d) in [(1.5, 3), (-0.0004, 3), (12345.678, 0), (0.1, 4), (-2.5, 1), (1e17, 2)] as [(Double, Int)] {
            XCTAssertEqual(NumberText.fixed(x, d), x == 1e17 ? "100000000000000000" : String(format: "%.\(d)f", x).replacingOccurrences(of: "-0.000", with: "0.000"), "\(x) \(d)")
        }
    }
}
