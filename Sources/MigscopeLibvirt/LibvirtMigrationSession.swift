import Foundation
import Libvirt
import MigscopeCore

/// One libvirt migration: the source domain, both connections, and the translation of libvirt's
/// job stats and events into core values.
final class LibvirtMigrationSession: MigrationSession, @unchecked Sendable {
    let request: MigrationRequest
    let domainFacts: DomainFacts
    private let source: Connection
    private let destination: Connection?
    private let domain: Domain

    /// Watching a migration another process started (`migscope attach`), rather than starting one.
    let attached: Bool
    private let journal: LibvirtJournal

    init(request: MigrationRequest, source: Connection, destination: Connection?, domain: Domain, facts: DomainFacts,
         attached: Bool = false, journal: LibvirtJournal = LibvirtJournal()) {
        self.attached = attached
        self.journal = journal
        self.request = request
        self.source = source
        self.destination = destination
        self.domain = domain
        self.domainFacts = facts
    }

    private var arrivingName: String { request.destinationName ?? domainFacts.name }

    var flags: MigrationFlags {
        var f: MigrationFlags = []
        if request.mode == .live { f.insert(.live) }
        if request.transport == .peerToPeer { f.insert(.peerToPeer) }
        if request.persistent == true { f.insert(.persistDestination) }
        if request.undefineSource == true { f.insert(.undefineSource) }
        if request.autoConverge != nil { f.insert(.autoConverge) }
        if request.postcopy != nil { f.insert(.postcopy) }
        if request.parallelConnections != nil { f.insert(.parallel) }
        if request.compression != nil { f.insert(.compressed) }
        return f
    }

    var parameters: MigrationParameters {
        MigrationParameters(
            migrateURI: request.migrateURI, destinationName: request.destinationName,
            bandwidthMiBps: request.bandwidthMiBps,
            autoConvergeInitialPercent: request.autoConverge?.initialPercent.map(Int32.init),
            autoConvergeIncrementPercent: request.autoConverge?.incrementPercent.map(Int32.init),
            parallelConnections: request.parallelConnections.map(Int32.init),
            compression: request.compression?.rawValue)
    }

    func run() async throws {
        if attached { return try await waitForTheRunningJob() }
        // Written before the job exists and removed once this call returns, whatever the outcome:
        // an entry whose process is gone marks a job nobody watches (`migscope jobs`).
        let entry = LibvirtJournal.Entry(
            domain: domainFacts.name, uuid: domainFacts.uuid, source: request.source, destination: request.destination,
            peerToPeer: request.transport == .peerToPeer, live: request.mode == .live, pid: getpid(), started: Date())
        journal.write(entry)
        defer { journal.remove(uuid: entry.uuid) }
        do {
            switch request.transport {
            case .peerToPeer:
                try await domain.migrate(toURI: request.destination, parameters: parameters, flags: flags)
            case .clientManaged:
                guard let destination else {
                    throw MigrationError(.unreachable, "no connection to destination \(request.destination)")
                }
                _ = try await domain.migrate(to: destination, parameters: parameters, flags: flags)
            }
        } catch let e as LibvirtError {
            // After an abort asked for here, QEMU may end the job as failed rather than cancelled
            // (a write to the closed stream losing the race: "Unable to write to socket: Broken
            // pipe", seen in CI): it is still the abort.
            if e.isAborted || abortAsked {
                throw MigrationError(.aborted, "migration aborted: \(e.message)")
            }
            throw MigrationError(.failed, "migration failed: \(e.message)")
        } catch let e as MigrationError {
            throw e
        } catch {
            throw MigrationError(.failed, "migration failed: \(error)")
        }
    }

    /// Attached: the migration ends when the source's job does; how it ended comes from the job's
    /// completed figures, or else from where the domain is.
    private func waitForTheRunningJob() async throws {
        var cancelledAt: ContinuousClock.Instant? = nil
        while let stats = try? domain.jobStats(), stats.isRunning {
            // Cancelling aborts the job (the runner's doing); a job that will not end is let go of.
            if Task.isCancelled {
                let since = cancelledAt ?? .now
                cancelledAt = since
                if ContinuousClock.now - since > .seconds(30) { throw MigrationError(.aborted, "migration aborted: the job did not end within 30 s of the abort") }
            }
            await Self.pauseEvenIfCancelled(.milliseconds(200))
        }
        if let done = try? domain.jobStats(completed: true) {
            switch done.type {
            case .completed?: return
            case .cancelled?: throw MigrationError(.aborted, "migration aborted: the job was cancelled")
            case .failed? where abortAsked: throw MigrationError(.aborted, "migration aborted: the job on \(request.source) ended as failed after the abort")
            case .failed?: throw MigrationError(.failed, "migration failed: the job on \(request.source) failed")
            default: break
            }
        }
        // A peer-to-peer migration that completed leaves no domain (and no job figures) on the source.
        let location = locate()
        if location.place == .destination { return }
        throw MigrationError(.failed, "the migration's job ended and the domain is \(location)")
    }

