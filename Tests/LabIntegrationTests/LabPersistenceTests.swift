import Foundation
import XCTest

@testable import MigscopeLab

/// virsh's --persistent and --undefine-source through `migscope migrate`, checked with virsh.
final class LabPersistenceTests: XCTestCase {
    let guest = LabLayout.guestName

    override func setUp() async throws {
        try await LabFixture.ensureUp(for: Self.self)
        try await Lab.startGuest(on: .hostA)
    }

    override func tearDown() async throws {
        // The lab's guest is transient: leave no definition behind for the next test's guest.
        for h in [LabMachine.hostA, .hostB] { _ = try? virsh(h, ["undefine", guest]) }
    }


    func virsh(_ h: LabMachine, _ args: [String]) throws -> String {
        try Command.run(["virsh", "-c", h.libvirtURI] + args, check: false, timeout: 30).stdout
    }

    func persistent(_ h: LabMachine) throws -> String? {
        try virsh(h, ["dominfo", guest]).split(separator: "\n").first { $0.hasPrefix("Persistent:") }
            .map { $0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces) }
    }

    func testPersistentDefinesOnTheDestinationAndUndefineSourceRemovesTheSourcesDefinition() throws {
        let a = LabMachine.hostA, b = LabMachine.hostB
        XCTAssertEqual(try persistent(a), "no", "the lab's guest starts transient")
        let there = try ProcessRun.run(ProcessRun.migscope, ["migrate", guest, "--from", a.libvirtURI, "--to", b.libvirtURI, "--p2p", "--live", "--persistent", "--timeout", "90"])
        XCTAssertEqual(there.status, 0, there.err)
        XCTAssertEqual(try persistent(b), "yes", "--persistent defined it on host B")
        XCTAssertEqual(try virsh(b, ["domstate", guest]).trimmingCharacters(in: .whitespacesAndNewlines), "running")

        let back = try ProcessRun.run(ProcessRun.migscope, ["migrate", guest, "--from", b.libvirtURI, "--to", a.libvirtURI, "--p2p", "--live", "--persistent", "--undefine-source", "--timeout", "90"])
        XCTAssertEqual(back.status, 0, back.err)
        XCTAssertEqual(try persistent(a), "yes")
        XCTAssertFalse(try virsh(b, ["list", "--all", "--name"]).contains(guest), "--undefine-source left no definition on host B")
        XCTAssertEqual(try virsh(a, ["domstate", guest]).trimmingCharacters(in: .whitespacesAndNewlines), "running")
    }
}
