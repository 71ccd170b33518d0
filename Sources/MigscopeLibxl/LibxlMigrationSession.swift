import BlockingCall
import Foundation
import Libxl
import MigscopeCore

/// One libxl migration: the sender half of migscope's protocol on its own thread, with the
/// logger's progress turned into rounds and signals as it arrives.
final class LibxlMigrationSession: MigrationSession, @unchecked Sendable {
    let request: MigrationRequest
    let domainFacts: DomainFacts
    let toolstack: LibxlToolstack
    let sourceID: DomainID
    let destination: XenDestination
    let executable: String

    private let lock = NSLock()
    private let clock = ContinuousClock()
    private var progressLog: FileHandle?
    private var callbacks: [(at: ContinuousClock.Instant, context: String, doing: String, done: UInt64, total: UInt64)] = []
    private var tracker = XenProgressTracker()
    private var startedAt: ContinuousClock.Instant?
    private var endedAt: ContinuousClock.Instant?
    private var suspendedAt: ContinuousClock.Instant?
    private var runningAt: ContinuousClock.Instant?
    private var destinationID: DomainID?
    /// Where the sender is: abort means something different in each.
    private enum Stage { case handshake, streaming, finishing, committed }
    private var stage = Stage.handshake
    private var connection: XenConnection?
    private var abortRequested = false
    private var continuations: [AsyncStream<MigrationSignal>.Continuation] = []
    let key: XenPeerKey?
    let journal: XenJournal
    private var journalEntry: XenJournal.Entry

    init(request: MigrationRequest, facts: DomainFacts, toolstack: LibxlToolstack, sourceID: DomainID, destination: XenDestination,
         executable: String, progressLog: FileHandle?, key: XenPeerKey?, journal: XenJournal) {
        self.key = key
        self.journal = journal
        journalEntry = XenJournal.Entry(domain: request.domain, sourceID: sourceID, destination: destination.description, pid: getpid(), stage: .handshake, started: Date())
        self.request = request
        self.domainFacts = facts
        self.toolstack = toolstack
        self.sourceID = sourceID
        self.destination = destination
        self.executable = executable
        self.progressLog = progressLog
    }

    // MARK: progress from the logger

    func logged(_ entry: LibxlLogEntry) {
        guard case .progress(let context, let doing, let percent, let done, let total) = entry else { return }
        let now = clock.now
        let signal: MigrationSignal.Kind? = lock.withLock {
            callbacks.append((now, context, doing, done, total))
            if let log = progressLog, let start = startedAt {
                log.write(Data(String(format: "%.4f %@ \"%@\" %d %llu %llu\n", (now - start).secondsDouble, context, doing, percent, done, total).utf8))
            }
            let s = tracker.receive(t: (now - (startedAt ?? now)).secondsDouble, context: context, doing: doing, done: done, total: total)
            if case .guestPaused = s { suspendedAt = now }
            return s
        }
        if let signal { emit(signal, at: now) }
    }

    private func emit(_ kind: MigrationSignal.Kind, at: ContinuousClock.Instant) {
        for c in lock.withLock({ continuations }) { c.yield(MigrationSignal(kind, at: at)) }
    }

    func signals() throws -> AsyncStream<MigrationSignal> {
        let (stream, continuation) = AsyncStream<MigrationSignal>.makeStream()
        lock.withLock { continuations.append(continuation) }
        return stream
    }

    func hypervisorRounds(since origin: ContinuousClock.Instant) -> [RoundRecord]? {
        let seen = lock.withLock { callbacks }
        var t = XenProgressTracker()
        for c in seen { t.receive(t: (c.at - origin).secondsDouble, context: c.context, doing: c.doing, done: c.done, total: c.total) }
        return t.records()
    }

    // MARK: running

