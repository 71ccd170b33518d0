import Foundation
import XCTest

@testable import Libvirt

/// Against libvirt's own test driver: real libvirt, no hypervisor. It does lookups, lifecycle and
/// events, but no migration, job stats or abort (FACTS-bindings.md), which the lab tests cover.
final class TestDriverTests: XCTestCase {
    /// A private test-driver instance, so tests do not disturb each other through test:///default.
    func privateHost() throws -> Connection {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/test-node.xml").path
        return try Connection(uri: "test://" + fixture)
    }

    func testOpensListsAndLooksUpDomainsByNameAndUUID() throws {
        let conn = try Connection(uri: "test:///default")
        XCTAssertEqual(conn.driverType, "TEST")
        let names = try conn.domains().map(\.name)
        XCTAssertTrue(names.contains("test"), "\(names)")
        let byName = try conn.domain(named: "test")
        let byUUID = try conn.domain(uuid: byName.uuid)
        XCTAssertEqual(byUUID.name, "test")
        XCTAssertEqual(try conn.domain(nameOrUUID: byName.uuid).name, "test")
        XCTAssertEqual(try byName.state().state, .running)
        let info = try byName.info()
        XCTAssertEqual(info.state, .running)
        XCTAssertGreaterThan(info.maxMemoryKiB, 0)
    }

    func testReadOnlyConnectionsRefuseChanges() throws {
        let conn = try Connection(uri: "test:///default", readOnly: true)
        XCTAssertTrue(conn.isReadOnly)
        XCTAssertThrowsError(try conn.domain(named: "test").suspend()) { error in
            XCTAssertTrue((error as? LibvirtError)?.message.contains("read only") ?? false, "\(error)")
        }
    }

    func testAnUnknownDomainIsAnErrorWithLibvirtsCodeDomainAndMessage() throws {
        let conn = try privateHost()
        XCTAssertThrowsError(try conn.domain(named: "no-such-guest")) { error in
            guard let e = error as? LibvirtError else { return XCTFail("\(error)") }
            XCTAssertTrue(e.isNoDomain)
            XCTAssertEqual(e.code, .noDomain)
            XCTAssertEqual(e.code.rawValue, 42)  // VIR_ERR_NO_DOMAIN
            XCTAssertEqual(e.domain, .test)
            switch e.code {
            case .noDomain: break
            default: XCTFail("a named error number pattern-matches")
            }
            XCTAssertFalse(e.message.isEmpty)
            XCTAssertEqual(e.operation, "look up domain 'no-such-guest'")
        }
    }

    func testAnUnopenableURIIsAnErrorNotACrash() {
        XCTAssertThrowsError(try Connection(uri: "nosuchdriver:///system")) { error in
            guard let e = error as? LibvirtError else { return XCTFail("\(error)") }
            XCTAssertFalse(e.message.isEmpty)
            XCTAssertEqual(e.operation, "open nosuchdriver:///system")
        }
    }

    func testTheTestDriverHasNoMigrationJobsAndSaysSo() throws {
        let d = try privateHost().domain(named: "guest-on")
        XCTAssertThrowsError(try d.jobStats()) { error in
            XCTAssertNotNil(error as? LibvirtError)
        }
        XCTAssertThrowsError(try d.abortJob())
    }

    func testDiskTargetsComeFromTheDomainsXML() throws {
        let d = try privateHost().domain(named: "guest-on")
        XCTAssertEqual(try d.diskTargets(), ["vda"])
        let stats = try d.blockStats(device: "vda")
        XCTAssertGreaterThanOrEqual(stats.readBytes, 0)
    }

    func testLifecycleEventsArriveAsAnAsyncSequence() async throws {
        let conn = try privateHost()
        let d = try conn.domain(named: "guest-on")
        let events = try conn.events(of: d, kinds: .lifecycle)
        try d.suspend()
        try d.resume()
        try d.destroy()
        var seen: [LifecycleEvent.Kind?] = []
        for await e in events {
            guard case .lifecycle(let l) = e.kind else { continue }
            XCTAssertEqual(e.domainName, "guest-on")
            XCTAssertEqual(e.domainUUID, d.uuid)
            seen.append(l.kind)
            if seen.count == 3 { break }
        }
        XCTAssertEqual(seen, [.suspended, .resumed, .stopped])
        XCTAssertEqual(try d.state().state, .shutoff)
    }

    func testTheEventLoopCanBeStoppedAndStartedAgain() async throws {
        XCTAssertTrue(EventLoop.shared.isRunning)
        EventLoop.shared.stop()
        XCTAssertFalse(EventLoop.shared.isRunning)
        EventLoop.shared.start()
        XCTAssertTrue(EventLoop.shared.isRunning)
        // Events still flow after the restart.
        let conn = try privateHost()
        let d = try conn.domain(named: "guest-on")
        let events = try conn.events(of: d, kinds: .lifecycle)
        try d.suspend()
        var it = events.makeAsyncIterator()
        let first = await it.next()
        guard case .lifecycle(let l)? = first?.kind else { return XCTFail("no event") }
        XCTAssertEqual(l.kind, .suspended)
    }

    func testOpeningWithATimeoutReturnsTheConnectionOrTheError() async throws {
        let conn = try await Connection.open(uri: "test:///default", timeout: 5)
        XCTAssertTrue(conn.isAlive)
        do {
            _ = try await Connection.open(uri: "nosuchdriver:///x", timeout: 5)
            XCTFail("opened a bogus URI")
        } catch let e as LibvirtError {
            XCTAssertFalse(e.message.contains("no answer"), e.message)
        }
    }
}
