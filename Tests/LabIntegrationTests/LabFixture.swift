import Foundation
import MigscopeCore
@testable import MigscopeLab
import XCTest

/// One lab shared by the integration tests of every class that uses it: built on first use, reset
/// to the fixture's link and a fresh guest when a new class starts, and removed when the test
/// bundle finishes (scripts/test.sh runs `lab down` after it as well, whatever happened). A class
/// that builds labs of its own takes it down first; the next user builds it again.
enum LabFixture {
    /// Small sizes: the paper's 1 GiB guest and 4 GiB read are for `migscope reproduce`, not CI.
    static let settings = LabSettings(
        bandwidth: .mbit(100), link: .fullDuplex, guestMemoryMiB: 256,
        workload: Workload(mode: .direct, blockSizeKiB: 1024, amountMiB: 0), diskSizeMiB: 512)

    nonisolated(unsafe) private static var built = false
    nonisolated(unsafe) private static var failure: String?
    nonisolated(unsafe) private static var suite: ObjectIdentifier?
    nonisolated(unsafe) private static var observing = false

    /// Why lab tests cannot run on this machine, or nil when they can.
    static var cannotRun: String? {
        if getuid() != 0 { return "lab tests need root (namespaces, tc, daemons); run them as root, as CI does" }
        if !FileManager.default.fileExists(atPath: "/var/cache/migscope/kernel/vmlinuz") {
            return "no guest kernel in /var/cache/migscope/kernel; run scripts/install-deps.sh"
        }
        return nil
    }

    /// The lab, up, for a test of `suite`: as the fixture left it for the class's earlier tests,
    /// reset for a class's first.
    static func ensureUp(for suite: AnyClass) async throws {
        if let why = cannotRun { throw XCTSkip(why) }
        if let failure { throw LabError("the lab did not come up earlier in this run: \(failure)") }
        if !observing {
            observing = true
            XCTestObservationCenter.shared.addTestObserver(BundleEnd())
        }
        let first = self.suite != ObjectIdentifier(suite)
        self.suite = ObjectIdentifier(suite)
        if built, Lab.isUp() {
            if first { try await reset() } else { try await replaceAVanishedGuest() }
            return
        }
        built = false
        if Lab.isUp() {
            print("LabFixture: removing a lab left up by someone else, to test on a known one")
            Lab.down()
        }
        do {
            try await Lab.up(settings) { print("LabFixture: \($0)") }
            built = true
        } catch {
            failure = "\(error)"
            throw error
        }
    }

    /// What a class's first test may expect: both daemons, the fixture's link, a new guest on A.
    static func reset() async throws {
        for h in LabMachine.hypervisors where HypervisorDaemon.pid(h) == nil { try await HypervisorDaemon.start(h) }
        _ = try Lab.set(bandwidth: settings.bandwidth, link: settings.link, storagePriority: false)
        try await Lab.startGuest(on: .hostA, memoryMiB: settings.guestMemoryMiB, workload: settings.workload)
    }

    /// Removes the fixture's lab when the test bundle ends.
    final class BundleEnd: NSObject, XCTestObservation, @unchecked Sendable {
        func testBundleDidFinish(_ testBundle: Bundle) { LabFixture.tearDown() }
    }

    /// A guest whose kernel crashed after an earlier test's migration (see LabChecks.guestCrash) is
    /// gone from both daemons; the next test gets a new one on host A rather than failing for it.
    static func replaceAVanishedGuest() async throws {
        guard settings.startGuest, Lab.guestHost() == nil else { return }
        let why = LabChecks.lastGuestCrash().map { "its kernel said '\($0)'" } ?? "no crash on its console"
        print("LabFixture: the guest runs on neither host (\(why)); starting a new one on host A")
        try await Lab.startGuest(on: .hostA, memoryMiB: settings.guestMemoryMiB, workload: settings.workload)
    }

    /// Skips, saying so, when the guest kernel crashed after `offset` in the console log: a defect
    /// of QEMU 7.2's virtio under TCG after a completed migration (LabChecks.guestCrash), not of
    /// what the test checks. Call it only once migscope's own part was checked.
    static func skipIfTheGuestCrashed(since offset: UInt64, after what: String) throws {
        guard let line = LabChecks.guestCrash(since: offset) else { return }
        throw XCTSkip("the guest's kernel crashed \(what) ('\(line)'): QEMU 7.2's virtio under TCG, see LabChecks.guestCrash; what migscope did was checked up to here")
    }

    /// Takes the fixture's lab down now (a class that builds its own labs calls it first).
    static func tearDown() {
        guard built else { return }
        let t = Lab.down()
        built = false
        if !t.leftovers.isEmpty { print("LabFixture: lab down left: \(t.leftovers)") }
    }
}
