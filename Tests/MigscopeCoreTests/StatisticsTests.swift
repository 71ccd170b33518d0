import XCTest

@testable import MigscopeCore

final class StatisticsTests: XCTestCase {
    /// Student's t at 0.975 against published tables, beyond the old table's 30 degrees too.
    func testStudentTQuantilesMatchPublishedValuesForAnyDegreesOfFreedom() {
        let known: [(Int, Double)] = [(1, 12.7062), (2, 4.3027), (5, 2.5706), (10, 2.2281), (30, 2.0423), (31, 2.0395),
                                      (40, 2.0211), (60, 2.0003), (120, 1.9799), (1000, 1.9623)]
        for (df, t) in known {
            XCTAssertEqual(Statistics.studentTQuantile(0.975, degrees: df), t, accuracy: 5e-4, "df \(df)")
        }
        XCTAssertEqual(Statistics.studentTQuantile(0.995, degrees: 4), 4.6041, accuracy: 5e-4)
        XCTAssertEqual(Statistics.studentTQuantile(0.025, degrees: 10), -2.2281, accuracy: 5e-4)
        XCTAssertEqual(Statistics.studentTQuantile(0.5, degrees: 7), 0)
    }

    func testMeasureStatsUseTheTQuantileOfTheirSampleSize() throws {
        // 41 values: 40 degrees of freedom, t = 2.021 (the old code used 1.96 here).
        let values = (0...40).map { Double($0) }
        let s = try XCTUnwrap(MeasureStats(values))
        let sd = try XCTUnwrap(Statistics.standardDeviation(values))
        XCTAssertEqual(s.mean, 20)
        XCTAssertEqual(try XCTUnwrap(s.ci95), 2.0211 * sd / 41.0.squareRoot(), accuracy: 1e-3)
        XCTAssertNil(MeasureStats([3])?.ci95)
        XCTAssertNil(MeasureStats([]))
    }

    func testPercentilesAndSpread() {
        XCTAssertEqual(Statistics.percentile([5, 1, 3, 2, 4], 0.5), 3)
        XCTAssertEqual(Statistics.percentile([5, 1, 3, 2, 4], 0.9), 5)
        XCTAssertEqual(Statistics.percentile([], 0.5), nil)
        XCTAssertEqual(Statistics.standardDeviation([2, 4, 4, 4, 5, 5, 7, 9])!, 2.138, accuracy: 1e-3)
        XCTAssertNil(Statistics.standardDeviation([1]))
    }
}
