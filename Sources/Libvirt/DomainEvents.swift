import CLibvirt
import Foundation

/// A domain event as libvirt delivered it, stamped with the moment it arrived in this process.
public struct DomainEvent: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Started, paused, resumed, stopped... (`VIR_DOMAIN_EVENT_ID_LIFECYCLE`).
        case lifecycle(LifecycleEvent)
        /// A new pre-copy round began (`VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION`).
        case migrationIteration(Int32)
        /// A job finished, with its final statistics (`VIR_DOMAIN_EVENT_ID_JOB_COMPLETED`).
        case jobCompleted(JobStats)
    }
    public var domainName: String
    public var domainUUID: String
    public var kind: Kind
    public var receivedAt: ContinuousClock.Instant
}

/// A lifecycle event (`virDomainEventType`) with its detail (`virDomainEvent*DetailType`).
public struct LifecycleEvent: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Int32, Sendable {
        case defined = 0, undefined, started, suspended, resumed, stopped, shutdown, pmSuspended, crashed
    }
    public var kind: Kind?
    public var rawKind: Int32
    public var detail: Int32

    public init(rawKind: Int32, detail: Int32) {
        self.rawKind = rawKind
        self.kind = Kind(rawValue: rawKind)
        self.detail = detail
    }

    /// Paused because a migration entered its final stop-and-copy phase
    /// (VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED) or because the whole migration is offline.
    public var isPausedForMigration: Bool {
        kind == .suspended && detail == Int32(VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED.rawValue)
    }
    /// Resumed on the destination at the end of an incoming migration (VIR_DOMAIN_EVENT_RESUMED_MIGRATED).
    public var isResumedAfterMigration: Bool {
        kind == .resumed && detail == Int32(VIR_DOMAIN_EVENT_RESUMED_MIGRATED.rawValue)
    }
    /// Started on the destination by an incoming migration (VIR_DOMAIN_EVENT_STARTED_MIGRATED).
    public var isStartedByMigration: Bool {
        kind == .started && detail == Int32(VIR_DOMAIN_EVENT_STARTED_MIGRATED.rawValue)
    }
    /// Stopped on the source because it migrated away (VIR_DOMAIN_EVENT_STOPPED_MIGRATED).
    public var isStoppedByMigration: Bool {
        kind == .stopped && detail == Int32(VIR_DOMAIN_EVENT_STOPPED_MIGRATED.rawValue)
    }

    public var description: String {
        let k = kind.map { "\($0)" } ?? "event \(rawKind)"
        if isPausedForMigration { return "suspended (migration)" }
        if isResumedAfterMigration { return "resumed (migration)" }
        if isStartedByMigration { return "started (incoming migration)" }
        if isStoppedByMigration { return "stopped (migrated away)" }
        return "\(k) (detail \(detail))"
    }
}

