import XCTest

@testable import MigscopeCore

/// The recorder's end does not wait for ever on a sampler stuck in a call that cannot be cancelled.
final class BoundedWaitTests: XCTestCase {
    func testAStuckTaskGivesNothingAndAFinishedOneItsValue() async {
        let stuck = Task { () -> [Double] in
            // Stands for a C call that ignores cancellation: blocks a thread for 3 s.
            usleep(3_000_000)
            return [1]
        }
        let none = await Recorder.value(of: stuck, within: .milliseconds(200))
        XCTAssertNil(none)
        let done = Task { () -> [Double] in [0.1, 0.2] }
        let value = await Recorder.value(of: done, within: .seconds(30))
        XCTAssertEqual(value, [0.1, 0.2])
    }
}
