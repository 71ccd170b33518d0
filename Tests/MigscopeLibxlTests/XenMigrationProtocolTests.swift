import Foundation
import Glibc
import Libxl
import MigscopeCore
import XCTest

@testable import MigscopeLibxl

/// migscope's Xen migration conversation, end to end over a real socket pair, with a fake
/// toolstack whose "stream" is a length-prefixed block of bytes. The real stream is libxl's,
/// tested on a real Xen host (XenHostTests); this checks who renames, resumes, destroys and when.
final class XenMigrationProtocolTests: XCTestCase {
    func testASuccessfulMigrationRunsTheDomainOnTheDestinationAndDestroysTheSourceLast() throws {
        let source = FakeToolstack(domains: [7: "guest"])
        let destination = FakeToolstack(domains: [:])
        let (s, r) = try socketPair()
        let receiverSteps = Steps()
        let received = runOnThread { try XenMigrationEnd(toolstack: destination, wire: r, onStep: receiverSteps.add).receive() }
        let senderSteps = Steps()
        let id = try XenMigrationEnd(toolstack: source, wire: s, onStep: senderSteps.add).send(domain: "guest", live: true)
        let (name, receivedID) = try received.get()

        XCTAssertEqual(name, "guest")
        XCTAssertEqual(id, receivedID)
        XCTAssertEqual(destination.names, [receivedID: "guest"])
        XCTAssertEqual(destination.state(receivedID), "running")
        XCTAssertEqual(destination.restoredConfiguration, source.configurationFor(7), "the configuration crossed intact")
        XCTAssertEqual(destination.streamBytesRead, source.streamBytesWritten)
        XCTAssertTrue(source.names.isEmpty, "the source copy is destroyed")
        XCTAssertEqual(source.log, ["rename 7 guest--migratedaway", "suspend 7 live", "destroy 7"])
        XCTAssertEqual(destination.log, ["restore guest--incoming", "rename \(id) guest", "unpause \(id)"])
        XCTAssertEqual(senderSteps.all, [.configurationSent(bytes: source.configurationFor(7).utf8.count), .sourceRenamed(id: 7), .streamStarted, .streamEnded,
                                         .restored(id: id), .goSent, .running(id: id), .sourceDestroyed(id: 7)])
    }

    func testAReceiverKilledDuringTheStreamLeavesTheSourceResumedUnderItsName() throws {
        let source = FakeToolstack(domains: [3: "guest"], streamBytes: 8 << 20)
        let (s, r) = try socketPair()
        let receiver = dyingReceiver(r)
        XCTAssertThrowsError(try XenMigrationEnd(toolstack: source, wire: s).send(domain: "guest", live: true)) { error in
            let e = error as? MigrationError
            XCTAssertEqual(e?.kind, .failed)
            XCTAssertTrue(e?.message.contains("the source was resumed: domain 'guest' runs on this host (id 3)") == true, "\(error)")
        }
        try receiver.get()
        XCTAssertEqual(source.names, [3: "guest"])
        XCTAssertEqual(source.state(3), "running")
        XCTAssertEqual(source.log, ["rename 3 guest--migratedaway", "suspend 3 live", "resume 3", "rename 3 guest"])
    }

    /// As on real Xen: a stream cut during pre-copy leaves the guest running, never suspended, and
    /// libxl refuses to resume a running domain. That is no failure to put the source back.
    func testAStreamCutDuringPrecopyNeedsNoResume() throws {
        let source = FakeToolstack(domains: [3: "guest"], streamBytes: 8 << 20)
        source.suspendsOnlyAtTheEnd = true
        let (s, r) = try socketPair()
        let receiver = dyingReceiver(r)
        XCTAssertThrowsError(try XenMigrationEnd(toolstack: source, wire: s).send(domain: "guest", live: true)) { error in
            XCTAssertTrue("\(error)".contains("the source was resumed: domain 'guest' runs on this host (id 3)"), "\(error)")
        }
        try receiver.get()
        XCTAssertEqual(source.log, ["rename 3 guest--migratedaway", "suspend 3 live", "rename 3 guest"])
        XCTAssertEqual(source.state(3), "running")
    }

