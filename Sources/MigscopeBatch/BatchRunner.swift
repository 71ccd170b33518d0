import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLab
import MigscopeLibvirt
import MigscopeReport
import MigscopeStore

/// Runs a plan: each remaining run of its schedule, recorded into the results database, with the
/// lab (or the real hosts) reset between runs as the plan says.
public final class BatchRunner: @unchecked Sendable {
    public enum Progress: Sendable {
        /// A run starts: its position, its cell, elapsed time and the estimate of what is left.
        case runStarting(index: Int, of: Int, cell: String, repetition: Int, elapsed: Double, remaining: Double?)
        case note(String)
        case runFinished(id: Int64, outcome: RunStatus, summary: RunSummary)
        /// A run could not start; it is in the database as failed, with why (`--keep-going`).
        case runCouldNotStart(id: Int64, reason: String)
    }

    public let plan: Plan
    public let store: ResultsStore
    let progress: @Sendable (Progress) -> Void
    let observer: (any MigrationObserver)?

    public init(plan: Plan, store: ResultsStore, observer: (any MigrationObserver)? = nil, progress: @escaping @Sendable (Progress) -> Void) {
        self.plan = plan
        self.store = store
        self.observer = observer
        self.progress = progress
    }

    /// Runs already complete for this plan, by (cell, repetition).
    public func completed() throws -> Set<PlannedRun.Key> {
        Set(try completeRuns().compactMap { r in
            r.cell.flatMap { c in r.repetition.map { PlannedRun.Key(cell: c, repetition: $0) } }
        })
    }

    /// The plan's complete runs; in a drain plan, only those of drains whose every run completed.
    func completeRuns() throws -> [RunListing] {
        let mine = try store.runs().filter { $0.plan == plan.name && $0.status == .completed }
        guard let drain = plan.drain else { return mine }
        let byDrain = Dictionary(grouping: mine) { $0.drain ?? "" }
        return mine.filter { r in r.drain.map { byDrain[$0]?.count == drain.domains.count } ?? false }
    }

    public struct Outcome: Sendable {
        public var ran: [Int64]
        public var skipped: Int
        public var interrupted: Bool
        public var guestLocation: String?
        /// Runs that failed and were passed over (--keep-going).
        public var failed: [Int64] = []
    }

    /// What a failed run does to the batch.
    public struct FailurePolicy: Sendable {
        /// Record a failed run with its reason and go on; otherwise the first failure stops the batch.
        public var keepGoing: Bool
        /// How many more times a run that failed before its migration started is tried.
        public var retries: Int
        public static let retriesRange = 0...10
        public init(keepGoing: Bool = false, retries: Int = 0) {
            self.keepGoing = keepGoing
            self.retries = retries
        }
    }
    public var policy = FailurePolicy()

    /// What differs between this plan and the one its runs in the database were made under, one
    /// phrase per setting; empty when nothing does (or nothing was recorded).
    public func changedSettings() throws -> [String] {
        let mine = plan.definingSettings
        var changed = Set<String>()
        for r in try store.runs() where r.plan == plan.name && r.status == .completed {
            guard let theirs = try store.run(r.id).info.planSettings else { continue }
            for key in Set(mine.keys).union(theirs.keys) where mine[key] != theirs[key] {
                changed.insert("\(key): \(theirs[key] ?? "unset") then, \(mine[key] ?? "unset") now")
            }
        }
        return changed.sorted()
    }

