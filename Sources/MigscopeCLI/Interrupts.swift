import Foundation

/// Ctrl-C, SIGTERM and SIGHUP alike (a terminal closed, a service manager or a batch system
/// stopping migscope): the first cancels the work, which aborts the migration and keeps what was
/// recorded; a second one exits at once.
enum Interrupts {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    static func cancellingOnCtrlC<T: Sendable>(
        _ work: @escaping @Sendable () async -> T, onFirst: @escaping @Sendable () -> Void
    ) async -> T {
        let task = Task { await work() }
        let count = Counter()
        let sources = signals.map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if count.increment() == 1 {
                    onFirst()
                    task.cancel()
                } else {
                    exit(130)
                }
            }
            source.resume()
            return source
        }
        let result = await task.value
        for (number, source) in zip(signals, sources) {
            source.cancel()
            signal(number, SIG_DFL)
        }
        return result
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func increment() -> Int { lock.withLock { n += 1; return n } }
    }
}