    func testAFailedRestoreIsReportedToTheSenderWhichResumesTheSource() throws {
        let source = FakeToolstack(domains: [5: "guest"])
        let destination = FakeToolstack(domains: [:])
        destination.failRestore = "xc: error: Failed to read Record Header from stream (0 = Success)"
        let (s, r) = try socketPair()
        let received = runOnThread { try XenMigrationEnd(toolstack: destination, wire: r).receive() }
        XCTAssertThrowsError(try XenMigrationEnd(toolstack: source, wire: s).send(domain: "guest", live: false)) { error in
            XCTAssertTrue("\(error)".contains("the receiver could not restore the domain: xc: error: Failed to read Record Header"), "\(error)")
            XCTAssertTrue("\(error)".contains("runs on this host (id 5)"), "\(error)")
        }
        close(s.output.rawValue)
        XCTAssertThrowsError(try received.get())
        XCTAssertEqual(source.state(5), "running")
        XCTAssertEqual(source.names, [5: "guest"])
        XCTAssertTrue(destination.names.isEmpty)
    }

    func testADestinationThatCannotStartTheDomainDestroysItsCopyAndTheSourceResumes() throws {
        let source = FakeToolstack(domains: [5: "guest"])
        let destination = FakeToolstack(domains: [:])
        destination.failUnpause = true
        let (s, r) = try socketPair()
        let received = runOnThread { try XenMigrationEnd(toolstack: destination, wire: r).receive() }
        XCTAssertThrowsError(try XenMigrationEnd(toolstack: source, wire: s).send(domain: "guest", live: true)) { error in
            XCTAssertTrue("\(error)".contains("runs on this host (id 5)"), "\(error)")
        }
        XCTAssertThrowsError(try received.get())
        XCTAssertEqual(source.state(5), "running")
        XCTAssertTrue(destination.names.isEmpty, "the destination's copy was destroyed")
    }

    func testASenderThatVanishesBeforeTheGoAheadLeavesNoCopyOnTheReceiver() throws {
        let destination = FakeToolstack(domains: [:])
        let (s, r) = try socketPair()
        let received = runOnThread { try XenMigrationEnd(toolstack: destination, wire: r).receive() }
        let config = "{\"c_info\":{\"name\":\"guest\"}}"
        try s.send(line: XenMigrationProtocol.Header(live: true, name: "guest", configurationBytes: config.utf8.count).line)
        try s.send(bytes: Array(config.utf8))
        XCTAssertEqual(try s.receiveLine(), "ready")
        try FakeToolstack(domains: [1: "x"]).suspend(1, to: s.output.rawValue, live: true)
        XCTAssertTrue(try s.receiveLine().hasPrefix("restored "))
        close(s.output.rawValue)
        XCTAssertThrowsError(try received.get()) { XCTAssertTrue("\($0)".contains("the restored copy was destroyed"), "\($0)") }
        XCTAssertTrue(destination.names.isEmpty)
    }

    func testSomethingThatIsNotMigscopeIsTurnedAwayInOneLine() throws {
        let destination = FakeToolstack(domains: [:])
        let (s, r) = try socketPair()
        let received = runOnThread { try XenMigrationEnd(toolstack: destination, wire: r).receive() }
        try s.send(line: "GET / HTTP/1.1")
        XCTAssertEqual(try s.receiveLine(), "error not a migscope Xen migration (first line 'GET / HTTP/1.1')")
        XCTAssertThrowsError(try received.get())
    }

    func testAMissingDomainFailsBeforeAnythingIsSent() throws {
        let (s, _) = try socketPair()
        XCTAssertThrowsError(try XenMigrationEnd(toolstack: FakeToolstack(domains: [:]), wire: s).send(domain: "nope", live: true)) { error in
            XCTAssertEqual((error as? MigrationError)?.kind, .noSuchDomain)
        }
    }

