import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLibvirt
import MigscopeStore

/// `migscope drain --from URI --to URI... (--domains A,B | --all)`: moves a host's running domains
/// off it, at most K at a time, each to the destination with the most memory free; libvirt does
/// every migration (peer to peer by default), migscope orders, places, watches and records them.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Migrate a host's running domains off it, at most K at a time, and say where each runs afterwards.",
        discussion: """
            Each domain goes to the destination with the most free memory once the ones before it are placed (round \
            robin among equals); a domain that fits nowhere is refused before anything moves. Ctrl-C aborts the running \
            migrations and starts no more: every domain stays where it is or arrives, and the table says which. With \
            --record, every migration is a run in the results database (rounds, samples, events), all of them under one \
            drain id.
            """)

    @Option(help: ArgumentHelp("libvirt URI of the host to drain.", valueName: "uri")) var from: String
    @Option(help: ArgumentHelp("libvirt URI of a destination (repeat for several).", valueName: "uri")) var to: [String] = []
    @Option(help: ArgumentHelp("The domains to move, comma-separated (names or UUIDs).", valueName: "a,b,..."),
            transform: { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } })
    var domains: [String]?
    @Flag(help: "Every running domain of the source.") var all = false
    @Option(help: ArgumentHelp("At most this many migrations at once, 1 to 16.", valueName: "K"),
            transform: ArgumentValue.count("--concurrency", unit: "migrations", in: 1...16))
    var concurrency: Int = 1
    @Option(help: ArgumentHelp("smallest-first, largest-first, lowest-dirty-rate-first (measured first, 2 s each) or as-listed.", valueName: "order"))
    var order: DrainOrder = .asListed
    @Flag var mode: MigrationRequest.Mode = .live
    @Flag(name: .customLong("p2p"), inversion: .prefixedNo, help: "Peer to peer (the source's daemon drives each migration).")
    var peerToPeer = true
    @OptionGroup var limits: MigrationLimitOptions
    @Flag(help: "Record every migration as a run, all under one drain id.") var record = false
    @OptionGroup var database: DatabaseOption
    @Flag(help: "Print the final table as JSON.") var json = false
    @Flag(name: .customLong("allow-ext-transport"), help: "Accept URIs that make libvirt run a program or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    func validate() throws {
        for (flag, uri) in [("--from", from)] + to.map({ ("--to", $0) }) {
            if let why = LibvirtURIPolicy.problem(uri, allowExternal: allowExternalTransport) { throw ValidationError("\(flag) \(uri): \(why)") }
        }
        if to.isEmpty { throw ValidationError("--to is missing: give at least one destination's libvirt URI") }
        if to.contains(where: { HostURI.canonical($0) == HostURI.canonical(from) }) { throw ValidationError("--to \(from) is the host being drained; give other hosts") }
        if Set(to.map(HostURI.canonical)).count != to.count { throw ValidationError("--to names the same host twice; give each destination once") }
        switch (domains, all) {
        case (nil, false): throw ValidationError("say what to move: --domains a,b,... or --all")
        case (.some, true): throw ValidationError("--domains and --all say the same thing twice; give one")
        case (.some(let d), false) where d.isEmpty || d.contains(where: \.isEmpty) || Set(d).count != d.count:
            throw ValidationError("--domains must name each domain once, comma-separated, none empty")
        default: break
        }
    }

    struct Row: Encodable {
        var domain: String
        var destination: String
        var outcome: String
        var seconds: Double?
        var runsOn: String
        var run: Int64?
    }

    func run() async throws {
        let store = record ? try database.openForWriting() : nil
        let listed = try await LibvirtInventory.domains(on: from).filter { $0.state == "running" }
        let chosen: [DomainListing]
        if let domains {
            let missing = domains.filter { name in !listed.contains { $0.name == name || $0.uuid == name } }
            if !missing.isEmpty { throw CLIFailure("not running on \(HostURI.redacted(from)): \(missing.joined(separator: ", ")); 'migscope domains --on \(HostURI.redacted(from))' lists what is", exitStatus: 1) }
            chosen = domains.compactMap { name in listed.first { $0.name == name || $0.uuid == name } }
        } else {
            chosen = listed
        }
        guard !chosen.isEmpty else { printNote("nothing to drain: no running domain on \(HostURI.redacted(from))"); return }
        var candidates = chosen.map { DrainCandidate(name: $0.name, memoryBytes: $0.memoryBytes) }
        if order == .lowestDirtyRateFirst {
            for i in candidates.indices {
                printNote("measuring the dirty rate of '\(candidates[i].name)' (2 s)")
                candidates[i].dirtyBytesPerSecond = try? await LibvirtInventory.measureDirtyRate(candidates[i].name, on: from, windows: [2]).windows.first?.bytesPerSecond
            }
        }
        var destinations: [DrainDestination] = []
        for uri in to { destinations.append(DrainDestination(host: uri, freeBytes: try await LibvirtInventory.freeMemory(on: uri))) }
        let steps: [DrainStep]
        switch DrainPlanning.place(DrainPlanning.ordered(candidates, by: order), on: destinations) {
        case .success(let s): steps = s
        case .failure(let p): throw CLIFailure(p.message)
        }
        let drainID = UUID().uuidString.lowercased()
        printNote("draining \(HostURI.redacted(from)): \(steps.count) domain\(steps.count == 1 ? "" : "s"), at most \(concurrency) at a time\(record ? ", drain \(drainID)" : "")")
        for s in steps { printNote("  \(s.domain) -> \(HostURI.redacted(s.destination))") }

        let start = ContinuousClock.now
        let template = MigrationRequest(domain: "", source: from, destination: "", mode: mode, transport: peerToPeer ? .peerToPeer : .clientManaged,
                                        bandwidthMiBps: limits.bandwidth, maxDowntimeMs: limits.maxDowntime, pauseAfterSeconds: limits.timeout)
        let requestFor: @Sendable (DrainStep) -> MigrationRequest = { s in
            var r = template
            r.domain = s.domain
            r.destination = s.destination
            return r
        }
        let recordIt = record
        let board = DrainBoard(steps, start: start)
        board.startShowing()
        let outcomes = await Interrupts.cancellingOnCtrlC {
            await DrainScheduler(concurrency: concurrency).run(steps) { step in
                await Self.migrate(requestFor(step), store: store, drain: recordIt ? drainID : nil, board: board)
            }
        } onFirst: {
            board.note("interrupted: aborting the running migrations and starting no more (Ctrl-C again quits without waiting)")
        }
        board.stopShowing()
        var rows: [Row] = []
        for (step, outcome) in zip(steps, outcomes) {
            switch outcome {
            case .finished(let r): rows.append(r)
            case .notStarted:
                rows.append(Row(domain: step.domain, destination: step.destination, outcome: "not started", seconds: nil, runsOn: "source (not moved)", run: nil))
            }
        }
        let total = (ContinuousClock.now - start).secondsDouble
        if json {
            struct Output: Encodable { var drain: String?; var seconds: Double; var domains: [Row] }
            print(try JSONText.encode(Output(drain: record ? drainID : nil, seconds: total, domains: rows)))
        } else {
            print(TextTable.render(header: ["domain", "to", "outcome", "time", "runs on", "run"], rows: rows.map {
                [$0.domain, HostURI.redacted($0.destination), $0.outcome, $0.seconds.map { Format.seconds($0) } ?? "-", $0.runsOn, $0.run.map(String.init) ?? "-"]
            }))
            print("drain: \(Format.seconds(total)); \(rows.filter { $0.outcome == "completed" }.count) of \(rows.count) moved")
            if record, rows.contains(where: { $0.run != nil }) {
                printNote("all guests on one clock: migscope report --drain \(drainID) --out drain-\(drainID.prefix(8))")
            }
        }
        if rows.contains(where: { $0.outcome != "completed" }) { throw ExitCode(1) }
    }

    /// One domain's migration, recorded if asked; never throws: what happened is the row.
    static func migrate(_ request: MigrationRequest, store: ResultsStore?, drain: String?, board: DrainBoard) async -> Row {
        var recording: Experiment.Recording? = nil
        if store != nil {
            recording = Experiment.Recording(settings: RecorderSettings(interval: .milliseconds(200), baseline: .seconds(2), tail: .seconds(2)))
            recording?.drain = drain
        }
        board.note("\(request.domain): migrating to \(HostURI.redacted(request.destination))")
        board.began(request.domain)
        let prepared: PreparedExperiment
        do { prepared = try await Experiment(backend: .libvirt, request: request, recording: recording).prepare() } catch {
            let why = (error as? MigrationError)?.message ?? "\(error)"
            board.note("\(request.domain): could not start: \(why)")
            board.ended(request.domain, "could not start")
            return Row(domain: request.domain, destination: request.destination, outcome: "could not start: \(why)", seconds: nil, runsOn: "source (not moved)", run: nil)
        }
        var summary: MigrationSummary?
        var runID: Int64?
        if let store {
            if let run = try? await prepared.record(into: store, observer: board.watcher(for: request.domain)) { summary = run.migration; runID = run.info.id }
        } else {
            summary = await prepared.run(pollInterval: .milliseconds(500), observer: board.watcher(for: request.domain))
        }
        guard let summary else {
            board.ended(request.domain, "interrupted before it started")
            return Row(domain: request.domain, destination: request.destination, outcome: "interrupted before it started", seconds: nil, runsOn: "source (not moved)", run: runID)
        }
        let outcome: String = switch summary.outcome {
        case .completed: "completed"
        case .failed(let m): "failed: \(m)"
        case .aborted(let why): "aborted: \(why)"
        }
        board.note("\(request.domain): \(outcome) in \(Format.seconds(summary.elapsedSeconds)); it \(summary.location)")
        board.ended(request.domain, "\(summary.outcome.status.rawValue) in \(Format.seconds(summary.elapsedSeconds)); it \(summary.location)")
        return Row(domain: request.domain, destination: request.destination, outcome: outcome, seconds: summary.elapsedSeconds,
                   runsOn: summary.location.description, run: runID)
    }
}

extension DrainOrder: ExpressibleByArgument {}
