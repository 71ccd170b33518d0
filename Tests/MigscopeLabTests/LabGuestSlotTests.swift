import MigscopeCore
@testable import MigscopeLab
import XCTest

/// A lab of several guests: names, folders, LUNs, each guest's workload and what is refused.
final class LabGuestSlotTests: XCTestCase {
    func testTheFirstGuestKeepsTheOneGuestNamesAndTheOthersAreNumbered() {
        XCTAssertEqual(LabGuestSlot.first.name, LabLayout.guestName)
        XCTAssertEqual(LabGuestSlot.first.reportLog, LabLayout.reportLog)
        XCTAssertEqual(LabGuestSlot(3).name, "migscope-guest-3")
        XCTAssertEqual(LabGuestSlot(3).directory, "/run/migscope-lab/guest-3")
        XCTAssertEqual(LabGuestSlot.upTo(3).map(\.number), [1, 2, 3])
        XCTAssertEqual(LabGuestSlot(name: "migscope-guest"), .first)
        XCTAssertEqual(LabGuestSlot(name: "migscope-guest-8")?.number, 8)
        for bad in ["migscope-guest-1", "migscope-guest-9", "migscope-guest-02", "migscope-guest-", "other", "migscope-guest-+3"] {
            XCTAssertNil(LabGuestSlot(name: bad), bad)
        }
    }

    func testEachGuestsXMLHasItsOwnNameLunConsolesAndWorkload() {
        var s = LabSettings(guestMemoryMiB: 128)
        s.guests = 3
        s.guestWorkloads = [Workload(mode: .direct), Workload(mode: .buffered), Workload(mode: .idle)]
        XCTAssertEqual(s.problems(), [])
        let xml = LabGuest.domainXML(s, slot: LabGuestSlot(2), accelerator: "tcg")
        XCTAssertTrue(xml.contains("<name>migscope-guest-2</name>"))
        XCTAssertTrue(xml.contains("name='\(LabLayout.targetIQN)/2'"))
        XCTAssertTrue(xml.contains("/run/migscope-lab/guest-2/reports.log"))
        XCTAssertTrue(xml.contains("migscope.mode=buffered"))
        for file in ["console.log", "reports.log", "control"] {
            XCTAssertFalse(xml.contains("/run/migscope-lab/guest/\(file)"), "none of the first guest's consoles: \(file)")
        }
        XCTAssertTrue(xml.contains("/run/migscope-lab/guest/initramfs.cpio"), "every guest boots the one initramfs")
        XCTAssertTrue(LabGuest.domainXML(s, accelerator: "tcg").contains("migscope.mode=direct"))
    }

    func testGuestCountsAndWorkloadListsThatDoNotFitAreRefused() {
        var s = LabSettings()
        s.guests = 9
        XCTAssertEqual(s.problems().map(\.setting), [.guests])
        XCTAssertTrue(s.problems()[0].message.contains("got 9"))
        s.guests = 3
        s.guestWorkloads = [Workload(mode: .direct), Workload(mode: .idle)]
        XCTAssertTrue(s.problems().first?.message.contains("2 workloads for 3 guests") == true, "\(s.problems())")
        s.guestWorkloads = [Workload(mode: .direct), Workload(mode: .idle, blockSizeKiB: 1000), Workload()]
        XCTAssertEqual(s.problems().map(\.setting), [.blockSize])
    }

    func testMoreGuestsThanTheMachinesMemoryIsRefusedUpFront() throws {
        let available = try XCTUnwrap(Lab.availableMemoryMiB(), "/proc/meminfo has MemAvailable")
        var s = LabSettings(guestMemoryMiB: 128)
        s.guests = 2
        XCTAssertNoThrow(try Lab.checkMemory(s))
        s.guestMemoryMiB = available / 2
        XCTAssertThrowsError(try Lab.checkMemory(s)) { error in
            XCTAssertTrue((error as? LabError)?.message.contains("give fewer --guests or less --guest-memory") == true, "\(error)")
        }
        s.startGuest = false
        XCTAssertNoThrow(try Lab.checkMemory(s), "no guest, nothing to fit")
    }
}
