import Foundation
import MigscopeCore
import MigscopeLab
import XCTest

/// One lab shared by the integration tests of a class: built on first use, removed in the class's
/// tearDown, which XCTest runs even when tests fail.
enum LabFixture {
    /// Small sizes: the paper's 1 GiB guest and 4 GiB read are for `migscope reproduce`, not CI.
    static let settings = LabSettings(
        bandwidth: .mbit(100), link: .fullDuplex, guestMemoryMiB: 256,
        workload: Workload(mode: .direct, blockSizeKiB: 1024, amountMiB: 0), diskSizeMiB: 512)

    nonisolated(unsafe) private static var built = false
    nonisolated(unsafe) private static var failure: String?

    /// Why lab tests cannot run on this machine, or nil when they can.
    static var cannotRun: String? {
        if getuid() != 0 { return "lab tests need root (namespaces, tc, daemons); run them as root, as CI does" }
        if !FileManager.default.fileExists(atPath: "/var/cache/migscope/kernel/vmlinuz") {
            return "no guest kernel in /var/cache/migscope/kernel; run scripts/install-deps.sh"
        }
        return nil
    }

    static func ensureUp() async throws {
        if let why = cannotRun { throw XCTSkip(why) }
        if let failure { throw LabError("the lab did not come up earlier in this run: \(failure)") }
        if built {
            try await replaceAVanishedGuest()
            return
        }
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

    static func tearDown() {
        guard built else { return }
        let t = Lab.down()
        built = false
        if !t.leftovers.isEmpty { print("LabFixture: lab down left: \(t.leftovers)") }
    }
}