    /// Runs the plan. With `resume`, runs already complete are skipped; without it, a plan that has
    /// complete runs in the database is refused (so repetitions are never counted twice by accident).
    /// Resuming a plan whose defining settings changed is refused unless `forceMix`.
    public func run(resume: Bool, forceMix: Bool = false) async throws -> Outcome {
        let lock = try BatchLock(database: store.path, lab: { if case .lab = plan.hosts { return true } else { return false } }())
        defer { lock.release() }
        let done = try completed()
        if !resume && !done.isEmpty {
            throw BatchError("plan '\(plan.name)' already has \(done.count) complete run(s) in \(store.path); add --resume to continue it, or use another --db")
        }
        if !done.isEmpty, !forceMix {
            let changed = try changedSettings()
            if !changed.isEmpty {
                throw BatchError("plan '\(plan.name)' changed since its \(done.count) run(s) in \(store.path) (\(changed.joined(separator: "; "))); use another --db, or --force-mix to mix them")
            }
        }
        let todo = plan.remaining(completed: done)
        let skipped = plan.schedule.count - todo.count
        if skipped > 0 { progress(.note("resuming plan '\(plan.name)': \(skipped) of \(plan.schedule.count) runs already complete")) }
        if todo.isEmpty { return Outcome(ran: [], skipped: skipped, interrupted: false, guestLocation: nil, failed: []) }
        try await prepareHosts(first: todo[0].cell)

        let clock = ContinuousClock()
        let start = clock.now
        var durations: [Double] = []
        var ran: [Int64] = []
        var failed: [Int64] = []
        for (i, planned) in todo.enumerated() {
            if Task.isCancelled { return Outcome(ran: ran, skipped: skipped, interrupted: true, guestLocation: whereIsTheGuest(), failed: failed) }
            let elapsed = (clock.now - start).secondsDouble
            let left = durations.isEmpty ? nil : durations.reduce(0, +) / Double(durations.count) * Double(todo.count - i)
            progress(.runStarting(index: i + 1, of: todo.count, cell: planned.cell.key, repetition: planned.repetition, elapsed: elapsed, remaining: left))
            let t0 = clock.now
            if let drain = plan.drain {
                let runs = try await runDrainWithTries(planned, drain)
                ran += runs.compactMap(\.info.id)
                durations.append((clock.now - t0).secondsDouble)
                let bad = runs.filter { $0.info.status != .completed }
                if bad.isEmpty { continue }
                if policy.keepGoing && !Task.isCancelled {
                    failed += bad.compactMap(\.info.id)
                    progress(.note("the drain of cell \(planned.cell.key) had \(bad.count) run(s) not complete; going on (--keep-going)"))
                    continue
                }
                return Outcome(ran: ran, skipped: skipped, interrupted: true, guestLocation: whereIsTheGuest(), failed: failed)
            }
            let recorded: RecordedRun
            do {
                recorded = try await runWithTries(planned) { ran.append($0) }
            } catch where policy.keepGoing && mayPassOver(error) {
                // Not even started: kept as a failed run with the reason, and on to the next.
                let id = try recordUnstarted(planned, error: error)
                ran.append(id)
                failed.append(id)
                progress(.runCouldNotStart(id: id, reason: "\(error)"))
                durations.append((clock.now - t0).secondsDouble)
                continue
            }
            durations.append((clock.now - t0).secondsDouble)
            if recorded.info.status == .failed, policy.keepGoing, !Task.isCancelled {
                failed.append(recorded.info.id ?? 0)
                progress(.note("run \(recorded.info.id ?? 0) failed (\(recorded.info.error ?? "no reason given")); going on (--keep-going)"))
                continue
            }
            if recorded.info.status != .completed {
                // An abort (Ctrl-C) or failure stops the batch; what finished is kept.
                return Outcome(ran: ran, skipped: skipped, interrupted: true, guestLocation: recorded.migration.map { "\($0.location)" } ?? whereIsTheGuest(), failed: failed)
            }
        }
        return Outcome(ran: ran, skipped: skipped, interrupted: false, guestLocation: whereIsTheGuest(), failed: failed)
    }

    /// One planned run, made again while the policy allows: a lab guest that crashed after its
    /// migration (always, up to `labGuestTries`), and a run that could not start or failed
    /// before any memory was sent (a host not answering; up to `policy.retries` more times, 10 s
    /// apart; the failed try stays in the database). `recorded`
    /// is told of every run put in the database.
    func runWithTries(_ planned: PlannedRun, recorded: (Int64) -> Void) async throws -> RecordedRun {
        var guestTries = 1
        var retriesLeft = policy.retries
        while true {
            let run: RecordedRun
            do {
                run = try await runOne(planned)
            } catch where retriesLeft > 0 && mayPassOver(error) {
                retriesLeft -= 1
                progress(.note("the run could not start (\(error)); trying again in 10 s (\(retriesLeft) retr\(retriesLeft == 1 ? "y" : "ies") left)"))
                try await Task.sleep(for: .seconds(10))
                continue
            }
            if let id = run.info.id { recorded(id) }
            if let why = run.storageError {
                let place = run.migration.map { "\($0.location)" } ?? whereIsTheGuest() ?? "unknown"
                throw BatchError("run \(run.info.id ?? 0) could not be finished in \(store.path) (\(why)); the guest is \(place); fix the database, then '--resume'", stopsTheBatch: true)
            }
            progress(.runFinished(id: run.info.id ?? 0, outcome: run.info.status, summary: run.summary))
            if Task.isCancelled { return run }
            if guestTries < Self.labGuestTries, let why = labGuestFailure(run) {
                guestTries += 1
                progress(.note("run \(run.info.id ?? 0): \(why); the cell runs again with a new guest (try \(guestTries) of \(Self.labGuestTries))"))
                continue
            }
            if retriesLeft > 0, run.info.status == .failed, !run.trace.jobSamples.contains(where: { ($0.progress.memoryProcessedBytes ?? 0) > 0 }) {
                retriesLeft -= 1
                progress(.note("run \(run.info.id ?? 0) failed before any memory was sent (\(run.info.error ?? "no reason given")); trying again in 10 s (\(retriesLeft) retr\(retriesLeft == 1 ? "y" : "ies") left)"))
                try await Task.sleep(for: .seconds(10))
                continue
            }
            return run
        }
    }

