import XCTest

@testable import MigscopeCore

final class MigrationRequestTests: XCTestCase {
    func request(_ change: (inout MigrationRequest) -> Void = { _ in }) -> MigrationRequest {
        var r = MigrationRequest(domain: "guest", source: "qemu+tcp://198.18.0.1/system", destination: "qemu+tcp://198.18.0.2/system")
        change(&r)
        return r
    }

    func testAGoodRequestHasNoProblems() {
        XCTAssertEqual(request().problems(), [])
    }

    func testTheSameHostSpelledDifferentlyIsStillTheSameHost() {
        XCTAssertTrue(HostURI.sameHost("qemu+tcp://198.18.0.1/system", "QEMU+TCP://198.18.0.1/system/"))
        XCTAssertFalse(HostURI.sameHost("qemu:///system?socket=/a", "qemu:///system?socket=/b"))
        let p = request { $0.destination = "qemu+tcp://198.18.0.1/system/" }.problems()
        XCTAssertEqual(p.map(\.field), ["to"])
        XCTAssertTrue(p[0].message.contains("is the source itself"), p[0].message)
    }

    func testZeroRatesAndNonPositiveTimesAreNamed() {
        let p = request {
            $0.bandwidthMiBps = 0
            $0.maxDowntimeMs = 0
            $0.pauseAfterSeconds = -1
            $0.abortAfterSeconds = .infinity
        }.problems()
        XCTAssertEqual(p.map(\.field), ["bandwidth", "max-downtime", "timeout", "abort-after"])
    }

    func testATimeoutMakesNoSenseForANonLiveMigration() {
        let p = request { $0.mode = .nonLive; $0.pauseAfterSeconds = 5 }.problems()
        XCTAssertEqual(p.map(\.field), ["timeout"])
    }

    func testEmptyNamesAreProblems() {
        XCTAssertEqual(request { $0.domain = " " }.problems().map(\.field), ["domain"])
        XCTAssertEqual(request { $0.source = "" }.problems().map(\.field), ["from"])
    }
}

final class JobProgressTests: XCTestCase {
    func testFractionAndDirtyRateNeedTheirInputs() {
        var p = JobProgress(dirtyRatePagesPerSecond: 100, memoryTotalBytes: 1000, memoryRemainingBytes: 250)
        XCTAssertEqual(p.fractionDone, 0.75)
        XCTAssertNil(p.dirtyRateBytesPerSecond)
        p.pageSizeBytes = 4096
        XCTAssertEqual(p.dirtyRateBytesPerSecond, 409_600)
        XCTAssertNil(JobProgress(memoryRemainingBytes: 5).fractionDone)
    }

    func testFormatUsesBinaryUnits() {
        XCTAssertEqual(Format.bytes(UInt64(512)), "512 B")
        XCTAssertEqual(Format.bytes(UInt64(1536)), "1.5 KiB")
        XCTAssertEqual(Format.bytes(UInt64(1 << 30)), "1.0 GiB")
        XCTAssertEqual(Format.seconds(1.234), "1.23 s")
        XCTAssertEqual(Format.seconds(123.4), "123 s")
    }
}

final class GuestConsoleLineTests: XCTestCase {
    func testRateStartAndDoneLinesParse() {
        XCTAssertEqual(
            GuestConsoleLine("MIGSCOPE rate seq=12 up=15.02 read_bps=12058624 write_bps=0 read_total=150994944\r"),
            .rate(sequence: 12, uptimeSeconds: 15.02, readBytesPerSecond: 12_058_624, writeBytesPerSecond: 0, readTotalBytes: 150_994_944))
        XCTAssertEqual(
            GuestConsoleLine("[    3.1] MIGSCOPE start mode=direct bs_kib=1024 amount_mib=0 disk_mib=512"),
            .start(mode: "direct", blockSizeKiB: 1024, amountMiB: 0, diskMiB: 512))
        XCTAssertEqual(GuestConsoleLine("MIGSCOPE done read_total=4294967296 seconds=462.10 up=470.5"), .done(readTotalBytes: 4_294_967_296, seconds: 462.1, uptimeSeconds: 470.5))
        XCTAssertEqual(GuestConsoleLine("MIGSCOPE done read_total=1 seconds=2"), .done(readTotalBytes: 1, seconds: 2, uptimeSeconds: nil))
    }

    func testADoneLineAsTheLabGuestWritesIt() {
        let text = "MIGSCOPE rate seq=8 up=11.66 read_bps=12098954 write_bps=0 read_total=97529856\r\nMIGSCOPE done read_total=100663296 seconds=8.68 up=12.06\r\n"
        let lines = text.split(whereSeparator: \.isNewline).compactMap(GuestConsoleLine.init)
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines.last, .done(readTotalBytes: 100_663_296, seconds: 8.68, uptimeSeconds: 12.06))
    }

    /// A guest's console is a tenant's input: numbers that cannot be true are refused, not stored
    /// (1e30 once trapped the recorder, nan dropped a second of samples, inf kept a run recording).
    func testReportsWithUntrueNumbersAreRefused() {
        for line in [
            "MIGSCOPE done read_total=1e30 seconds=5", "MIGSCOPE done read_total=100 seconds=inf",
            "MIGSCOPE rate seq=1 up=2 read_bps=nan write_bps=0", "MIGSCOPE rate seq=1 up=2 read_bps=inf write_bps=0",
            "MIGSCOPE rate seq=1 up=2 read_bps=-5 write_bps=0", "MIGSCOPE rate seq=1 up=2 read_bps=2e11 write_bps=0",
            "MIGSCOPE rate seq=-1 up=2 read_bps=5 write_bps=0", "MIGSCOPE rate seq=1 up=2 read_bps=5 write_bps=0 read_total=1e300",
            "MIGSCOPE done read_total=100 seconds=5 up=-1", "MIGSCOPE rate seq=99999999999999999999 up=2 read_bps=5 write_bps=0",
        ] {
            XCTAssertEqual(GuestConsoleLine.read(line[...]), .refused, line)
            XCTAssertNil(GuestConsoleLine(line[...]), line)
        }
        XCTAssertEqual(GuestConsoleLine.read("[ 1.0] eth0: link up"), .other)
        XCTAssertEqual(GuestConsoleLine("MIGSCOPE start mode=dir;rm$(x) bs_kib=4"), .start(mode: "dirrmx", blockSizeKiB: 4, amountMiB: 0, diskMiB: 0))
    }

    func testOtherLinesAreNotReports() {
        XCTAssertNil(GuestConsoleLine("[    0.000000] Linux version 6.1.0"))
        XCTAssertNil(GuestConsoleLine("MIGSCOPE rate seq=x"))
        XCTAssertNil(GuestConsoleLine("MIGSCOPE"))
    }
}
