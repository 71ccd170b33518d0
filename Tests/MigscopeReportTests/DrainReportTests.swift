import Foundation
import MigscopeCore
import XCTest

@testable import MigscopeReport

/// A drain's report: two runs of one drain, the second anchored 4 s after the first.
final class DrainReportTests: XCTestCase {
    func testADrainReportPutsItsGuestsOnOneClockWithATableAndAFigure() throws {
        guard Gnuplot.executable != nil else { throw XCTSkip("gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)") }
        let dir = NSTemporaryDirectory() + "/migscope-drain-report-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let anchor = Date(timeIntervalSince1970: 1_000_000)
        var first = ReportFixture.info(status: .completed)
        first.anchor = anchor
        first.drain = "0123abcd-0000"
        first.request.domain = "guest-one"
        var second = first
        second.id = 4
        second.anchor = anchor.addingTimeInterval(4)
        second.request.domain = "guest-'two'"
        let page = try DrainReport.write(drain: "0123abcd-0000", [.init(info: first, trace: ReportFixture.trace()), .init(info: second, trace: ReportFixture.trace())], to: dir)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>Drain 0123abcd-0000</h2>"), "the drain's table comes first")
        XCTAssertTrue(html.contains("Drain time 10.0 s, at most 2 at once"), "first start (10 s) to the second guest running on b (4 + 16 s)")
        let csv = try String(contentsOfFile: dir + "/drain.csv", encoding: .utf8)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, csv)
        XCTAssertTrue(lines[1].hasPrefix("guest-one,3,b,0.0,6.0,6.0,700,25 %"), csv)
        XCTAssertTrue(lines[2].contains(",4,b,4.0,10.0,6.0,"), csv)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/drain.png"))
        let script = try String(contentsOfFile: dir + "/drain.gp", encoding: .utf8)
        XCTAssertTrue(script.contains("title 'guest-''two'''"), "a domain's name is data in the script, quoted: \(script)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run-4/timeline.png"), "each run's own sections follow")
    }
}
