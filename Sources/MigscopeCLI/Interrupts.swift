import Foundation

/// Ctrl-C handling: the first one cancels the work (which aborts the migration), the second exits.
enum Interrupts {
    static func cancellingOnCtrlC<T: Sendable>(
        _ work: @escaping @Sendable () async -> T, onFirst: @escaping @Sendable () -> Void
    ) async -> T {
        let task = Task { await work() }
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let count = Counter()
        source.setEventHandler {
            if count.increment() == 1 {
                onFirst()
                task.cancel()
            } else {
                exit(130)
            }
        }
        source.resume()
        let result = await task.value
        source.cancel()
        signal(SIGINT, SIG_DFL)
        return result
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func increment() -> Int { lock.withLock { n += 1; return n } }
    }
}
