import XCTest

@testable import Libvirt

final class JobStatsTests: XCTestCase {
    /// Keys and values as QEMU's driver reported them mid-migration in the lab (FACTS-lab.md).
    let running = TypedParameters([
        ("operation", .int(4)), ("time_elapsed", .ullong(12_345)), ("data_total", .ullong(1_090_000_000)),
        ("data_processed", .ullong(400_000_000)), ("data_remaining", .ullong(690_000_000)),
        ("memory_total", .ullong(1_090_000_000)), ("memory_processed", .ullong(400_000_000)),
        ("memory_remaining", .ullong(690_000_000)), ("memory_bps", .ullong(12_500_000)),
        ("memory_dirty_rate", .ullong(3_000)), ("memory_page_size", .ullong(4096)),
        ("memory_iteration", .ullong(3)), ("downtime", .ullong(300)), ("setup_time", .ullong(8)),
        ("some_future_key", .string("kept")),
    ])

    func testKnownKeysAreDecodedWhateverTheirIntegerWidth() {
        let s = JobStats(type: .unbounded, parameters: running)
        XCTAssertEqual(s.type, .unbounded)
        XCTAssertEqual(s.operation, 4)
        XCTAssertEqual(s.timeElapsed, 12_345)
        XCTAssertEqual(s.memoryIteration, 3)
        XCTAssertEqual(s.memoryDirtyRate, 3_000)
        XCTAssertEqual(s.memoryPageSize, 4096)
        XCTAssertEqual(s.memoryRemaining, 690_000_000)
        XCTAssertEqual(s.memoryBps, 12_500_000)
        XCTAssertEqual(s.dataProcessed, 400_000_000)
        XCTAssertEqual(s.downtime, 300)
        XCTAssertEqual(s.setupTime, 8)
    }

    func testMissingKeysStayNilAndUnknownKeysAreKept() {
        let s = JobStats(type: .completed, parameters: TypedParameters([("time_elapsed", .ullong(10)), ("brand_new", .ullong(1))]))
        XCTAssertEqual(s.timeElapsed, 10)
        XCTAssertNil(s.memoryIteration)
        XCTAssertNil(s.downtime)
        XCTAssertEqual(s.other.keys, ["brand_new"])
    }

    func testParametersReproduceEveryKeyDecoded() {
        let s = JobStats(type: .unbounded, parameters: running)
        let again = JobStats(type: .unbounded, parameters: s.parameters)
        XCTAssertEqual(again, s)
        XCTAssertEqual(Set(s.parameters.keys), Set(running.keys))
    }
}