    /// A pause that cancellation does not cut short: after the abort the job is polled until it
    /// ends, and `Task.sleep` in a cancelled task returns at once (a loop of RPCs, not of pauses).
    private static func pauseEvenIfCancelled(_ d: Duration) async {
        await withCheckedContinuation { c in
            DispatchQueue.global().asyncAfter(deadline: .now() + d.secondsDouble) { c.resume() }
        }
    }

    func signals() throws -> AsyncStream<MigrationSignal> {
        let fromSource: AsyncStream<DomainEvent>
        do { fromSource = try source.events(of: domain) } catch {
            throw MigrationError(.failed, "cannot watch events on \(request.source): \(error.message)")
        }
        // The domain does not exist on the destination yet: watch all and keep ours by name.
        let fromDestination = try? destination?.events(of: nil, kinds: [.lifecycle, .jobCompleted])
        let (stream, continuation) = AsyncStream<MigrationSignal>.makeStream()
        let name = arrivingName
        let uuid = domainFacts.uuid
        let a = Task {
            for await e in fromSource {
                if let s = Self.translate(e, from: .source) { continuation.yield(s) }
            }
        }
        let b = Task {
            guard let fromDestination else { return }
            for await e in fromDestination where e.domainName == name || e.domainUUID == uuid {
                if let s = Self.translate(e, from: .destination) { continuation.yield(s) }
            }
        }
        continuation.onTermination = { _ in
            a.cancel()
            b.cancel()
        }
        return stream
    }

    static func translate(_ e: DomainEvent, from host: HostRole) -> MigrationSignal? {
        let kind: MigrationSignal.Kind
        switch e.kind {
        case .migrationIteration(let n):
            kind = .roundStarted(UInt64(max(0, n)))
        case .jobCompleted(let stats):
            // The destination reports an incoming job too; the source's is the migration's.
            guard host == .source else { return nil }
            kind = .jobCompleted(JobProgress(stats))
        case .lifecycle(let l):
            switch (l.kind, host) {
            case (.suspended, _): kind = .guestPaused(host: host)
            case (.resumed, _): kind = .guestResumed(host: host)
            case (.started, .destination) where l.isStartedByMigration: kind = .startedOnDestination
            case (.stopped, .source) where l.isStoppedByMigration: kind = .stoppedOnSource
            default: kind = .other(host: host, l.description)
            }
        }
        return MigrationSignal(kind, at: e.receivedAt)
    }

    func progress() throws -> JobProgress? {
        let stats: JobStats
        do { stats = try domain.jobStats() } catch {
            throw MigrationError(.failed, "cannot read the job of '\(domainFacts.name)': \(error.message)")
        }
        guard let type = stats.type, type == .bounded || type == .unbounded else { return nil }
        return JobProgress(stats)
    }

    func completedProgress() throws -> JobProgress? {
        if let s = try? domain.jobStats(completed: true), s.type == .completed { return JobProgress(s) }
        if let d = try? destination?.domain(named: arrivingName),
           let s = try? d.jobStats(completed: true), s.type == .completed {
            return JobProgress(s)
        }
        return nil
    }

    // The destination's domain object, once it exists there.
    private let lock = NSLock()
    private var destinationDomain: Domain?

    func guestIO(on host: HostRole) throws -> GuestIOCounters? {
        let d: Domain
        switch host {
        case .source:
            d = domain
        case .destination:
            guard let destination else { return nil }
            if let cached = lock.withLock({ destinationDomain }) {
                d = cached
            } else {
                guard let found = try? destination.domain(named: arrivingName) else { return nil }
                lock.withLock { destinationDomain = found }
                d = found
            }
        }
        guard d.isActive, let s = try? d.blockStatsNoWait() else { return nil }
        return GuestIOCounters(
            host: host, readBytes: UInt64(max(0, s.readBytes)), writeBytes: UInt64(max(0, s.writeBytes)),
            readOps: UInt64(max(0, s.readRequests)), writeOps: UInt64(max(0, s.writeRequests)))
    }