extension Connection {
    /// Which events to subscribe to.
    public struct EventKinds: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let lifecycle = EventKinds(rawValue: 1)
        public static let migrationIteration = EventKinds(rawValue: 2)
        public static let jobCompleted = EventKinds(rawValue: 4)
        public static let all: EventKinds = [.lifecycle, .migrationIteration, .jobCompleted]
    }

    /// Domain events on this connection (of one domain, or all), as an async sequence.
    ///
    /// The subscription ends, and libvirt's callbacks are deregistered, when the consumer stops
    /// iterating or drops the sequence. Events flow only while the `EventLoop` runs.
    public func events(of domain: Domain? = nil, kinds: EventKinds = .all) throws(LibvirtError) -> AsyncStream<DomainEvent> {
        let (stream, continuation) = AsyncStream<DomainEvent>.makeStream(bufferingPolicy: .unbounded)
        var ids: [Int32] = []
        let conn = handle
        func register(_ id: virDomainEventID, _ cb: virConnectDomainEventGenericCallback) throws(LibvirtError) {
            let sink = Unmanaged.passRetained(EventSink(continuation)).toOpaque()
            let rc = virConnectDomainEventRegisterAny(conn, domain?.handle, Int32(id.rawValue), cb, sink, eventSinkRelease)
            if rc < 0 {
                // libvirt does not call the free callback when registration fails.
                Unmanaged<EventSink>.fromOpaque(sink).release()
                let error = LibvirtError.last("subscribe to domain events on \(requestedURI)")
                for id in ids { virConnectDomainEventDeregisterAny(conn, id) }
                throw error
            }
            ids.append(rc)
        }
        if kinds.contains(.lifecycle) {
            try register(VIR_DOMAIN_EVENT_ID_LIFECYCLE, unsafeBitCast(onLifecycle as LifecycleCallback, to: virConnectDomainEventGenericCallback.self))
        }
        if kinds.contains(.migrationIteration) {
            try register(VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, unsafeBitCast(onIteration as IterationCallback, to: virConnectDomainEventGenericCallback.self))
        }
        if kinds.contains(.jobCompleted) {
            try register(VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, unsafeBitCast(onJobCompleted as JobCompletedCallback, to: virConnectDomainEventGenericCallback.self))
        }
        let registered = ids
        // The connection is captured so it stays open as long as someone listens.
        continuation.onTermination = { _ in
            for id in registered { virConnectDomainEventDeregisterAny(self.handle, id) }
        }
        return stream
    }
}

/// Holds the continuation an event callback yields into; one retain per registration.
private final class EventSink: @unchecked Sendable {
    let continuation: AsyncStream<DomainEvent>.Continuation
    init(_ c: AsyncStream<DomainEvent>.Continuation) { continuation = c }

    static func yield(_ opaque: UnsafeMutableRawPointer?, _ dom: virDomainPtr?, _ kind: DomainEvent.Kind) {
        let now = ContinuousClock.now
        guard let opaque else { return }
        let sink = Unmanaged<EventSink>.fromOpaque(opaque).takeUnretainedValue()
        var uuid = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        let name = dom.flatMap { virDomainGetName($0) }.map { String(cString: $0) } ?? ""
        if let dom, virDomainGetUUIDString(dom, &uuid) != 0 { uuid[0] = 0 }
        sink.continuation.yield(DomainEvent(domainName: name, domainUUID: String(cBuffer: uuid), kind: kind, receivedAt: now))
    }
}

// C callbacks: file scope, non-capturing (Swift crashes on capturing closures converted to C
// function pointers); the sink arrives through the opaque pointer.
private typealias LifecycleCallback = @convention(c) (virConnectPtr?, virDomainPtr?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
private typealias IterationCallback = @convention(c) (virConnectPtr?, virDomainPtr?, Int32, UnsafeMutableRawPointer?) -> Void
private typealias JobCompletedCallback = @convention(c) (virConnectPtr?, virDomainPtr?, virTypedParameterPtr?, Int32, UnsafeMutableRawPointer?) -> Void

private func onLifecycle(_ c: virConnectPtr?, _ d: virDomainPtr?, _ event: Int32, _ detail: Int32, _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    EventSink.yield(opaque, d, .lifecycle(LifecycleEvent(rawKind: event, detail: detail)))
    return 0
}

private func onIteration(_ c: virConnectPtr?, _ d: virDomainPtr?, _ iteration: Int32, _ opaque: UnsafeMutableRawPointer?) {
    EventSink.yield(opaque, d, .migrationIteration(iteration))
}

private func onJobCompleted(_ c: virConnectPtr?, _ d: virDomainPtr?, _ p: virTypedParameterPtr?, _ n: Int32, _ opaque: UnsafeMutableRawPointer?) {
    let stats = JobStats(type: .completed, parameters: TypedParameters(decoding: p, count: n))
    EventSink.yield(opaque, d, .jobCompleted(stats))
}

private func eventSinkRelease(_ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    let sink = Unmanaged<EventSink>.fromOpaque(opaque)
    sink.takeUnretainedValue().continuation.finish()
    sink.release()
}
