import Foundation
import XCTest

@testable import MigscopeLab

/// `lab up` stopped halfway: by SIGTERM it removes what it built; killed outright, it leaves parts
/// that the next `lab up` recognises as a half-built lab (not a lab) and clears before building.
/// What is left is read from the system (`ip netns`, the process table), not from migscope.
final class LabUpInterruptTests: XCTestCase {
    let args = ["lab", "up", "--guest-memory", "128", "--disk-size", "512", "--no-guest"]

    override func setUp() async throws {
        if let why = LabFixture.cannotRun { throw XCTSkip(why) }
        LabFixture.tearDown()
        if Lab.isUp() { Lab.down() }
    }

    override func tearDown() {
        Lab.down()
        super.tearDown()
    }

    func labNamespaces() throws -> [String] {
        try Command.run(["ip", "netns", "list"]).stdout.split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0.hasPrefix("migscope-") }
    }

    func labDaemons() throws -> [String] {
        try Command.run(["ps", "-eo", "args"]).stdout.split(separator: "\n").map(String.init)
            .filter { $0.contains("libvirtd") && $0.contains(LabLayout.stateDirectory) || $0.hasPrefix("tgtd") }
    }

    /// Starts `lab up`, and sends `signal` once it has made namespaces and starts a daemon.
    func labUpStopped(by signal: Int32) async throws -> (status: Int32, err: String) {
        let errPath = NSTemporaryDirectory() + "/migscope-labup-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("migscope")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: errPath)
        try p.run()
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline, p.isRunning,
              !((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "").contains("starting libvirtd on hostA") {
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertTrue(p.isRunning, "lab up ended before it could be stopped")
        kill(p.processIdentifier, signal)
        while p.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        return (p.terminationStatus, (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    func testADiskThatCannotFitIsRefusedBeforeAnythingIsBuilt() throws {
        let r = try ProcessRun.run(ProcessRun.migscope, ["lab", "up", "--disk-size", "1048576", "--no-guest"])
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("disk does not fit"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertEqual(try labNamespaces(), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: StorageTarget.diskImage(sizeMiB: 1_048_576) + ".partial"))
    }

    func testSIGTERMRemovesWhatWasBuiltAndAKilledUpIsClearedByTheNext() async throws {
        let stopped = try await labUpStopped(by: SIGTERM)
        XCTAssertEqual(stopped.status, 130, stopped.err)
        XCTAssertTrue(stopped.err.contains("lab up interrupted; what it had built is removed"), stopped.err)
        XCTAssertEqual(try labNamespaces(), [])
        XCTAssertEqual(try labDaemons(), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: LabLayout.stateFile))

        let killed = try await labUpStopped(by: SIGKILL)
        XCTAssertNotEqual(killed.status, 0)
        XCTAssertFalse(try labNamespaces().isEmpty, "a killed lab up leaves its namespaces (what the next one must clear)")

        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("migscope")
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("removing a half-built lab left by an interrupted 'lab up'"), text)
        XCTAssertEqual(Set(try labNamespaces()), ["migscope-a", "migscope-b", "migscope-storage", "migscope-switch"])
    }
}
