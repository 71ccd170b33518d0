import MigscopeCore
import XCTest

@testable import MigscopeLab

/// The tc commands the lab runs, checked without a kernel.
final class ShapingTests: XCTestCase {
    func testAnUnshapedLinkGetsNoQdiscs() {
        XCTAssertEqual(Shaping.apply(port: "port-a", ifb: "ifb-a", rate: .unshaped, model: .shared), [])
    }

    func testFullDuplexShapesEachDirectionWithItsOwnClass() {
        let cmds = Shaping.apply(port: "port-a", ifb: "ifb-a", rate: .mbit(100), model: .fullDuplex)
        let classes = cmds.filter { $0.starts(with: ["tc", "class", "add"]) }
        XCTAssertEqual(classes.map { $0[4] }, ["ifb-a", "port-a"], "one HTB class on the ifb (sending), one on the port (receiving)")
        XCTAssertTrue(classes.allSatisfy { $0.contains("100000000bit") })
        XCTAssertEqual(cmds.filter { $0.contains("redirect") }.count, 1, "only the port's ingress goes to the ifb")
        // About 100 ms of buffer at 100 Mbit/s.
        XCTAssertTrue(cmds.contains { $0.contains("bfifo") && $0.last == "1250000" })
    }

    func testSharedSendsBothDirectionsThroughOneClass() {
        let cmds = Shaping.apply(port: "port-b", ifb: "ifb-b", rate: .mbit(10), model: .shared)
        let classes = cmds.filter { $0.starts(with: ["tc", "class", "add"]) }
        XCTAssertEqual(classes.map { $0[4] }, ["ifb-b"], "only the ifb has a rate")
        let redirects = cmds.filter { $0.contains("redirect") }
        XCTAssertEqual(redirects.count, 2, "ingress and egress of the port both go to the ifb")
        XCTAssertTrue(redirects.allSatisfy { $0.last == "ifb-b" })
        XCTAssertEqual(Set(redirects.map { $0[$0.firstIndex(of: "parent")! + 1] }), ["ffff:", "1:"])
    }

    func testStoragePriorityServesISCSIFirstAndLetsBothClassesBorrowTheWholeRate() {
        let cmds = Shaping.apply(port: "port-a", ifb: "ifb-a", rate: .mbit(100), model: .shared, storagePriority: true)
        let classes = cmds.filter { $0.starts(with: ["tc", "class", "add"]) }
        func field(_ c: [String], _ name: String) -> String? { c.firstIndex(of: name).map { c[$0 + 1] } }
        let storage = try! XCTUnwrap(classes.first { field($0, "classid") == "1:20" })
        let other = try! XCTUnwrap(classes.first { field($0, "classid") == "1:10" })
        XCTAssertEqual(field(storage, "prio"), "0")
        XCTAssertEqual(field(other, "prio"), "1")
        XCTAssertEqual(field(storage, "rate"), "90000000bit")
        XCTAssertEqual(field(other, "rate"), "10000000bit")
        XCTAssertTrue([storage, other].allSatisfy { field($0, "ceil") == "100000000bit" && field($0, "parent") == "1:1" })
        let filters = cmds.filter { $0.starts(with: ["tc", "filter", "add", "dev", "ifb-a"]) }
        XCTAssertEqual(Set(filters.compactMap { c in c.firstIndex(of: "match").map { c[$0 + 2] } }), ["sport", "dport"])
        XCTAssertTrue(filters.allSatisfy { field($0, "flowid") == "1:20" && $0.contains("3260") })
        XCTAssertEqual(cmds.filter { $0.contains("bfifo") }.count, 2, "a port buffer per class")
        let plain = Shaping.apply(port: "port-a", ifb: "ifb-a", rate: .mbit(100), model: .shared)
        XCTAssertFalse(plain.contains { $0.contains("prio") }, "without it, one class for all")
    }

    func testSmallRatesKeepAMinimumBufferAndBurst() {
        let cmds = Shaping.apply(port: "p", ifb: "i", rate: LinkRate("200kbit")!, model: .fullDuplex)
        XCTAssertTrue(cmds.contains { $0.contains("bfifo") && $0.last == "4500" })
        XCTAssertTrue(cmds.contains { $0.contains("1600b") })
    }

    func testLinkRatesParseAndPrintAsTcWritesThem() {
        XCTAssertEqual(LinkRate("100mbit"), .mbit(100))
        XCTAssertEqual(LinkRate("10M"), .mbit(10))
        XCTAssertEqual(LinkRate("1gbit")?.description, "1gbit")
        XCTAssertEqual(LinkRate("none"), .unshaped)
        XCTAssertEqual(LinkRate("2.5mbit")?.bitsPerSecond, 2_500_000)
        XCTAssertNil(LinkRate("fast"))
        XCTAssertNil(LinkRate("-5mbit"))
        XCTAssertNil(LinkRate("0mbit"))
    }

    func testSettingsProblemsNameTheValue() {
        var s = LabSettings()
        XCTAssertEqual(s.problems(), [])
        s.guestMemoryMiB = 10
        s.workload.blockSizeKiB = 1000
        s.bandwidth = LinkRate("50kbit")!
        let p = s.problems()
        XCTAssertEqual(p.count, 3, "\(p)")
        XCTAssertEqual(p.map(\.setting), [.guestMemory, .blockSize, .linkRate])
        XCTAssertTrue(p[0].message.contains("got 10"))
        XCTAssertTrue(p[1].message.contains("got 1000"))
        XCTAssertTrue(p[2].message.contains("50kbit"))
    }

    func testTheGuestXMLUsesTheISCSIDiskAndASharedConsole() {
        let xml = LabGuest.domainXML(LabSettings(guestMemoryMiB: 512), accelerator: "tcg")
        XCTAssertTrue(xml.contains("<domain type='qemu'>"))
        XCTAssertTrue(xml.contains("protocol='iscsi' name='\(LabLayout.targetIQN)/1'"))
        XCTAssertTrue(xml.contains("<host name='198.18.0.10' port='3260'/>"))
        XCTAssertTrue(xml.contains("append='on'"))
        XCTAssertTrue(xml.contains("<memory unit='MiB'>512</memory>"))
        XCTAssertTrue(LabGuest.domainXML(LabSettings(), accelerator: "kvm").contains("<domain type='kvm'>"))
    }
}