    /// Whether a run's error may be retried or passed over: not an interruption, not a guest that
    /// cannot be brought back, not a database that cannot be written.
    func mayPassOver(_ error: any Error) -> Bool {
        !Task.isCancelled && !(error is CancellationError) && (error as? BatchError)?.stopsTheBatch != true
    }

    /// A run that could not even be set up, kept in the database as failed with the reason.
    func recordUnstarted(_ planned: PlannedRun, error: any Error) throws -> Int64 {
        let hosts = hostsOfTheRuns
        var info = RunInfo(
            backend: backend.rawValue, request: request(for: planned.cell, hosts: hosts), anchor: Date(),
            linkRate: planned.cell.bandwidth.description, linkModel: planned.cell.link.rawValue, workload: plan.workload(for: planned.cell),
            planName: plan.name, cell: planned.cell.key, repetition: planned.repetition)
        info.planSettings = plan.definingSettings
        let id = try store.begin(info)
        info.id = id
        info.status = .failed
        info.error = "the run could not start: \(error)"
        let trace = Trace()
        try store.finish(runID: id, info: info, rounds: [], summary: RunSummary(info: info, trace: trace, analysis: RunAnalysis(trace: trace)))
        return id
    }

    /// The lab up with the plan's guest (built if needed), or the real hosts reachable.
    func prepareHosts(first: PlanCell) async throws {
        switch plan.hosts {
        case .lab(let memory, let disk, let accel):
            let guests = plan.drain.map { d in d.domains.compactMap(LabGuestSlot.init(name:)).map(\.number).max() ?? 1 } ?? 1
            if !Lab.isUp() {
                progress(.note("bringing up the embedded lab (\(guests == 1 ? "a" : "\(guests)") \(memory) MiB guest\(guests == 1 ? "" : "s"), \(disk) MiB disk)"))
                var settings = LabSettings(
                    bandwidth: first.bandwidth, link: first.link, guestMemoryMiB: memory, workload: plan.workload, diskSizeMiB: disk,
                    accelerator: AcceleratorChoice(rawValue: accel) ?? .auto, startGuest: false)
                settings.guests = guests
                try await Lab.up(settings) { [progress] in progress(.note($0)) }
            } else if let have = await Lab.status().guests?.count, have < guests {
                throw BatchError("the lab that is up has \(have) guest(s) and the plan's drain needs \(guests); 'migscope lab down' first (the batch then builds the lab it needs)")
            } else if let status = Optional(await Lab.status()), let d = status.diskSizeMiB, d != disk {
                progress(.note("the lab that is up has a \(d) MiB disk, the plan asks for \(disk) MiB; reads wrap around the disk that is there"))
            }
        case .uris(let source, let destination, _):
            for uri in [source, destination] {
                do { _ = try await LibvirtInventory.domains(on: uri, timeout: 15) } catch {
                    throw BatchError("cannot reach \(uri): \(error)")
                }
            }
        case .fromThisHost:
            // The session's preparation opens the backend and finds the domain: a clear error now,
            // not at run 1; with the first run's own request, so it is checked as the runs will be.
            do { _ = try await Experiment(backend: backend, request: request(for: first, hosts: hostsOfTheRuns)).prepare() } catch let e as MigrationError {
                throw BatchError(e.message)
            }
        }
    }

    func runOne(_ planned: PlannedRun) async throws -> RecordedRun {
        let experiment = try await experiment(for: planned)
        let prepared: PreparedExperiment
        do { prepared = try await experiment.prepare() } catch let e as MigrationError where e.kind == .noSuchDomain && experiment.backend == .libxl && experiment.request.destination != "localhost" {
            // A remote Xen destination keeps the domain: migscope cannot send it back from here.
            let r = experiment.request
            throw BatchError("\(e.message); the previous run left it on \(r.destination): migrate it back to this host (migscope migrate \(r.domain) --backend libxl --to THIS-HOST, run there), then 'migscope batch PLAN --resume'")
        }
        return try await prepared.record(into: store, observer: observer)
    }

