import Libvirt
@testable import MigscopeLibvirt
import XCTest

/// What `migscope recover` does with each set of copies an interrupted migration can leave: it
/// removes a copy only when another copy runs and no job connects them.
final class MigrationLeftoversTests: XCTestCase {
    typealias Copy = MigrationLeftovers.Copy
    let migration = Domain.PausedReason.migration.rawValue
    let startingUp = Domain.PausedReason.startingUp.rawValue
    let user = Domain.PausedReason.user.rawValue

    func testAPausedArrivingCopyBesideTheRunningSourceWithNoJobIsDestroyed() {
        let v = MigrationLeftovers.decide([
            Copy(host: "A", state: .running, reason: 1, jobRunning: false),
            Copy(host: "B", state: .paused, reason: startingUp, jobRunning: false),
        ])
        XCTAssertEqual(v, .destroy(hosts: ["B"], runsOn: "A"))
        // The same with libvirt's later word for an arriving copy ("migrating").
        XCTAssertEqual(MigrationLeftovers.decide([
            Copy(host: "A", state: .running, reason: 1, jobRunning: false),
            Copy(host: "B", state: .paused, reason: migration, jobRunning: false),
        ]), .destroy(hosts: ["B"], runsOn: "A"))
    }

    func testNothingIsTouchedWhileAJobRuns() {
        let v = MigrationLeftovers.decide([
            Copy(host: "A", state: .running, reason: 1, jobRunning: true),
            Copy(host: "B", state: .paused, reason: migration, jobRunning: false),
        ])
        guard case .report(let why) = v else { return XCTFail("\(v)") }
        XCTAssertTrue(why.contains("a job still runs on A"), why)
    }

    func testACopyPausedByTheUserIsNotALeftover() {
        let v = MigrationLeftovers.decide([
            Copy(host: "A", state: .running, reason: 1, jobRunning: false),
            Copy(host: "B", state: .paused, reason: user, jobRunning: false),
        ])
        guard case .report = v else { return XCTFail("a user's paused copy was judged a leftover: \(v)") }
    }

    func testNoRunningCopyOrTwoAreReportedNeverDecided() {
        guard case .report(let none) = MigrationLeftovers.decide([
            Copy(host: "A", state: .paused, reason: migration, jobRunning: false),
            Copy(host: "B", state: .paused, reason: startingUp, jobRunning: false),
        ]) else { return XCTFail() }
        XCTAssertTrue(none.contains("runs nowhere"), none)
        guard case .report(let two) = MigrationLeftovers.decide([
            Copy(host: "A", state: .running, reason: 1, jobRunning: false),
            Copy(host: "B", state: .running, reason: 1, jobRunning: false),
        ]) else { return XCTFail() }
        XCTAssertTrue(two.contains("two copies run"), two)
    }

    func testOneRunningCopyAloneNeedsNothing() {
        XCTAssertEqual(MigrationLeftovers.decide([Copy(host: "A", state: .running, reason: 1, jobRunning: false)]), .nothingToDo(runsOn: "A"))
    }

    func testJobOperationsAreLibvirtsNumbers() {
        // libvirt-domain.h: VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN = 4, _OUT = 5.
        XCTAssertEqual(JobStats.Operation.migrationIn.rawValue, 4)
        XCTAssertEqual(JobStats.Operation.migrationOut.rawValue, 5)
        XCTAssertEqual(Domain.PausedReason.startingUp.rawValue, 11)
    }
}
