import CLibvirt
import Foundation

/// libvirt's default event loop, run on a thread of its own.
///
/// libvirt delivers domain events (and answers remote keepalives) only while something keeps calling
/// `virEventRunDefaultImpl`. The implementation is registered once per process, before the first
/// connection opens (libvirt cannot register events on connections opened earlier); the thread can
/// be stopped and started again.
public final class EventLoop: @unchecked Sendable {
    public static let shared = EventLoop()

    private let lock = NSLock()
    private var registered = false
    private var thread: Thread?
    private var keepRunning = false
    private var stopped = DispatchSemaphore(value: 0)

    private init() {}

    public var isRunning: Bool { lock.withLock { thread != nil } }

    func registerAndStart() {
        lock.withLock {
            guard !registered else { return }
            registered = true
            if virEventRegisterDefaultImpl() != 0 {
                // Without it, events are unavailable but everything else works; registering
                // events then fails with libvirt's own message.
                return
            }
            // A periodic timer makes every turn of the loop return, so `stop()` is seen promptly.
            _ = virEventAddTimeout(200, eventLoopTick, nil, nil)
        }
        startThread()
    }

    /// Starts the loop thread if it is not running.
    public func start() {
        Libvirt.ensureInitialized()
        startThread()
    }

    // Called from within libvirt's one-time initialisation, so it must not ask for it again.
    private func startThread() {
        lock.withLock {
            guard thread == nil, registered else { return }
            keepRunning = true
            stopped = DispatchSemaphore(value: 0)
            let done = stopped
            let t = Thread { [unowned self] in
                while self.lock.withLock({ self.keepRunning }) {
                    if virEventRunDefaultImpl() < 0 { Thread.sleep(forTimeInterval: 0.05) }
                }
                done.signal()
            }
            t.name = "libvirt-event-loop"
            thread = t
            t.start()
        }
    }

    /// Stops the loop thread and waits for it to leave (at most one timer period).
    public func stop() {
        let wait: DispatchSemaphore? = lock.withLock {
            guard thread != nil else { return nil }
            keepRunning = false
            thread = nil
            return stopped
        }
        wait?.wait()
    }
}

private func eventLoopTick(_ timer: Int32, _ opaque: UnsafeMutableRawPointer?) {}