    /// Which backend the plan's runs use, and their hosts and domain.
    struct RunHosts {
        var source: String
        var destination: String
        var domain: String
    }

    var backend: BackendChoice {
        if case .fromThisHost(let name, _, _) = plan.hosts { return BackendChoice(rawValue: name) ?? .libxl }
        return .libvirt
    }

    var hostsOfTheRuns: RunHosts {
        switch plan.hosts {
        case .lab: RunHosts(source: LabMachine.hostA.libvirtURI, destination: LabMachine.hostB.libvirtURI, domain: plan.drain?.domains.first ?? LabLayout.guestName)
        case .uris(let s, let d, let dom): RunHosts(source: s, destination: d, domain: dom)
        case .fromThisHost(_, let d, let dom): RunHosts(source: backend.source(given: nil), destination: d, domain: dom)
        }
    }

    /// What a run of `cell` asks of the backend: the cell's settings, the plan's, and only what the
    /// backend can do with them (a plan's default p2p means nothing to a backend without it).
    func request(for cell: PlanCell, hosts: RunHosts) -> MigrationRequest {
        let r = MigrationRequest(
            domain: hosts.domain, source: hosts.source, destination: hosts.destination, mode: cell.mode,
            transport: plan.peerToPeer && backend.capabilities.supports(.peerToPeer) ? .peerToPeer : .clientManaged,
            bandwidthMiBps: cell.bandwidthCapMiBps, maxDowntimeMs: cell.maxDowntimeMs,
            pauseAfterSeconds: cell.mode == .live ? cell.timeoutSeconds : nil,
            pauseAfterRounds: cell.mode == .live ? cell.pauseAfterRounds : nil,
            persistent: plan.persistent, undefineSource: plan.undefineSource)
        var tuned = cell.mitigation?.applied(to: r, linkRate: cell.bandwidth) ?? r
        tuned.stallLimits = plan.stall
        return tuned
    }

    /// The run's hosts made ready (the lab reshaped and its guest booted, a real domain brought
    /// back), and the experiment that migrates and records it.
    func experiment(for planned: PlannedRun) async throws -> Experiment {
        let cell = planned.cell
        let hosts = hostsOfTheRuns
        var onStart: (@Sendable () -> Void)? = nil
        switch plan.hosts {
        case .lab(let memory, _, _):
            try resetLabLinks(for: cell)
            // The guest boots and waits; its read starts when recording does, so the whole read
            // (and its total time) is on the record.
            try await Lab.startGuest(on: .hostA, memoryMiB: memory, workload: plan.workload(for: cell), waitForGo: true)
            if !plan.reset.restartGuest { progress(.note("reset.restart_guest is false, but the lab's guest is rebooted anyway: its read starts with each run")) }
            onStart = startWorkload
        case .uris(let s, let d, let dom):
            try await bringBack(domain: dom, from: d, to: s)
        case .fromThisHost:
            break
        }
        let request = request(for: cell, hosts: hosts)
        let settings = recorderSettings
        let run = Experiment.PlanRun(name: plan.name, cell: cell, repetition: planned.repetition, settings: plan.definingSettings,
                                     workload: plan.workload(for: cell))
        var recording = Experiment.Recording(settings: settings, plan: run, onStart: onStart)
        if plan.predict {
            recording.predictDuringBaseline = Forecast.Options(setupSeconds: plan.predictSetupSeconds, switchoverMs: plan.predictSwitchoverMs,
                                                                 switchoverBytes: plan.predictSwitchoverBytes)
        }
        return Experiment(backend: backend, request: request, recording: recording)
    }

    /// The lab's links as the cell says and the storage server's page cache dropped, as the plan's reset asks.
    func resetLabLinks(for cell: PlanCell) throws {
        if plan.reset.reshape {
            _ = try Lab.set(bandwidth: cell.bandwidth, link: cell.link, storagePriority: cell.mitigation?.storagePriority == true)
        }
        if plan.reset.dropCaches { Lab.dropPageCache() }
    }

    /// How every run of the plan is recorded.
    var recorderSettings: RecorderSettings {
        RecorderSettings(
            interval: .milliseconds(Int64(plan.pollIntervalMs)), baseline: .milliseconds(Int64(plan.baselineSeconds * 1000)),
            tail: .milliseconds(Int64(plan.tailSeconds * 1000)), untilWorkloadDone: plan.untilWorkloadDone,
            maxTail: .milliseconds(Int64(plan.maxTailSeconds * 1000)), readStall: plan.isLab ? Self.labReadStall : nil)
    }

    /// Starts the lab guest's read; a failure is noted (the run then records a guest that does not read).
    private var startWorkload: @Sendable () -> Void {
        let progress = self.progress
        return {
            do { try Lab.startWorkload() } catch { progress(.note("the guest's read did not start: \(error)")) }
        }
    }