    func abort() throws {
        do { try domain.abortJob() } catch {
            throw MigrationError(.failed, "cannot abort the migration of '\(domainFacts.name)': \(error.message)")
        }
        lock.withLock { _abortAsked = true }
    }

    /// `abort()` reached the job: however libvirt reports its end, the migration was aborted.
    private var _abortAsked = false
    private var abortAsked: Bool { lock.withLock { _abortAsked } }

    func pauseGuest() throws {
        do { try domain.suspend() } catch {
            throw MigrationError(.failed, "cannot pause '\(domainFacts.name)': \(error.message)")
        }
    }

    func setMaxDowntime(milliseconds: UInt64) throws {
        do { try domain.setMigrationMaxDowntime(milliseconds: milliseconds) } catch {
            throw MigrationError(.failed, "cannot set max downtime: \(error.message)")
        }
    }

    func setMaxSpeed(mebibytesPerSecond: UInt64) throws {
        do { try domain.setMigrationMaxSpeed(mebibytesPerSecond: mebibytesPerSecond) } catch {
            throw MigrationError(.failed, "cannot set max speed: \(error.message)")
        }
    }

    /// QEMU's "no cap" as libvirt spells it (INT64_MAX bytes/s in MiB/s).
    static let uncappedMiBps: UInt64 = UInt64(Int64.max) / (1024 * 1024)

    func releaseMaxSpeed() throws {
        try setMaxSpeed(mebibytesPerSecond: Self.uncappedMiBps)
    }

    func startPostcopy() throws {
        do { try domain.startPostCopy() } catch {
            throw MigrationError(.failed, "cannot switch to post-copy: \(error.message)")
        }
    }

    func locate() -> DomainLocation {
        let src = Presence.ask { try self.source.domain(uuid: self.domainFacts.uuid) }
        let dst = destination.map { conn in Presence.ask { try conn.domain(named: self.arrivingName) } } ?? .unanswered
        let place: DomainLocation.Place
        var note: String? = nil
        switch (src, dst) {
        case (.active(let s), .active(let d)):
            // Mid-handover both exist; the running one is where the guest is.
            place = d == .running && s != .running ? .destination : s == .running && d != .running ? .source : .both
        case (.active, _): place = .source
        case (_, .active): place = .destination
        case (.absent, .absent): place = .nowhere
        default:
            place = .unknown
            note = "a host could not be asked (source \(request.source), destination \(request.destination))"
        }
        let state: Domain.State? = switch place {
        case .destination: dst.state
        default: src.state
        }
        return DomainLocation(
            place: place, sourceURI: request.source, destinationURI: request.destination,
            state: state?.description, note: note)
    }
}

/// Whether a domain is on one host, as that host answered.
private enum Presence {
    case active(Domain.State)
    case absent
    case unanswered

    var state: Domain.State? {
        if case .active(let s) = self { return s }
        return nil
    }

    static func ask(_ lookup: () throws -> Domain) -> Presence {
        do {
            let d = try lookup()
            guard d.isActive else { return .absent }
            return (try? .active(d.state().state)) ?? .unanswered
        } catch let e as LibvirtError where e.isNoDomain {
            return .absent
        } catch {
            return .unanswered
        }
    }
}

extension JobProgress {
    /// libvirt's job stats in core terms (times in ms, sizes in bytes, dirty rate in pages/s).
    init(_ s: JobStats) {
        self.init(
            iteration: s.memoryIteration, dirtyRatePagesPerSecond: s.memoryDirtyRate,
            pageSizeBytes: s.memoryPageSize, memoryTotalBytes: s.memoryTotal,
            memoryProcessedBytes: s.memoryProcessed, memoryRemainingBytes: s.memoryRemaining,
            memoryBytesPerSecond: s.memoryBps, dataTotalBytes: s.dataTotal,
            dataProcessedBytes: s.dataProcessed, dataRemainingBytes: s.dataRemaining,
            downtimeMs: s.type == .completed ? s.downtime : nil,
            expectedDowntimeMs: s.type == .completed ? nil : s.downtime,
            setupTimeMs: s.setupTime, timeElapsedMs: s.timeElapsed,
            cpuThrottlePercent: s.autoConvergeThrottle, postcopyRequests: s.memoryPostcopyRequests)
    }
}
