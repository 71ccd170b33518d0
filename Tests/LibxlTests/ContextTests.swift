import Foundation
import XCTest

@testable import Libxl

/// libxl linked for real; on a machine that is not a Xen dom0 it must fail in one clear line.
final class ContextTests: XCTestCase {
    func testOutsideADom0TheContextFailsWithOneClearLine() throws {
        if FileManager.default.fileExists(atPath: "/proc/xen/capabilities"),
           (try? String(contentsOfFile: "/proc/xen/capabilities", encoding: .utf8))?.contains("control_d") == true {
            throw XCTSkip("this machine is a Xen dom0; the failure path cannot be seen here")
        }
        XCTAssertThrowsError(try Context()) { error in
            guard let e = error as? LibxlError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.code, LibxlError.fail)
            XCTAssertTrue(e.description.hasPrefix("not a Xen dom0"), e.description)
            XCTAssertFalse(e.description.contains("\n"))
        }
    }

    func testTheLoggerReceivesFormattedMessagesAndProgress() {
        let seen = Seen()
        let logger = ToolLogger { seen.add($0) }
        logger.receive(.progress(context: "xc", doing: "Frames iteration 1", percent: 50, done: 8192, total: 17959))
        XCTAssertEqual(seen.all, [.progress(context: "xc", doing: "Frames iteration 1", percent: 50, done: 8192, total: 17959)])
        // A real message through libxl's C logger path: a failing context logs why.
        let real = ToolLogger()
        _ = try? Context(logger: real)
        if !FileManager.default.fileExists(atPath: "/proc/xen/capabilities") {
            XCTAssertFalse(real.messages.isEmpty, "libxl said nothing through the logger")
        }
    }
}

extension ContextTests {
    func testXentoollogLevelsMapOntoSwiftLogLevels() {
        XCTAssertEqual(ToolLogger.level(1), .trace)   // XTL_DEBUG
        XCTAssertEqual(ToolLogger.level(4), .debug)   // XTL_PROGRESS
        XCTAssertEqual(ToolLogger.level(5), .info)
        XCTAssertEqual(ToolLogger.level(6), .notice)
        XCTAssertEqual(ToolLogger.level(7), .warning)
        XCTAssertEqual(ToolLogger.level(8), .error)
        XCTAssertEqual(ToolLogger.level(9), .critical)
    }
}

final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [LibxlLogEntry] = []
    func add(_ e: LibxlLogEntry) { lock.withLock { entries.append(e) } }
    var all: [LibxlLogEntry] { lock.withLock { entries } }
}
