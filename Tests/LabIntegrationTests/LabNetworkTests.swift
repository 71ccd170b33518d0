import Foundation
import MigscopeCore
import MigscopeLab
import XCTest

/// The lab's links, measured with iperf3 rather than assumed from the tc settings.
final class LabNetworkTests: XCTestCase {
    override func setUp() async throws {
        try await LabFixture.ensureUp(for: Self.self)
        // Quiet links: the guest's own reads would share them (that contention is the paper's point,
        // but here the links themselves are measured).
        Lab.stopGuest()
    }


    func assertClose(_ measured: Double, to rate: Double, within: Double = 0.15, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let ratio = measured / rate
        print("measured \(what): \(String(format: "%.1f", measured / 1e6)) Mbit/s for \(Int(rate / 1e6)) Mbit/s")
        XCTAssertTrue(abs(ratio - 1) <= within, "\(what): measured \(Int(measured / 1e6)) Mbit/s for \(Int(rate / 1e6)) Mbit/s (ratio \(ratio))", file: file, line: line)
    }

    func testFullDuplexLinksCarryTheirRateInEachDirection() throws {
        for mbit in [100, 10] as [UInt64] {
            _ = try Lab.set(bandwidth: .mbit(mbit), link: .fullDuplex)
            let one = try LabChecks.throughput(from: .hostA, to: .hostB, seconds: 4)
            assertClose(one.forward, to: Double(mbit) * 1e6, "\(mbit)mbit A->B")
            // Longer at 10 Mbit/s: two TCP flows need a few seconds to share a slow link fairly.
            let both = try LabChecks.throughput(from: .hostA, to: .hostB, seconds: mbit == 10 ? 8 : 4, bothWays: true)
            // Both directions at once: together far more than one rate (a shared link caps the sum
            // at one). Each stays below its solo figure: its ACKs queue behind the other flow's
            // data in a port buffer, as on a real link with buffers.
            let rate = Double(mbit) * 1e6
            print("measured \(mbit)mbit both ways: \(String(format: "%.1f + %.1f", both.forward / 1e6, (both.reverse ?? 0) / 1e6)) Mbit/s")
            XCTAssertGreaterThan(both.forward, 0.6 * rate, "A->B with B->A at \(mbit)mbit: \(both)")
            XCTAssertGreaterThan(both.reverse ?? 0, 0.6 * rate, "B->A with A->B at \(mbit)mbit: \(both)")
            XCTAssertGreaterThan(both.forward + (both.reverse ?? 0), 1.4 * rate, "full duplex carries more than one rate in total: \(both)")
        }
        _ = try Lab.set(bandwidth: LabFixture.settings.bandwidth, link: LabFixture.settings.link)
    }

    func testASharedLinkSplitsOneRateBetweenItsDirections() throws {
        _ = try Lab.set(bandwidth: .mbit(100), link: .shared)
        defer { _ = try? Lab.set(bandwidth: LabFixture.settings.bandwidth, link: LabFixture.settings.link) }
        let one = try LabChecks.throughput(from: .hostA, to: .hostB, seconds: 4)
        assertClose(one.forward, to: 100e6, "shared, one direction")
        let both = try LabChecks.throughput(from: .hostA, to: .hostB, seconds: 4, bothWays: true)
        let total = both.forward + (both.reverse ?? 0)
        XCTAssertLessThan(total, 100e6 * 1.2, "both directions together stay within one rate: \(both)")
        XCTAssertGreaterThan(total, 100e6 * 0.6, "both directions together use the link: \(both)")
    }
}

/// `lab up` / `lab down` themselves: idempotent, and nothing left behind.
final class LabLifecycleTests: XCTestCase {
    override func setUp() async throws {
        if let why = LabFixture.cannotRun { throw XCTSkip(why) }
    }

    override func tearDown() async throws {
        Lab.down()
    }

    func testDownLeavesNothingBehindAndIsSafeTwiceAndAfterAHalfBuiltUp() async throws {
        LabFixture.tearDown()
        if Lab.isUp() { Lab.down() }
        var settings = LabFixture.settings
        settings.startGuest = true
        try await Lab.up(settings)
        XCTAssertTrue(Lab.isUp())
        // A second `up` says so instead of building over it.
        do {
            try await Lab.up(settings)
            XCTFail("up on an existing lab succeeded")
        } catch is LabAlreadyUp {}
        let first = Lab.down()
        XCTAssertFalse(first.removed.isEmpty)
        XCTAssertEqual(first.leftovers, [], "left behind: \(first.leftovers)")
        XCTAssertEqual(Lab.leftovers(), [])
        XCTAssertFalse(Lab.isUp())
        // Nothing of ours in the namespace list, the mount table or the process table.
        let namespaces = try String(decoding: Process.output(["ip", "netns", "list"]), as: UTF8.self)
        XCTAssertFalse(namespaces.contains("migscope"), namespaces)
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        XCTAssertFalse(mounts.contains("migscope"), mounts)
        let loops = try String(decoding: Process.output(["losetup", "-a"]), as: UTF8.self)
        XCTAssertFalse(loops.contains("migscope"), loops)
        // A second down is harmless.
        let second = Lab.down()
        XCTAssertEqual(second.removed, [])
        XCTAssertEqual(second.leftovers, [])
        // A half-built lab (namespaces made, nothing else) is removed too.
        _ = try Process.output(["ip", "netns", "add", LabMachine.hostA.namespace])
        XCTAssertTrue(Lab.isUp())
        let half = Lab.down()
        XCTAssertEqual(half.leftovers, [])
        XCTAssertFalse(Lab.isUp())
    }
}

extension Process {
    static func output(_ argv: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let d = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return d
    }
}
