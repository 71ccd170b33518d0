import Foundation

/// Runs a blocking C call (a libvirt connect, a migration, libxl's whole stream) on a thread of its
/// own, off Swift's cooperative pool, which has only as many threads as cores: one call blocked for
/// minutes there would starve every task. The one place this is done, for every C wrapper.
public enum BlockingCall {
    /// `body`'s result, once it returns.
    public static func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { done in
            let thread = Thread { done.resume(returning: body()) }
            thread.name = name
            thread.start()
        }
    }

    /// `body`'s result, or nil when `timeout` seconds pass first; the thread then runs on to its
    /// end by itself and its result is dropped (a C call cannot be interrupted from outside).
    public static func run<T: Sendable>(_ name: String, timeout: Double, _ body: @escaping @Sendable () -> T) async -> T? {
        let box = OneShot<T>()
        let thread = Thread { box.fulfil(body()) }
        thread.name = name
        thread.start()
        return await box.value(timeout: timeout)
    }
}

/// A value handed from one thread to an awaiting task once, with a deadline.
final class OneShot<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?
    private var waiter: CheckedContinuation<Value?, Never>?
    private var finished = false

    func fulfil(_ v: Value) {
        let w: CheckedContinuation<Value?, Never>? = lock.withLock {
            guard !finished else { return nil }
            if let w = waiter { finished = true; waiter = nil; return w }
            value = v
            return nil
        }
        w?.resume(returning: v)
    }

    /// The value, or nil when `timeout` seconds pass first.
    func value(timeout: Double) async -> Value? {
        await withCheckedContinuation { (c: CheckedContinuation<Value?, Never>) in
            let ready: Value?? = lock.withLock {
                if let v = value { finished = true; return .some(v) }
                waiter = c
                return .none
            }
            if let ready { c.resume(returning: ready); return }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                let w: CheckedContinuation<Value?, Never>? = lock.withLock {
                    guard !finished, let w = waiter else { return nil }
                    finished = true
                    waiter = nil
                    return w
                }
                w?.resume(returning: nil)
            }
        }
    }
}