    func testDestinationsParse() throws {
        XCTAssertEqual(try XenDestination(parsing: "localhost"), .localhost)
        XCTAssertEqual(try XenDestination(parsing: "198.18.0.2"), .tcp(host: "198.18.0.2", port: XenDestination.defaultPort))
        XCTAssertEqual(try XenDestination(parsing: "tcp://hostB:9000"), .tcp(host: "hostB", port: 9000))
        XCTAssertEqual(try XenDestination(parsing: "[::1]:9000"), .tcp(host: "::1", port: 9000))
        XCTAssertEqual(try XenDestination(parsing: "ssh://root@hostB"), .ssh(target: "root@hostB"))
        XCTAssertThrowsError(try XenDestination(parsing: "hostB:http")) { XCTAssertTrue("\($0)".contains("port must be a number")) }
        XCTAssertThrowsError(try XenDestination(parsing: "qemu+ssh://hostB/system"))
    }

    func testTheHeaderRoundTripsAndRejectsStrangers() {
        let h = XenMigrationProtocol.Header(live: false, name: "web server", configurationBytes: 1234)
        XCTAssertEqual(XenMigrationProtocol.Header(line: h.line), h)
        XCTAssertNil(XenMigrationProtocol.Header(line: "migscope-xen 2 live 10 a"))
        XCTAssertNil(XenMigrationProtocol.Header(line: "migscope-xen 1 live -1 a"))
        XCTAssertNil(XenMigrationProtocol.Header(line: "migscope-xen 1 fast 10 a"))
    }

    func testAConnectionToNobodySaysWhatToStart() {
        XCTAssertThrowsError(try XenConnection.open(.tcp(host: "127.0.0.1", port: 1), executable: "/bin/false")) { error in
            XCTAssertTrue("\(error)".contains("start 'migscope xen-receive --listen 127.0.0.1:1' there"), "\(error)")
        }
    }

    func testVbdCountersSumADomainsDevicesFromSysfs() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vbd-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (dev, rd) in [("vbd-4-51712", 100), ("vbd-4-51728", 20), ("vbd-41-51712", 999)] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(dev)/statistics", withIntermediateDirectories: true)
            for (file, v) in [("rd_sect", rd), ("wr_sect", 2), ("rd_req", 3), ("wr_req", 1)] {
                try "\(v)\n".write(toFile: "\(root)/\(dev)/statistics/\(file)", atomically: true, encoding: .utf8)
            }
        }
        let t = XenBlockCounters.totals(domain: 4, root: root)
        XCTAssertEqual(t?.readBytes, 120 * 512)
        XCTAssertEqual(t?.writeBytes, 4 * 512)
        XCTAssertEqual(t?.readOps, 6)
        XCTAssertNil(XenBlockCounters.totals(domain: 5, root: root))
    }
}

// MARK: helpers

/// A receiver that takes the header, says ready, reads a little of the stream and dies.
func dyingReceiver(_ r: XenWire) -> Outcome<Void> {
    runOnThread {
        let header = XenMigrationProtocol.Header(line: try r.receiveLine())!
        _ = try r.receive(count: header.configurationBytes)
        try r.send(line: "ready")
        _ = try r.receive(count: 100_000)
        close(r.input.rawValue)
    }
}

func socketPair() throws -> (XenWire, XenWire) {
    var fds: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw XCTSkip("socketpair failed") }
    return (XenWire(readFD: fds[0], writeFD: fds[0]), XenWire(readFD: fds[1], writeFD: fds[1]))
}

final class Outcome<T>: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var result: Result<T, any Error>?
    func get() throws -> T {
        guard done.wait(timeout: .now() + 20) == .success else { throw MigrationError(.failed, "the other end hung") }
        return try result!.get()
    }
}

func runOnThread<T>(_ body: @escaping @Sendable () throws -> T) -> Outcome<T> {
    let o = Outcome<T>()
    let t = Thread {
        o.result = Result { try body() }
        o.done.signal()
    }
    t.start()
    return o
}

final class Steps: @unchecked Sendable {
    private let lock = NSLock()
    private var steps: [XenMigrationStep] = []
    func add(_ s: XenMigrationStep) { lock.withLock { steps.append(s) } }
    var all: [XenMigrationStep] { lock.withLock { steps } }
}

