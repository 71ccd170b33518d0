import Foundation
import Libvirt
import MigscopeCore
import MigscopeLab
import MigscopeLibvirt
import XCTest

/// Real migrations in the embedded lab, through the Swift API: real libvirt daemons, real QEMU
/// (TCG), a real iSCSI target, real namespaces and tc.
final class LabMigrationTests: XCTestCase {
    override func setUp() async throws {
        try await LabFixture.ensureUp(for: Self.self)
    }


    let a = LabMachine.hostA.libvirtURI
    let b = LabMachine.hostB.libvirtURI

    /// Migrates and checks every claim the lab makes about the result.
    func migrate(from: LabMachine, to: LabMachine, mode: MigrationRequest.Mode, transport: MigrationRequest.Transport,
                 file: StaticString = #filePath, line: UInt = #line) async throws -> MigrationSummary {
        // Start from the host the guest is on, as a user would.
        XCTAssertEqual(Self.guestHost(), from, "guest not where the test expects it", file: file, line: line)
        let request = MigrationRequest(
            domain: LabLayout.guestName, source: from.libvirtURI, destination: to.libvirtURI, mode: mode,
            transport: transport,
            // Safety net only: a guest that dirties memory faster than the link may never converge.
            pauseAfterSeconds: mode == .live ? 90 : nil)
        let consoleBefore = LabChecks.reports(from: 0).end
        let kernelBefore = LabChecks.consoleEnd()
        let session = try await LibvirtBackend().prepare(request)
        let summary = await MigrationRunner().run(session)

        XCTAssertEqual(summary.outcome, .completed, file: file, line: line)
        XCTAssertEqual(summary.location.place, .destination, "\(summary.location)", file: file, line: line)
        XCTAssertEqual(summary.location.state, "running", file: file, line: line)
        // Gone from the source, running on the destination, asked directly of each daemon.
        let src = try Connection(uri: from.libvirtURI)
        XCTAssertThrowsError(try src.domain(named: LabLayout.guestName), "still defined on the source", file: file, line: line)
        let dst = try Connection(uri: to.libvirtURI)
        let arrived = try? dst.domain(named: LabLayout.guestName).state().state
        if arrived != .running { try LabFixture.skipIfTheGuestCrashed(since: kernelBefore, after: "on \(to.rawValue) right after the completed migration") }
        XCTAssertEqual(arrived, .running, file: file, line: line)
        XCTAssertGreaterThan(summary.final?.memoryProcessedBytes ?? 0, 0, "no bytes reported", file: file, line: line)
        XCTAssertNotNil(summary.final?.downtimeMs, file: file, line: line)

        // The guest keeps reading after the move: new rate lines with data read.
        let reading = try await Self.waitForReading(after: consoleBefore, lines: 3)
        if !reading { try LabFixture.skipIfTheGuestCrashed(since: kernelBefore, after: "on \(to.rawValue) after the completed migration") }
        XCTAssertTrue(reading, "the guest's rate lines did not show reading after the migration", file: file, line: line)
        // It reads from the target again, now from the destination's address.
        let initiators = try await Self.waitForInitiator(to.address)
        XCTAssertEqual(initiators, [to.address], "iSCSI initiators: \(initiators)", file: file, line: line)
        return summary
    }

    static func guestHost() -> LabMachine? { Lab.guestHost() }