    /// Real hosts: a domain left on the destination by the previous run is moved back, unrecorded.
    func bringBack(domain: String, from destination: String, to source: String) async throws {
        guard let d = try? await LibvirtInventory.domain(domain, on: destination, timeout: 15), d.state == "running" else { return }
        progress(.note("moving '\(domain)' back to \(source) before the next run"))
        let session = try await LibvirtBackend().prepare(MigrationRequest(domain: domain, source: destination, destination: source, mode: .live, pauseAfterSeconds: 120))
        let s = await MigrationRunner().run(session)
        if !s.succeeded { throw BatchError("could not move '\(domain)' back to \(source): \(s.outcome); it is \(s.location)", stopsTheBatch: true) }
    }

    /// How long a lab guest may read nothing after its migration before its read is called hung.
    static let labReadStall: Duration = .seconds(60)

    /// A lab run is made again this many times in all when its guest failed after the migration.
    static let labGuestTries = 3

    /// How the lab's guest failed after `recorded`'s migration by QEMU's defect under TCG, or nil.
    /// Its kernel crashed (the console's words), or it still runs but its read or console fell
    /// silent on the destination (its kernel hung). Such a run says nothing about migration, so it
    /// is made again with a new guest; on real hosts nothing is made again.
    func labGuestFailure(_ recorded: RecordedRun) -> String? {
        guard case .lab = plan.hosts, recorded.info.status == .failed else { return nil }
        if recorded.trace.firstEvent(.guestGone) != nil,
           let crash = LabChecks.lastGuestCrash(slot: LabGuestSlot(name: recorded.info.request.domain) ?? .first) {
            return "\(recorded.info.request.domain)'s kernel crashed after its migration ('\(crash)'; QEMU under TCG, see the README)"
        }
        if let stall = recorded.trace.firstEvent(.workloadStalled) {
            return "\(recorded.info.request.domain)'s read hung on the destination after its migration (\(stall.detail); QEMU under TCG, see the README)"
        }
        return nil
    }

    func whereIsTheGuest() -> String? {
        switch plan.hosts {
        case .lab where plan.drain != nil:
            return plan.drain!.domains.map { name in
                "\(name) " + (LabGuestSlot(name: name).flatMap { Lab.guestHost(slot: $0) }.map { "on \($0.rawValue)" } ?? "not running")
            }.joined(separator: ", ")
        case .lab: return Lab.guestHost().map { "on \($0.rawValue) (\($0.libvirtURI))" } ?? "not running"
        case .uris, .fromThisHost: return nil
        }
    }

    /// Per-cell statistics over every complete run of the plan in the database, each run's summary
    /// computed afresh from its trace (so a report always uses the current analysis).
    public func cellStats() throws -> [CellStats] {
        let runs = try completeRuns()
        let byCell = Dictionary(grouping: runs) { $0.cell ?? "?" }
        return try plan.cells.map(\.key).compactMap { key in
            guard let listed = byCell[key] else { return nil }
            let summaries = try listed.map { r -> (id: Int64, summary: RunSummary) in
                let stored = try store.run(r.id)
                return (r.id, RunSummary(info: stored.info, trace: stored.trace, analysis: RunAnalysis(trace: stored.trace)))
            }
            return CellStats(cell: key, runs: summaries)
        }
    }

    /// Per cell of a drain plan, over its complete drains, each drain's runs on one clock.
    public func drainStats() throws -> [DrainCellStats] {
        guard plan.drain != nil else { return [] }
        let runs = try completeRuns()
        let byCell = Dictionary(grouping: runs) { $0.cell ?? "?" }
        return try plan.cells.map(\.key).compactMap { key in
            guard let listed = byCell[key] else { return nil }
            let byDrain = Dictionary(grouping: listed) { $0.drain ?? "" }
            let drains = try byDrain.keys.sorted { (byDrain[$0]?.first?.id ?? 0) < (byDrain[$1]?.first?.id ?? 0) }.map { id in
                let members = try (byDrain[id] ?? []).map { r -> (info: RunInfo, trace: Trace, analysis: RunAnalysis, summary: RunSummary) in
                    let stored = try store.run(r.id)
                    let analysis = RunAnalysis(trace: stored.trace)
                    return (stored.info, stored.trace, analysis, RunSummary(info: stored.info, trace: stored.trace, analysis: analysis))
                }
                return (id: id, timeline: DrainTimeline(members))
            }
            return DrainCellStats(cell: key, drains: drains)
        }
    }
}