/// A toolstack in memory. Its stream is an 8-byte length and that many pattern bytes.
final class FakeToolstack: XenToolstack, @unchecked Sendable {
    private let lock = NSLock()
    private var domains: [DomainID: (name: String, state: String)]
    private(set) var log: [String] = []
    let streamBytes: Int
    var failRestore: String?
    var failUnpause = false
    /// Like libxenguest: the guest runs through pre-copy and is suspended only for the last round.
    var suspendsOnlyAtTheEnd = false
    var streamBytesWritten = 0
    var streamBytesRead = 0
    var restoredConfiguration: String?
    private var nextID: DomainID = 100

    init(domains: [DomainID: String], streamBytes: Int = 3 << 20) {
        self.domains = domains.mapValues { ($0, "running") }
        self.streamBytes = streamBytes
    }

    var names: [DomainID: String] { lock.withLock { domains.mapValues(\.name) } }
    func state(_ id: DomainID) -> String? { lock.withLock { domains[id]?.state } }
    func forceState(_ id: DomainID, _ state: String) { lock.withLock { domains[id]?.state = state } }
    func configurationFor(_ id: DomainID) -> String { "{\"c_info\":{\"name\":\"guest\",\"uuid\":\"u-\(id)\"},\"b_info\":{\"max_memkb\":262144}}" }
    private func note(_ s: String) { lock.withLock { log.append(s) } }
    struct Failure: Error, CustomStringConvertible { var description: String }

    func domainID(named name: String) throws -> DomainID {
        guard let id = lock.withLock({ domains.first { $0.value.name == name }?.key }) else { throw Failure(description: "no domain \(name)") }
        return id
    }
    func domainExists(_ id: DomainID) -> Bool { lock.withLock { domains[id] != nil } }
    func isRunning(_ id: DomainID) -> Bool { lock.withLock { domains[id]?.state == "running" } }
    func configurationJSON(of id: DomainID) throws -> String { configurationFor(id) }
    func rename(_ id: DomainID, to name: String) throws {
        note("rename \(id) \(name)")
        lock.withLock { domains[id]?.name = name }
    }
    func suspend(_ id: DomainID, to fd: Int32, live: Bool) throws {
        note("suspend \(id) \(live ? "live" : "non-live")")
        if !suspendsOnlyAtTheEnd { lock.withLock { domains[id]?.state = "suspended" } }
        let wire = XenWire(readFD: fd, writeFD: fd)
        var length = UInt64(streamBytes).bigEndian
        try wire.send(bytes: withUnsafeBytes(of: &length) { Array($0) })
        let chunk = [UInt8](repeating: 0x5a, count: 64 << 10)
        var sent = 0
        while sent < streamBytes {
            let n = min(chunk.count, streamBytes - sent)
            try wire.send(bytes: Array(chunk[..<n]))
            sent += n
            streamBytesWritten = sent
        }
        lock.withLock { domains[id]?.state = "suspended" }
    }
    func resume(_ id: DomainID) throws {
        if state(id) == "running" { throw Failure(description: "domain \(id) is not suspended") }
        note("resume \(id)")
        lock.withLock { domains[id]?.state = "running" }
    }
    func destroy(_ id: DomainID) throws {
        note("destroy \(id)")
        _ = lock.withLock { domains.removeValue(forKey: id) }
    }
    func restore(configurationJSON: String, name: String, from fd: Int32) throws -> DomainID {
        note("restore \(name)")
        restoredConfiguration = configurationJSON
        if let failRestore { throw Failure(description: failRestore) }
        let wire = XenWire(readFD: fd, writeFD: fd)
        let header = try wire.receive(count: 8)
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        var read = 0
        while read < length {
            let n = min(1 << 20, length - read)
            _ = try wire.receive(count: n)
            read += n
        }
        streamBytesRead = length
        return lock.withLock {
            nextID = DomainID(nextID.rawValue + 1)
            domains[nextID] = (name, "paused")
            return nextID
        }
    }
    func unpause(_ id: DomainID) throws {
        if failUnpause { throw Failure(description: "unpause failed") }
        note("unpause \(id)")
        lock.withLock { domains[id]?.state = "running" }
    }
}
