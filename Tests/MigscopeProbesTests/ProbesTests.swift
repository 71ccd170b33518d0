import Foundation
import MigscopeCore
import XCTest

@testable import MigscopeProbes

/// The readers of this machine's files a recording uses.
final class ProbesTests: XCTestCase {
    func testProcNetDevGivesReceivedAndSentBytesOfNamedInterfaces() {
        let text = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
              eth0: 123456789  90000    0    0    0     0          0         0 987654321  80000    0    0    0     0       0          0
            """
        let c = ProcNetDev.parse(text, interfaces: ["eth0"])
        XCTAssertEqual(c.count, 1)
        XCTAssertEqual(c["eth0"]?.received, 123_456_789)
        XCTAssertEqual(c["eth0"]?.sent, 987_654_321)
    }

    func testAnOverlongLineIsCutAndCountedAndTheNextLineStillArrives() throws {
        let path = NSTemporaryDirectory() + "/migscope-tailer-long-\(getpid()).log"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tailer = ConsoleTailer(path: path)
        let h = FileHandle(forWritingAtPath: path)!
        // 10 MiB without a newline, written in pieces as a guest would.
        let chunk = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<10 {
            h.write(chunk)
            XCTAssertEqual(tailer.newLines(), [])
        }
        h.write(Data("tail of the long line\nMIGSCOPE rate seq=1 up=1 read_bps=5 write_bps=0\n".utf8))
        var lines: [Substring] = []
        for _ in 0..<12 { lines += tailer.newLines() }  // at most 1 MiB per call
        XCTAssertEqual(lines, ["MIGSCOPE rate seq=1 up=1 read_bps=5 write_bps=0"])
        XCTAssertEqual(tailer.droppedLines, 1)
        try h.close()
    }

    func testTheTailerReturnsOnlyCompleteNewLines() throws {
        let path = NSTemporaryDirectory() + "/migscope-tailer-\(getpid()).log"
        try "old line\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tailer = ConsoleTailer(path: path)
        XCTAssertEqual(tailer.newLines(), [])
        let h = FileHandle(forWritingAtPath: path)!
        h.seekToEndOfFile()
        h.write(Data("MIGSCOPE rate seq=1\r\nhalf a li".utf8))
        XCTAssertEqual(tailer.newLines(), ["MIGSCOPE rate seq=1"])
        h.write(Data("ne\n".utf8))
        XCTAssertEqual(tailer.newLines(), ["half a line"])
        try h.close()
    }

    /// A migrated Xen guest's console moves to a new log (guest-NAME--incoming.log), created mid-run.
    func testTheTailerFollowsALogThatAppearsLaterFromItsStart() throws {
        let dir = NSTemporaryDirectory() + "/migscope-tailer-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = dir + "/guest-g.log", second = dir + "/guest-g--incoming.log"
        try "before\n".write(toFile: first, atomically: true, encoding: .utf8)
        let tailer = ConsoleTailer(paths: [first, second])
        XCTAssertEqual(tailer.newLines(), [])
        let h = FileHandle(forWritingAtPath: first)!
        h.seekToEndOfFile()
        h.write(Data("on the source\n".utf8))
        try h.close()
        try "on the destination\n".write(toFile: second, atomically: true, encoding: .utf8)
        XCTAssertEqual(tailer.newLines(), ["on the source", "on the destination"])
        XCTAssertEqual(tailer.path, "\(first) + \(second)")
    }
}