    func run() async throws {
        // Written before anything changes, so a migscope that dies from here on leaves a record.
        try journal.write(lock.withLock { journalEntry })
        let connection: XenConnection
        do { connection = try XenConnection.open(destination, executable: executable) } catch {
            journal.remove(request.domain)
            throw error
        }
        lock.withLock {
            self.connection = connection
            startedAt = clock.now
        }
        let sender = XenMigrationEnd(toolstack: toolstack, wire: connection.wire, key: key, mayCommit: { [weak self] in self?.commit() ?? false }) { [weak self] step in
            self?.stepped(step)
        }
        let live = request.mode == .live
        let domain = request.domain
        // libxl's calls block for the whole stream.
        let result = await BlockingCall.run("migscope-libxl-send") { Result { try sender.send(domain: domain, live: live) } }
        let status = connection.close()
        let end = clock.now
        lock.withLock {
            endedAt = end
            self.connection = nil
            try? progressLog?.close()
            progressLog = nil
        }
        switch result {
        case .success(let id):
            journal.remove(request.domain)
            lock.withLock { destinationID = id }
            if let final = try completedProgress() { emit(.jobCompleted(final), at: end) }
            finishSignals()
        case .failure(let error):
            // Resolved (source untouched or put back) unless the go-ahead went out: then the
            // record stays until a person (or xen-recover) has decided.
            if lock.withLock({ journalEntry.stage }) != .goSent { journal.remove(request.domain) }
            finishSignals()
            var e = error as? MigrationError ?? MigrationError(.failed, "\(error)")
            if destination == .localhost, let status, status != 0, (status & 0x7f) != 0 {
                e.message += " (the receiver was killed by signal \(status & 0x7f))"
            }
            if destination == .localhost { cleanUpIncoming() }
            throw e
        }
    }

    private func finishSignals() {
        for c in lock.withLock({ continuations }) { c.finish() }
    }

    /// A receiver killed mid-stream leaves its half-made domain behind; on localhost it is ours to remove.
    private func cleanUpIncoming() {
        let incoming = request.domain + XenMigrationProtocol.incomingSuffix
        if let id = try? toolstack.domainID(named: incoming) { try? toolstack.destroy(id) }
    }

    /// The sender's last question before "go": true unless an abort came first; after it, no abort.
    private func commit() -> Bool {
        lock.withLock {
            guard !abortRequested else { return false }
            stage = .committed
            return true
        }
    }

    private func record(_ stage: XenJournal.Stage) {
        let entry: XenJournal.Entry = lock.withLock { journalEntry.stage = stage; return journalEntry }
        try? journal.write(entry)
    }

    private func stepped(_ step: XenMigrationStep) {
        let now = clock.now
        switch step {
        case .sourceRenamed: record(.renamed)
        case .goSent: record(.goSent)
        case .receiving: break
        case .streamStarted: lock.withLock { stage = .streaming }
        case .streamEnded: lock.withLock { stage = .finishing }
        case .restored(let id):
            lock.withLock { destinationID = id; stage = .finishing }
            emit(.startedOnDestination, at: now)
        case .running(let id):
            lock.withLock { destinationID = id; runningAt = now }
            emit(.guestResumed(host: .destination), at: now)
        case .sourceDestroyed:
            emit(.stoppedOnSource, at: now)
        case .sourceResumed:
            emit(.guestResumed(host: .source), at: now)
        case .configurationSent(let bytes):
            emit(.other(host: .source, "configuration sent (\(bytes) bytes)"), at: now)
        }
    }

    func progress() throws -> JobProgress? {
        lock.withLock {
            guard let start = startedAt, endedAt == nil else { return nil }
            return figures(elapsed: clock.now - start)
        }
    }

    func completedProgress() throws -> JobProgress? {
        lock.withLock {
            guard let start = startedAt, let end = endedAt else { return nil }
            var p = figures(elapsed: end - start)
            if let s = suspendedAt, let r = runningAt { p.downtimeMs = UInt64(max(0, (r - s).secondsDouble * 1000)) }
            p.memoryRemainingBytes = 0
            return p
        }
    }

