import MigscopeCore
import MigscopeExperiment
import XCTest

@testable import MigscopeLibvirt

/// The pure parts of the libvirt backend: which URIs it opens, and what it declares it can do.
final class BackendDeclarationTests: XCTestCase {
    func testURIsThatRunProgramsOrForeignSocketsAreRefusedUnlessAllowed() {
        XCTAssertNil(LibvirtURIPolicy.problem("qemu+ssh://hostB/system", allowExternal: false))
        XCTAssertNil(LibvirtURIPolicy.problem("qemu+unix:///system?socket=/run/migscope-lab/hostA/sock/libvirt-sock", allowExternal: false))
        XCTAssertNotNil(LibvirtURIPolicy.problem("qemu+ext:///system?command=/bin/sh", allowExternal: false))
        XCTAssertNotNil(LibvirtURIPolicy.problem("qemu+ssh://h/system?netcat=/tmp/x", allowExternal: false))
        XCTAssertNotNil(LibvirtURIPolicy.problem("qemu+unix:///system?socket=/run/libvirt/../../tmp/s", allowExternal: false))
        XCTAssertNil(LibvirtURIPolicy.problem("qemu+ext:///system?command=/bin/sh", allowExternal: true))
    }

    func testLibvirtDeclaresEveryFeatureAndLibxlItsLimitsOnce() {
        let request = MigrationRequest(domain: "g", source: "qemu:///a", destination: "qemu+ssh://b/system", bandwidthMiBps: 10,
                                       maxDowntimeMs: 300, pauseAfterSeconds: 5, pauseAfterRounds: 3, persistent: true)
        XCTAssertEqual(BackendChoice.libvirt.capabilities.problems(request), [])
        let xen = BackendChoice.libxl.capabilities.problems(request)
        XCTAssertEqual(Set(xen.map(\.field)), ["--bandwidth", "--max-downtime", "--timeout", "--pause-after-rounds", "--persistent/--undefine-source", "--p2p"])
        XCTAssertTrue(xen.allSatisfy { $0.message.hasPrefix($0.field + ": ") }, "\(xen)")
        let planNames = BackendChoice.libxl.capabilities.problems(request, naming: \.planKey).map(\.field)
        XCTAssertTrue(planNames.contains("bandwidth_cap_mibps"), "\(planNames)")
    }

    func testAHostNameChoosesItsBackend() {
        XCTAssertEqual(BackendChoice.forHost("xen"), .libxl)
        XCTAssertEqual(BackendChoice.forHost("qemu:///system"), .libvirt)
        XCTAssertEqual(BackendChoice.libxl.source(given: "qemu:///x"), "libxl://localhost")
        XCTAssertEqual(BackendChoice.libvirt.source(given: "qemu:///x"), "qemu:///x")
    }
}
