import Foundation
import XCTest

/// The README's first command, `bash scripts/reproduce.sh --quick`, as a new user runs it: from the
/// repository root, with the default output folder. scripts/test.sh runs it (outside `swift test`,
/// which holds the build folder the script builds in) and names its output folder in
/// MIGSCOPE_MAIN_JOB; these tests check what it printed and left, and that `runs` and `report`
/// find its runs without flags.
final class MainJobTests: XCTestCase {
    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    var jobFolder: String!
    var root: String { Self.repositoryRoot }
    var reportFolder: String { root + "/results/paper-quick-report" }

    override func setUpWithError() throws {
        guard let folder = ProcessInfo.processInfo.environment["MIGSCOPE_MAIN_JOB"] else {
            throw XCTSkip("the main job runs from scripts/test.sh (stage 3: bash scripts/reproduce.sh --quick, as root), which then runs these checks")
        }
        jobFolder = folder
    }

    func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            XCTFail("missing \(path)")
            return ""
        }
        return String(decoding: data, as: UTF8.self)
    }

    func csvRows(_ path: String) throws -> [[String]] {
        // migscope's CSV quotes fields with commas; these tables' last columns hold no quoted commas
        // that matter to the checks below, which read whole lines.
        try read(path).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    func testTheCommandExitedZeroAndPrintedTheTables() throws {
        let status = try read(jobFolder + "/status").trimmingCharacters(in: .whitespacesAndNewlines)
        let output = try read(jobFolder + "/output.log")
        XCTAssertEqual(status, "0", "bash scripts/reproduce.sh --quick exited \(status); its last lines:\n" + output.split(separator: "\n").suffix(15).joined(separator: "\n"))
        XCTAssertTrue(output.contains("report: \(reportFolder)/report.html"), "the report's path, as written")
        XCTAssertTrue(output.contains("finding"), "the paper-vs-ours table is printed")
    }

    func testTheReportItsFiguresAndThePaperTableExist() throws {
        let html = try read(reportFolder + "/report.html")
        XCTAssertTrue(html.contains("findings next to ours"), "the paper table is on the page")
        XCTAssertTrue(html.contains("data:image/png;base64,"), "figures embedded in the page")
        let png = try XCTUnwrap(FileManager.default.contents(atPath: reportFolder + "/comparison/comparison.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let runFolders = try FileManager.default.contentsOfDirectory(atPath: reportFolder).filter { $0.hasPrefix("run-") }
        XCTAssertEqual(runFolders.count, 4, "one run per cell: \(runFolders)")
        for run in runFolders {
            for figure in ["timeline.png", "network.png", "rounds.png", "timeline.svg"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(reportFolder)/\(run)/\(figure)"), "missing \(run)/\(figure)")
            }
        }

        let findings = try csvRows(reportFolder + "/paper.csv")
        XCTAssertEqual(findings.count, 6, "header and five findings")
        for f in findings.dropFirst() {
            // The quick plan is sized so that every cell measures a running workload: nothing is
            // left "not comparable" or "not measured".
            XCTAssertTrue(["agrees", "differs"].contains(f.last ?? ""), "a finding without a verdict: \(f)")
        }
        let cells = try csvRows(reportFolder + "/cells.csv")
        XCTAssertEqual(cells.count, 5, "four cells")
        for c in cells.dropFirst() {
            XCTAssertEqual(c.last, "", "a cell flagged: \(c)")
            // Every migration pauses the guest at least a little, and libvirt says how long.
            let downtime = Double(c[3].split(separator: " ").first ?? "") ?? 0
            XCTAssertGreaterThan(downtime, 1, "the hypervisor's downtime of \(c[0])")
        }
    }

    func testRunsAndReportFindTheRunsWithoutFlags() throws {
        let migscope = root + "/.build/release/migscope"
        let runs = try run(migscope, ["runs", "--json"])
        XCTAssertEqual(runs.status, 0, runs.err)
        let listed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(runs.out.utf8)) as? [[String: Any]])
        let all = listed.filter { ($0["plan"] as? String) == "paper-quick" }
        let quick = all.filter { ($0["status"] as? String) == "completed" }
        XCTAssertEqual(quick.count, 4, runs.out)
        XCTAssertEqual(Set(quick.compactMap { $0["cell"] as? String }).count, 4, "one complete run per cell: \(runs.out)")
        // A run is only ever made again because the lab's guest failed after its migration (QEMU
        // under TCG): its kernel crashed, or its read hung on the destination. The batch says so,
        // the failed run stays on the record with the reason, and its cell has a complete run.
        for retried in all where (retried["status"] as? String) != "completed" {
            XCTAssertEqual(retried["status"] as? String, "failed", runs.out)
            let error = retried["error"] as? String ?? ""
            XCTAssertTrue(RemadeRuns.explains(error), "made again for another reason: \(retried)")
            XCTAssertTrue(quick.contains { $0["cell"] as? String == retried["cell"] as? String }, "no complete run of its cell: \(retried)")
            print("MainJobTests: run \(retried["id"] ?? "?") was made again: \(error)")
        }

        let id = try XCTUnwrap(quick.first?["id"] as? Int)
        let out = "results/check-report-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root + "/" + out) }
        let report = try run(migscope, ["report", "\(id)", "--out", out])
        XCTAssertEqual(report.status, 0, report.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(root)/\(out)/run-\(id)/timeline.png"))
    }

    func run(_ binary: String, _ args: [String]) throws -> ProcessRun {
        var env = ProcessInfo.processInfo.environment
        env["MIGSCOPE_DB"] = nil
        return try ProcessRun.run(binary, args, in: root, environment: env)
    }
}
