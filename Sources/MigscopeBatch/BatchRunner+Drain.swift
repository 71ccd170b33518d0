import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLab
import MigscopeLibvirt
import MigscopeStore

/// A drain plan's cell: every domain recorded from the same moment, so each has a baseline from
/// before the drain, and their migrations let go K at a time in the cell's order (DrainTurns).
extension BatchRunner {
    /// A drain cell, made again with new guests when a lab guest failed after its migration by
    /// QEMU's defect under TCG (`labGuestFailure`), up to `labGuestTries` in all.
    func runDrainWithTries(_ planned: PlannedRun, _ drain: Plan.DrainSetup) async throws -> [RecordedRun] {
        var tries = 1
        while true {
            let runs = try await runDrain(planned, drain)
            // A guest's kernel that crashed once its run was over (in another's tail) also spoils the cell.
            guard tries < Self.labGuestTries, !Task.isCancelled, let why = runs.lazy.compactMap({ self.labGuestFailure($0) }).first else { return runs }
            tries += 1
            progress(.note("drain of cell \(planned.cell.key): \(why); the cell runs again with new guests (try \(tries) of \(Self.labGuestTries))"))
        }
    }

    func runDrain(_ planned: PlannedRun, _ drain: Plan.DrainSetup) async throws -> [RecordedRun] {
        let cell = planned.cell
        let hosts = hostsOfTheRuns
        var onStarts: [String: @Sendable () -> Void] = [:]
        switch plan.hosts {
        case .lab(let memory, _, _):
            try resetLabLinks(for: cell)
            // Every guest booted afresh on A, waiting to read until its recording starts.
            for (i, name) in drain.domains.enumerated() {
                guard let slot = LabGuestSlot(name: name) else { continue }
                let workload = plan.workload(for: cell, domain: i)
                progress(.note("starting \(name) on hostA (\(workload.mode.rawValue) reader)"))
                try await Lab.startGuest(on: .hostA, slot: slot, memoryMiB: memory, workload: workload, waitForGo: true)
                let progress = self.progress
                onStarts[name] = {
                    do { try Lab.startWorkload(slot: slot) } catch { progress(.note("\(name)'s read did not start: \(error)")) }
                }
            }
        case .uris(let source, let destination, _):
            for name in drain.domains { try await bringBack(domain: name, from: destination, to: source) }
        case .fromThisHost:
            throw BatchError("a drain runs through libvirt; this plan's hosts use \(backend.rawValue)", stopsTheBatch: true)
        }

        // What the source says of each domain orders them; the destination must hold them all.
        let listed = try await LibvirtInventory.domains(on: hosts.source).filter { $0.state == "running" }
        var candidates: [DrainCandidate] = []
        for name in drain.domains {
            guard let d = listed.first(where: { $0.name == name || $0.uuid == name }) else {
                throw BatchError("'\(name)' is not running on \(HostURI.redacted(hosts.source)); the drain cannot start ('migscope domains --on \(HostURI.redacted(hosts.source))' lists what is)")
            }
            candidates.append(DrainCandidate(name: name, memoryBytes: d.memoryBytes))
        }
        let free = try await LibvirtInventory.freeMemory(on: hosts.destination)
        if case .failure(let p) = DrainPlanning.place(candidates, on: [DrainDestination(host: hosts.destination, freeBytes: free)]) {
            throw BatchError(p.message)
        }
        let order = cell.drainOrder ?? .asListed
        let concurrency = cell.drainConcurrency ?? 1
        let turns: DrainTurns
        if order == .lowestDirtyRateFirst {
            let source = hosts.source, progress = self.progress, candidates = candidates
            // Measured once the baselines have run, with every guest reading.
            turns = DrainTurns(concurrency: concurrency) {
                let rates = await withTaskGroup(of: (String, Double?).self) { group in
                    for c in candidates {
                        group.addTask { (c.name, try? await LibvirtInventory.measureDirtyRate(c.name, on: source, windows: [2]).windows.first?.bytesPerSecond) }
                    }
                    var out: [String: Double] = [:]
                    for await (name, rate) in group { out[name] = rate }
                    return out
                }
                let measured = candidates.map { c in DrainCandidate(name: c.name, memoryBytes: c.memoryBytes, dirtyBytesPerSecond: rates[c.name]) }
                let ordered = DrainPlanning.ordered(measured, by: .lowestDirtyRateFirst)
                progress(.note("drain order by dirty rate: " + ordered.map { "\($0.name) (\($0.dirtyBytesPerSecond.map { Format.rate($0) } ?? "not measured"))" }.joined(separator: ", ")))
                return ordered.map(\.name)
            }
        } else {
            turns = DrainTurns(order: DrainPlanning.ordered(candidates, by: order).map(\.name), concurrency: concurrency)
        }

        let drainID = UUID().uuidString.lowercased()
        progress(.note("drain \(drainID): \(drain.domains.count) domains, at most \(concurrency) at a time, \(order.rawValue)"))
        let settings = recorderSettings
        var prepared: [(name: String, experiment: PreparedExperiment)] = []
        for (i, name) in drain.domains.enumerated() {
            var request = request(for: cell, hosts: hosts)
            request.domain = name
            let run = Experiment.PlanRun(name: plan.name, cell: cell, repetition: planned.repetition, settings: plan.definingSettings,
                                         workload: plan.workload(for: cell, domain: i))
            var recording = Experiment.Recording(settings: settings, plan: run, onStart: onStarts[name])
            recording.drain = drainID
            recording.gate = NotingGate(inner: turns.gate(for: name)) { [progress] in progress(.note("\(name): migrating")) }
            prepared.append((name, try await Experiment(backend: .libvirt, request: request, recording: recording).prepare()))
        }
        let store = self.store
        // Each run is its own recording; several at once share no observer (the live metrics follow one run).
        let results = await withTaskGroup(of: (Int, Result<RecordedRun, any Error>).self) { group in
            for (i, p) in prepared.enumerated() {
                group.addTask {
                    let result: Result<RecordedRun, any Error>
                    do { result = .success(try await p.experiment.record(into: store, observer: nil)) } catch { result = .failure(error) }
                    // A run that ended before its turn must not hold up the ones after it.
                    await turns.skip(p.name)
                    return (i, result)
                }
            }
            var out: [(Int, Result<RecordedRun, any Error>)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var runs: [RecordedRun] = []
        for r in results {
            let run = try r.get()
            if let why = run.storageError {
                throw BatchError("run \(run.info.id ?? 0) could not be finished in \(store.path) (\(why)); the guests are \(whereIsTheGuest() ?? "unknown"); fix the database, then '--resume'", stopsTheBatch: true)
            }
            progress(.runFinished(id: run.info.id ?? 0, outcome: run.info.status, summary: run.summary))
            runs.append(run)
        }
        if case .lab = plan.hosts {
            // What was recorded stands; a guest whose kernel died after its tail is said so (the next cell boots it again).
            for name in drain.domains {
                guard let slot = LabGuestSlot(name: name), Lab.guestHost(slot: slot) == nil else { continue }
                progress(.note("\(name) is not running after the drain" + (LabChecks.lastGuestCrash(slot: slot).map { ": its kernel crashed ('\($0)'; QEMU under TCG, see the README)" } ?? "")))
            }
        }
        return runs
    }
}

/// A gate that says so when it lets its migration go.
struct NotingGate: MigrationGate {
    let inner: any MigrationGate
    let entered: @Sendable () -> Void
    func enter() async -> Bool {
        let ok = await inner.enter()
        if ok { entered() }
        return ok
    }
    func leave() async { await inner.leave() }
}
