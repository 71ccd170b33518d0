import Foundation
import MigscopeCore
@testable import MigscopeLab
import XCTest

/// The lab guest's reporting loop, run under this machine's busybox on its own /proc and /sys.
final class GuestInitTests: XCTestCase {
    /// Once running, the loop starts no process: each would dirty the guest's memory, and the loop
    /// that started six a second made an idle guest dirty 1.2 MiB/s. What a shell's children did
    /// shows in its cminflt (the minor faults of the children it has reaped, /proc/PID/stat), which
    /// stays put over 3 s; the lines it prints meanwhile are what migscope reads.
    func testTheReportingLoopStartsNoProcessOnceRunningAndItsLinesParse() throws {
        guard let busybox = ["/bin/busybox", "/usr/bin/busybox"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("busybox is not installed here (scripts/install-deps.sh installs busybox-static)")
        }
        let disk = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: "/sys/block").sorted().first, "no block device in /sys/block")
        let dir = NSTemporaryDirectory() + "migscope-guest-loop-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let harness = "DISK=\(disk); REPORT=\(dir)/reports; report() { echo \"$*\" >> $REPORT; }\n"
            + GuestInit.reportingLoop.replacingOccurrences(of: "/tmp/tick", with: dir + "/tick")
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: busybox)
        shell.arguments = ["sh", "-c", harness]
        try shell.run()
        defer {
            shell.terminate()
            shell.waitUntilExit()
        }
        func reapedChildrensFaults() throws -> Int {
            let stat = try String(contentsOfFile: "/proc/\(shell.processIdentifier)/stat", encoding: .utf8)
            // After the command's name in parentheses: state, ppid, ..., minflt, cminflt (field 11).
            let fields = try XCTUnwrap(stat.split(separator: ")").last).split(separator: " ")
            return try XCTUnwrap(Int(fields[8]), stat)
        }
        Thread.sleep(forTimeInterval: 1.5)
        let before = try reapedChildrensFaults()
        Thread.sleep(forTimeInterval: 3)
        let after = try reapedChildrensFaults()
        XCTAssertEqual(after, before, "the loop reaped children in 3 s (their minor faults grew from \(before) to \(after))")

        let lines = try String(contentsOfFile: dir + "/reports", encoding: .utf8).split(separator: "\n")
        let rates = lines.compactMap { line -> Int? in
            if case .rate(let seq, let up, _, _, _) = GuestConsoleLine(line), up > 0 { return seq }
            return nil
        }
        XCTAssertEqual(rates, Array(1...rates.count), "rate lines numbered in turn: \(lines)")
        XCTAssertTrue((3...5).contains(rates.count), "a rate line a second for 4.5 s: \(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("MIGSCOPE mem seq=1 free_kib=") && $0.contains(" buffers_kib=") && $0.contains(" cached_kib=") },
                      "the memory line: \(lines)")
    }
}