    /// Figures from the rounds so far (call with the lock held).
    private func figures(elapsed: Duration) -> JobProgress {
        let rounds = tracker.rounds
        let sent = rounds.reduce(UInt64(0)) { $0 + $1.pagesSent } * tracker.pageSize
        let current = rounds.last
        // `iteration` counts rounds begun, first round 1 (as libvirt's QEMU driver counts); the round records
        // keep libxenguest's own numbers, which start at 0.
        return JobProgress(
            iteration: rounds.isEmpty ? nil : UInt64(rounds.count), pageSizeBytes: tracker.pageSize,
            memoryTotalBytes: domainFacts.memoryBytes, memoryProcessedBytes: sent,
            memoryRemainingBytes: current.map { ($0.pagesTotal - min($0.pagesSent, $0.pagesTotal)) * tracker.pageSize },
            timeElapsedMs: UInt64(elapsed.secondsDouble * 1000))
    }

    /// From dom0's sysfs only, never through libxl: the recorder asks every interval, and a libxl
    /// call from its thread competes with the save helper's conversation with libxl (a first version
    /// that looked domains up by name cost the migration 10 %). The destination's copy is paused
    /// until the receiver says it restored it, so there is nothing to count there before.
    func guestIO(on host: HostRole) throws -> GuestIOCounters? {
        let id: DomainID?
        switch host {
        case .source: id = sourceID
        case .destination: id = destination == .localhost ? lock.withLock { destinationID } : nil
        }
        guard let id, let t = XenBlockCounters.totals(domain: id) else { return nil }
        return GuestIOCounters(host: host, readBytes: t.readBytes, writeBytes: t.writeBytes, readOps: t.readOps, writeOps: t.writeOps)
    }

    func abort() throws {
        let (stage, connection) = lock.withLock { () -> (Stage, XenConnection?) in
            if self.stage != .committed { abortRequested = true }
            return (self.stage, self.connection)
        }
        guard let connection else { throw MigrationError(.aborted, "no migration is running") }
        switch stage {
        case .handshake:
            // Nothing was changed yet: cutting the connection ends it with the source untouched.
            connection.shutdown()
        case .streaming:
            toolstack.context.abortRunningOperation()
            // libxl notices an abort between rounds; cutting the connection stops the stream at once.
            connection.shutdown()
        case .finishing:
            // The stream is complete but "go" has not gone out: the sender puts the source back
            // instead, and the receiver destroys its copy when "go" does not come.
            lock.withLock { abortRequested = true }
            connection.shutdown()
        case .committed:
            throw MigrationError(.unsupported, "too late to abort: the go-ahead was sent and the destination is starting the domain")
        }
    }

    func pauseGuest() throws {
        throw MigrationError(.unsupported, LibxlBackend.capabilities.unsupported[.timeout] ?? "unsupported")
    }

    func setMaxDowntime(milliseconds: UInt64) throws {
        throw MigrationError(.unsupported, LibxlBackend.capabilities.unsupported[.maxDowntime] ?? "unsupported")
    }

    func setMaxSpeed(mebibytesPerSecond: UInt64) throws {
        throw MigrationError(.unsupported, LibxlBackend.capabilities.unsupported[.streamCap] ?? "unsupported")
    }

    func releaseMaxSpeed() throws {}  // there is no cap to lift

    func startPostcopy() throws {
        throw MigrationError(.unsupported, LibxlBackend.capabilities.unsupported[.postcopy] ?? "unsupported")
    }

    func locate() -> DomainLocation {
        let here = "this host"
        let name = request.domain
        let sourceInfo = toolstack.context.domainInfo(sourceID)
        let onSource = sourceInfo.map { !$0.dying && !$0.shutdown } ?? false
        var onDestination = false
        var state = sourceInfo?.state
        if destination == .localhost, let id = lock.withLock({ destinationID }), id != sourceID, let d = toolstack.context.domainInfo(id), !d.dying {
            onDestination = true
            state = d.state
        } else if destination != .localhost, lock.withLock({ runningAt }) != nil {
            onDestination = true
            state = "running"
        }
        let place: DomainLocation.Place = onSource && onDestination ? .both : onSource ? .source : onDestination ? .destination : .nowhere
        if place == .source, let n = sourceInfo?.name, n != name { state = "\(state ?? "?") as '\(n)'" }
        return DomainLocation(place: place, sourceURI: here, destinationURI: destination.description, state: state)
    }
}
