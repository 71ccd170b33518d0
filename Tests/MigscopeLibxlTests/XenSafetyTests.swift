import Foundation
import Glibc
import Libxl
import MigscopeCore
import XCTest

@testable import MigscopeLibxl

/// What makes a Xen migration safe to point at real hosts: both ends prove a shared key before
/// anything crosses, a source is never resumed while the destination may run the domain, an abort
/// is possible until the go-ahead, and a dead migscope leaves a journal that xen-recover resolves.
final class XenSafetyTests: XCTestCase {
    let key = XenPeerKey(bytes: Array(repeating: 7, count: 32))
    let otherKey = XenPeerKey(bytes: Array(repeating: 9, count: 32))

    /// The keyed proof is HMAC-SHA256 as RFC 4231 defines it (its test cases 1 and 2).
    func testTheProofIsHMACSHA256() {
        XCTAssertEqual(XenPeerKey.hex(XenPeerKey.hmacSHA256(key: Array(repeating: 0x0b, count: 20), message: Array("Hi There".utf8))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(XenPeerKey.hex(XenPeerKey.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testPeersHoldingTheKeyMigrate() throws {
        let source = FakeToolstack(domains: [7: "guest"])
        let destination = FakeToolstack(domains: [:])
        let (s, r) = try socketPair()
        let received = runOnThread { [key] in try XenMigrationEnd(toolstack: destination, wire: r, key: key).receive() }
        let id = try XenMigrationEnd(toolstack: source, wire: s, key: key).send(domain: "guest", live: true)
        XCTAssertEqual(try received.get().id, id)
        XCTAssertEqual(destination.state(id), "running")
        XCTAssertTrue(source.names.isEmpty)
    }

    func testASenderWithoutTheKeyIsRefusedAndNothingIsRestored() throws {
        let source = FakeToolstack(domains: [7: "guest"])
        let destination = FakeToolstack(domains: [:])
        for senderKey in [nil, otherKey] as [XenPeerKey?] {
            let (s, r) = try socketPair()
            let received = runOnThread { [key] in try XenMigrationEnd(toolstack: destination, wire: r, key: key).receive() }
            XCTAssertThrowsError(try XenMigrationEnd(toolstack: source, wire: s, key: senderKey).send(domain: "guest", live: true))
            XCTAssertThrowsError(try received.get()) { XCTAssertTrue("\($0)".contains("without the migration key was refused"), "\($0)") }
            XCTAssertEqual(destination.log, [], "the receiver restored or read nothing")
            XCTAssertEqual(source.names, [7: "guest"])
            XCTAssertEqual(source.state(7), "running")
        }
    }

    /// A stranger on the port that answers whatever a receiver would ("ready", "restored",
    /// "running 1") without the key: the sender sends it nothing and its source is never touched.
    func testAFakeReceiverWithoutTheKeyNeverGetsTheSourceDestroyed() throws {
        let source = FakeToolstack(domains: [7: "guest"])
        let (s, r) = try socketPair()
        let fake = runOnThread {
            try r.send(line: "migscope-xen-auth 1 " + String(repeating: "ab", count: 32))
            _ = try? r.receiveLine()
            for line in ["auth " + String(repeating: "00", count: 32), "ready", "restored 1", "running 1"] { try? r.send(line: line) }
        }
        XCTAssertThrowsError(try XenMigrationEnd(toolstack: source, wire: s, key: key).send(domain: "guest", live: true)) { e in
            XCTAssertTrue("\(e)".contains("did not prove it holds the migration key"), "\(e)")
            XCTAssertTrue("\(e)".contains("still runs here, untouched"), "\(e)")
        }
        try fake.get()
        XCTAssertEqual(source.log, [])
        XCTAssertEqual(source.names, [7: "guest"])
    }

    /// After "go", only the receiver's own "error" (it destroyed its copy) lets the source resume.
    func testAnUnexpectedAnswerToTheGoAheadKeepsTheSourceSuspended() throws {
        let source = FakeToolstack(domains: [4: "guest"])
        let (s, r) = try socketPair()
        let receiver = runOnThread {
            let header = XenMigrationProtocol.Header(line: try r.receiveLine())!
            _ = try r.receive(count: header.configurationBytes)
            try r.send(line: "ready")
            _ = try FakeToolstack(domains: [:]).restore(configurationJSON: "{}", name: "x", from: r.input.rawValue)
            try r.send(line: "restored 9")
            XCTAssertEqual(try r.receiveLine(), "go")
            try r.send(line: "banana")
        }
        XCTAssertThrowsError(try XenMigrationEnd(toolstack: source, wire: s).send(domain: "guest", live: true)) { e in
            XCTAssertTrue("\(e)".contains("the source copy is kept suspended here as 'guest--migratedaway' (id 4)"), "\(e)")
            XCTAssertTrue("\(e)".contains("migscope xen-recover guest --resume"), "\(e)")
        }
        try receiver.get()
        XCTAssertEqual(source.state(4), "suspended")
        XCTAssertEqual(source.names, [4: "guest--migratedaway"])
        XCTAssertFalse(source.log.contains("resume 4"))
    }

    /// An abort after the stream but before "go" puts the source back; the receiver, never told
    /// "go", destroys its copy.
    func testAnAbortBeforeTheGoAheadResumesTheSourceAndTheReceiverDropsItsCopy() throws {
        let source = FakeToolstack(domains: [5: "guest"])
        let destination = FakeToolstack(domains: [:])
        let (s, r) = try socketPair()
        let received = runOnThread { try XenMigrationEnd(toolstack: destination, wire: r).receive() }
        XCTAssertThrowsError(try XenMigrationEnd(toolstack: source, wire: s, mayCommit: { false }).send(domain: "guest", live: false)) { e in
            XCTAssertTrue("\(e)".contains("aborted before the go-ahead"), "\(e)")
            XCTAssertTrue("\(e)".contains("runs on this host (id 5)"), "\(e)")
        }
        XCTAssertThrowsError(try received.get())
        XCTAssertEqual(source.state(5), "running")
        XCTAssertEqual(source.names, [5: "guest"])
        XCTAssertTrue(destination.names.isEmpty, "the receiver destroyed its copy")
    }

    func testAReadThatWaitsPastItsDeadlineFailsSayingSo() throws {
        let (s, _) = try socketPair()
        s.setDeadline(seconds: 0.2)
        let start = ContinuousClock.now
        XCTAssertThrowsError(try s.receiveLine()) { XCTAssertTrue("\($0)".contains("within the deadline"), "\($0)") }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
    }

    func testKeyFilesAreMadePrivateAndRefusedWhenOthersCanReadThem() throws {
        let dir = NSTemporaryDirectory() + "/migscope-key-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/k"
        XCTAssertThrowsError(try XenPeerKey.load(from: path)) { XCTAssertTrue("\($0)".contains("--init-key"), "\($0)") }
        try XenPeerKey.create(at: path)
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).map { $0 & 0o777 }, 0o600)
        XCTAssertNoThrow(try XenPeerKey.load(from: path))
        XCTAssertThrowsError(try XenPeerKey.create(at: path)) { XCTAssertTrue("\($0)".contains("exists"), "\($0)") }
        chmod(path, 0o644)
        XCTAssertThrowsError(try XenPeerKey.load(from: path)) { XCTAssertTrue("\($0)".contains("chmod 600"), "\($0)") }
    }

    // MARK: the journal and xen-recover

    func deadPID() -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try? p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    func entry(_ stage: XenJournal.Stage, pid: Int32) -> XenJournal.Entry {
        XenJournal.Entry(domain: "guest", sourceID: 3, destination: "tcp://hostB:8002", pid: pid, stage: stage, started: Date())
    }

    func testAJournalBlocksANewMigrationUntilResolved() throws {
        let journal = XenJournal(folder: NSTemporaryDirectory() + "/migscope-journal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: journal.folder) }
        XCTAssertNil(journal.blocker(for: "guest"))
        try journal.write(entry(.renamed, pid: deadPID()))
        XCTAssertTrue(journal.blocker(for: "guest")?.contains("run 'migscope xen-recover guest' first") == true)
        try journal.write(entry(.renamed, pid: getpid()))
        XCTAssertTrue(journal.blocker(for: "guest")?.contains("is migrating 'guest'") == true, "this test process is a live migscope")
        journal.remove("guest")
        XCTAssertNil(journal.blocker(for: "guest"))
        XCTAssertEqual(journal.entries(), [])
    }

    func testRecoveryResumesASourceLeftBeforeTheGoAhead() {
        let t = FakeToolstack(domains: [3: "guest--migratedaway"])
        t.forceState(3, "suspended")
        XCTAssertEqual(try XenRecovery.resolve(entry(.renamed, pid: deadPID()), toolstack: t, resumeAfterGo: false).get(), .resumed(id: 3))
        XCTAssertEqual(t.names, [3: "guest"])
        XCTAssertEqual(t.state(3), "running")
    }

    func testRecoveryOfALocalhostMigrationAlsoRemovesTheReceiversHalfMadeCopy() throws {
        let t = FakeToolstack(domains: [3: "guest--migratedaway", 12: "guest--incoming"])
        t.forceState(3, "suspended")
        t.forceState(12, "paused")
        var e = entry(.renamed, pid: deadPID())
        e.destination = "localhost"
        XCTAssertEqual(try XenRecovery.resolve(e, toolstack: t, resumeAfterGo: false).get(), .resumed(id: 3))
        XCTAssertEqual(t.names, [3: "guest"])
    }

    func testRecoveryAfterTheGoAheadDecidesNothingWithoutTheOperator() throws {
        let t = FakeToolstack(domains: [3: "guest--migratedaway"])
        t.forceState(3, "suspended")
        guard case .undecided(let why) = try XenRecovery.resolve(entry(.goSent, pid: deadPID()), toolstack: t, resumeAfterGo: false).get() else {
            return XCTFail("decided without the operator")
        }
        XCTAssertTrue(why.contains("Check 'xl list' there"), why)
        XCTAssertEqual(t.state(3), "suspended")
        XCTAssertEqual(try XenRecovery.resolve(entry(.goSent, pid: deadPID()), toolstack: t, resumeAfterGo: true).get(), .resumed(id: 3))
        XCTAssertEqual(t.names, [3: "guest"])
    }

    func testRecoveryFindsNothingToDoWhenTheMigrationHadFinishedOrIsStillRunning() throws {
        XCTAssertEqual(try XenRecovery.resolve(entry(.goSent, pid: deadPID()), toolstack: FakeToolstack(domains: [:]), resumeAfterGo: false).get(), .gone)
        XCTAssertEqual(try XenRecovery.resolve(entry(.handshake, pid: deadPID()), toolstack: FakeToolstack(domains: [3: "guest"]), resumeAfterGo: false).get(), .runsHere(id: 3))
        XCTAssertEqual(try XenRecovery.resolve(entry(.renamed, pid: getpid()), toolstack: FakeToolstack(domains: [3: "guest"]), resumeAfterGo: false).get(), .inProgress(pid: getpid()))
    }
}