    /// Waits for `lines` rate lines written after `offset` in which the guest read something.
    static func waitForReading(after offset: UInt64, lines: Int, timeout: Duration = .seconds(60)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = LabChecks.reports(from: offset).text
            let readingLines = text.split(whereSeparator: \.isNewline).compactMap(GuestConsoleLine.init).filter {
                if case .rate(_, _, let r, _, _) = $0 { return r > 0 }
                return false
            }
            if readingLines.count >= lines { return true }
            try await Task.sleep(for: .milliseconds(500))
        }
        return false
    }

    static func waitForInitiator(_ address: String) async throws -> [String] {
        var seen: [String] = []
        for _ in 0..<40 {
            seen = LabChecks.iscsiInitiatorAddresses()
            if seen == [address] { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        return seen
    }

    func testLiveMigrationToHostBAndBackWhileTheGuestReads() async throws {
        let there = try await migrate(from: .hostA, to: .hostB, mode: .live, transport: .peerToPeer)
        XCTAssertGreaterThanOrEqual(there.rounds, 2, "a live migration makes at least one pre-copy round and the final copy")
        let back = try await migrate(from: .hostB, to: .hostA, mode: .live, transport: .clientManaged)
        XCTAssertGreaterThanOrEqual(back.rounds, 2)
    }

    func testNonLiveMigrationToHostBAndBackWhileTheGuestReads() async throws {
        let there = try await migrate(from: .hostA, to: .hostB, mode: .nonLive, transport: .clientManaged)
        // Paused for the whole copy: the downtime is most of the migration.
        let downtime = Double(there.final?.downtimeMs ?? 0) / 1000
        XCTAssertGreaterThan(downtime, there.elapsedSeconds * 0.5, "downtime \(downtime) s of \(there.elapsedSeconds) s")
        _ = try await migrate(from: .hostB, to: .hostA, mode: .nonLive, transport: .peerToPeer)
    }

    func testAbortLeavesTheGuestRunningOnTheSource() async throws {
        XCTAssertEqual(Self.guestHost(), .hostA)
        let request = MigrationRequest(
            domain: LabLayout.guestName, source: a, destination: b, mode: .live, transport: .peerToPeer,
            bandwidthMiBps: 1, abortAfterSeconds: 3)
        let session = try await LibvirtBackend().prepare(request)
        let summary = await MigrationRunner().run(session)
        guard case .aborted = summary.outcome else { return XCTFail("outcome \(summary.outcome)") }
        XCTAssertEqual(summary.location.place, .source)
        XCTAssertEqual(summary.location.state, "running")
        XCTAssertEqual(Self.guestHost(), .hostA)
        let reading = try await Self.waitForReading(after: LabChecks.reports(from: 0).end, lines: 2)
        XCTAssertTrue(reading)
    }

    func testARunningJobReportsProgressAndTakesNewLimits() async throws {
        XCTAssertEqual(Self.guestHost(), .hostA)
        // 1 MiB/s: slow enough to look at the job while it runs, then abort it.
        let request = MigrationRequest(domain: LabLayout.guestName, source: a, destination: b, bandwidthMiBps: 1, maxDowntimeMs: 500)
        let session = try await LibvirtBackend().prepare(request)
        let conn = try Connection(uri: a)
        let domain = try conn.domain(named: LabLayout.guestName)
        XCTAssertEqual(try domain.migrationMaxDowntime(), 500, "max downtime set before the start")
        let run = Task { try await session.run() }
        var progress: JobProgress? = nil
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(200))
            if let p = try session.progress(), (p.memoryProcessedBytes ?? 0) > 0 { progress = p; break }
        }
        XCTAssertNotNil(progress?.memoryTotalBytes)
        XCTAssertNotNil(progress?.iteration)
        try session.setMaxSpeed(mebibytesPerSecond: 2)
        XCTAssertEqual(try domain.migrationMaxSpeed(), 2)
        try session.setMaxDowntime(milliseconds: 800)
        XCTAssertEqual(try domain.migrationMaxDowntime(), 800)
        try session.abort()
        do {
            try await run.value
            XCTFail("the aborted migration completed")
        } catch let e as MigrationError {
            XCTAssertEqual(e.kind, .aborted, e.message)
        }
        XCTAssertEqual(session.locate().place, .source)
    }

    func testIterationAndCompletionEventsArriveDuringALiveMigration() async throws {
        XCTAssertEqual(Self.guestHost(), .hostA)
        let request = MigrationRequest(domain: LabLayout.guestName, source: a, destination: b, transport: .peerToPeer, pauseAfterSeconds: 90)
        let session = try await LibvirtBackend().prepare(request)
        let collector = SignalCollector()
        let summary = await MigrationRunner().run(session, observer: collector)
        XCTAssertEqual(summary.outcome, .completed)
        let rounds = collector.signals.compactMap { if case .roundStarted(let n) = $0.kind { return n } else { return nil } }
        XCTAssertGreaterThanOrEqual(rounds.count, 2, "\(collector.signals.map(\.kind))")
        XCTAssertEqual(rounds, Array(1...UInt64(rounds.count)), "rounds numbered 1, 2, ...")
        XCTAssertEqual(summary.final?.iteration.map(Int.init), rounds.count, "libvirt's final memory_iteration equals the events seen")
        XCTAssertTrue(collector.signals.contains { $0.kind == .guestResumed(host: .destination) })
        XCTAssertTrue(collector.signals.contains { if case .jobCompleted = $0.kind { return true } else { return false } })
        // Move it back for the next test.
        _ = await MigrationRunner().run(try await LibvirtBackend().prepare(
            MigrationRequest(domain: LabLayout.guestName, source: b, destination: a, mode: .nonLive)))
        XCTAssertEqual(Self.guestHost(), .hostA)
    }
}

final class SignalCollector: MigrationObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var _signals: [MigrationSignal] = []
    var signals: [MigrationSignal] { lock.withLock { _signals } }
    func signalled(_ signal: MigrationSignal) { lock.withLock { _signals.append(signal) } }
}
