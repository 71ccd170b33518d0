import Foundation

/// A scripted experiment: a matrix of migration settings, each cell run `repetitions` times.
public struct Plan: Sendable, Equatable {
    public enum Hosts: Sendable, Equatable {
        /// The embedded lab, built with these guest settings if it is not up.
        case lab(guestMemoryMiB: Int, diskSizeMiB: Int, accelerator: String)
        /// Real hosts by URI, and the domain to migrate between them.
        case uris(source: String, destination: String, domain: String)
        /// The named backend, migrating from the host migscope runs on to `destination` (in that
        /// backend's words), and the domain to migrate.
        case fromThisHost(backend: String, destination: String, domain: String)
    }

    public var name: String
    public var hosts: Hosts
    public var workload: Workload
    /// How much the guest reads at each link rate, where the plan sizes the read per rate (a read
    /// that outlasts the migration at 100 Mbit/s lasts ten times longer at 10); else `workload`'s.
    public var readMiBByLinkRate: [LinkRate: Int] = [:]
    public var matrix: Matrix
    public var repetitions: Int
    public var baselineSeconds: Double
    /// Recording after the migration; with `untilWorkloadDone`, until the guest's read ends (at most `maxTailSeconds`).
    public var tailSeconds: Double
    public var untilWorkloadDone: Bool
    public var maxTailSeconds: Double
    public var peerToPeer: Bool
    /// Persistent migration and undefining the source, for every run.
    public var persistent = false
    public var undefineSource = false
    /// Stall detection for every run (`stall:` progress_timeout_s, completion_timeout_per_gib_s, action).
    public var stall: StallLimits?
    /// Predict each run during its baseline (`predict: true`): the report sets predicted beside measured per cell.
    public var predict = false
    /// The hosts' fixed costs each prediction is given (`predict: {setup_s, switchover_ms}`, as
    /// `migscope predict --setup-seconds/--switchover-ms`): without them a converging guest is
    /// predicted to stop for no more than its last dirty pages take.
    public var predictSetupSeconds: Double = 0
    public var predictSwitchoverMs: Double = 0
    public var predictSwitchoverBytes: Double = 0
    public var pollIntervalMs: Int
    /// Each cell drains several domains instead of migrating one (`drain:`); its runs share a drain id.
    public var drain: DrainSetup?
    /// What is reset between runs.
    public var reset: Reset
    /// Where in the plan file each host was named ("source", "destination", "domain"), for errors
    /// found later (an unreachable URI) to point at the right line.
    public var locations: [String: PlanLocation] = [:]

    public struct Reset: Sendable, Equatable {
        /// Boot the guest afresh on the source (cold page cache, the read starts over).
        public var restartGuest: Bool
        /// Drop the storage server's page cache, so the target reads its disk again.
        public var dropCaches: Bool
        /// Apply the cell's link settings before each run.
        public var reshape: Bool
        public init(restartGuest: Bool = true, dropCaches: Bool = true, reshape: Bool = true) {
            self.restartGuest = restartGuest
            self.dropCaches = dropCaches
            self.reshape = reshape
        }
    }

    /// The domains a drain plan moves in every cell, and what each lab guest reads.
    public struct DrainSetup: Sendable, Equatable {
        /// Lab guests by name (migscope-guest, migscope-guest-2, ...) or real domains.
        public var domains: [String]
        /// The lab guests' read modes, one per domain (nil: the plan's workload for every one).
        public var readModes: [Workload.ReadMode]?
        public init(domains: [String], readModes: [Workload.ReadMode]? = nil) {
            self.domains = domains
            self.readModes = readModes
        }
    }

    /// The knobs; every combination is a cell. An empty list means "leave as is".
    public struct Matrix: Sendable, Equatable {
        public var modes: [MigrationRequest.Mode]
        public var bandwidths: [LinkRate]
        public var links: [LinkModel]
        public var maxDowntimeMs: [UInt64?]
        public var bandwidthCapMiBps: [UInt64?]
        /// Pause the guest after this many seconds if pre-copy has not converged (nil: never).
        public var timeoutSeconds: [Double?]
        /// Pause the guest when pre-copy round N + 1 begins (nil: never).
        public var pauseAfterRounds: [Int?]
        /// Ways to keep the guest's I/O up (nil: none given).
        public var mitigations: [Mitigation?] = [nil]
        /// The guest's read modes (nil: the plan's workload's).
        public var readModes: [Workload.ReadMode?] = [nil]
        /// The guest's read block sizes, KiB (nil: the plan's workload's).
        public var blockSizesKiB: [Int?] = [nil]
        /// Mitigations run only with some readers (a plan's `{use: ..., read_mode: ...}` items).
        public var mitigationReaders: [Mitigation: [Workload.ReadMode]] = [:]
        /// A drain plan's concurrency and order axes (nil: not a drain).
        public var drainConcurrency: [Int?] = [nil]
        public var drainOrders: [DrainOrder?] = [nil]
        /// Combinations left out (a plan's `exclude:` entries): a cell is left out when it has
        /// every value one entry names, by plan key (PlanCell.value(ofPlanKey:)).
        public var exclusions: [[String: String]] = []

        public init(modes: [MigrationRequest.Mode], bandwidths: [LinkRate], links: [LinkModel], maxDowntimeMs: [UInt64?] = [nil],
                    bandwidthCapMiBps: [UInt64?] = [nil], timeoutSeconds: [Double?] = [nil], pauseAfterRounds: [Int?] = [nil]) {
            self.modes = modes
            self.bandwidths = bandwidths
            self.links = links
            self.maxDowntimeMs = maxDowntimeMs
            self.bandwidthCapMiBps = bandwidthCapMiBps
            self.timeoutSeconds = timeoutSeconds
            self.pauseAfterRounds = pauseAfterRounds
        }
    }

    public init(name: String, hosts: Hosts, workload: Workload, matrix: Matrix, repetitions: Int, baselineSeconds: Double = 15,
                tailSeconds: Double = 15, untilWorkloadDone: Bool = false, maxTailSeconds: Double = 3600, peerToPeer: Bool = true,
                pollIntervalMs: Int = 100, reset: Reset = Reset()) {
        self.name = name
        self.hosts = hosts
        self.workload = workload
        self.matrix = matrix
        self.repetitions = repetitions
        self.baselineSeconds = baselineSeconds
        self.tailSeconds = tailSeconds
        self.untilWorkloadDone = untilWorkloadDone
        self.maxTailSeconds = maxTailSeconds
        self.peerToPeer = peerToPeer
        self.pollIntervalMs = pollIntervalMs
        self.reset = reset
    }

    /// Every combination of the matrix, in a stable order.
    public var cells: [PlanCell] { matrix.cells }
}

extension Plan.Matrix {
    /// Every combination, in a stable order, less the exclusions.
    public var cells: [PlanCell] {
        let matrix = self
        var out: [PlanCell] = []
        for mode in matrix.modes {
            for bw in matrix.bandwidths {
                for link in matrix.links {
                    for md in matrix.maxDowntimeMs {
                        for cap in matrix.bandwidthCapMiBps {
                            for t in matrix.timeoutSeconds {
                                for r in matrix.pauseAfterRounds {
                                    out.append(PlanCell(mode: mode, bandwidth: bw, link: link, maxDowntimeMs: md, bandwidthCapMiBps: cap,
                                                        timeoutSeconds: mode == .live ? t : nil, pauseAfterRounds: mode == .live ? r : nil))
                                }
                            }
                        }
                    }
                }
            }
        }
        // Read modes, then mitigations, vary fastest; a live-only mitigation means nothing to a
        // non-live migration (nor do a timeout or a round limit): such cells collapse into one.
        out = out.flatMap { base in
            matrix.blockSizesKiB.map { size in
                var c = base
                c.blockSizeKiB = size
                return c
            }
        }
        out = out.flatMap { base in
            matrix.readModes.flatMap { read in
                matrix.mitigations.compactMap { m -> PlanCell? in
                    if let only = matrix.mitigationReaders[m ?? .none], let read, !only.contains(read) { return nil }
                    var c = base
                    c.readMode = read
                    c.mitigation = base.mode == .live || m?.liveOnly != true ? m : nil
                    return c
                }
            }
        }
        out = out.flatMap { base in
            matrix.drainConcurrency.flatMap { k in
                matrix.drainOrders.map { order in
                    var c = base
                    c.drainConcurrency = k
                    c.drainOrder = order
                    return c
                }
            }
        }
        var seen = Set<String>()
        return out.filter { c in
            !matrix.exclusions.contains { ex in ex.allSatisfy { c.value(ofPlanKey: $0.key) == $0.value } } && seen.insert(c.key).inserted
        }
    }
}

extension Plan {

    /// Everything besides the cell that defines what a run measures, as text by name: runs made
    /// under other settings must not be mixed with new ones when a plan is resumed.
    public var definingSettings: [String: String] {
        var s: [String: String] = [:]
        switch hosts {
        case .lab(let memory, let disk, let accel): s["hosts"] = "lab"; s["guest"] = "memory_mib=\(memory) disk_mib=\(disk) accelerator=\(accel)"
        case .uris(let source, let destination, let domain): s["hosts"] = "\(HostURI.redacted(source)) -> \(HostURI.redacted(destination)), domain \(domain)"
        case .fromThisHost(let backend, let destination, let domain): s["hosts"] = "\(backend) -> \(destination), domain \(domain)"
        }
        s["workload"] = "\(workload.mode.rawValue) block_size_kib=\(workload.blockSizeKiB) read_mib=" + (readMiBByLinkRate.isEmpty
            ? "\(workload.amountMiB)" : readMiBByLinkRate.sorted { $0.key.description < $1.key.description }.map { "\($0.key):\($0.value)" }.joined(separator: ","))
        s["baseline_s"] = "\(baselineSeconds)"
        s["tail_s"] = "\(tailSeconds)"
        s["tail_until_workload_done"] = "\(untilWorkloadDone)"
        s["max_tail_s"] = "\(maxTailSeconds)"
        s["p2p"] = "\(peerToPeer)"
        s["persistent"] = "\(persistent) undefine_source=\(undefineSource)"
        s["poll_interval_ms"] = "\(pollIntervalMs)"
        s["reset"] = "restart_guest=\(reset.restartGuest) drop_caches=\(reset.dropCaches) reshape=\(reset.reshape)"
        // Only when set: plans without it keep the settings their runs were made under.
        if let stall { s["stall"] = "\(stall)" }
        // A prediction lengthens the baseline to its windows (about 8 s): not mixed with runs made without.
        if predict { s["predict"] = "true" }
        if let drain { s["drain"] = drain.domains.joined(separator: ",") + (drain.readModes.map { " reading " + $0.map(\.rawValue).joined(separator: ",") } ?? "") }
        return s
    }

    /// Whether the plan runs in the embedded lab.
    public var isLab: Bool { if case .lab = hosts { true } else { false } }

    /// What the guest does in a run of `cell`: the plan's workload, its read sized for the cell's link.
    public func workload(for cell: PlanCell, domain: Int = 0) -> Workload {
        var w = workload
        if let modes = drain?.readModes, modes.indices.contains(domain) { w.mode = modes[domain] }
        if let amount = readMiBByLinkRate[cell.bandwidth] { w.amountMiB = amount }
        if let mode = cell.readMode { w.mode = mode }
        if let size = cell.blockSizeKiB { w.blockSizeKiB = size }
        return w
    }

    /// The runs in the order they are made: repetition by repetition, so every cell has one run before
    /// any has two, with the cells' order reversed on every other repetition (drift on a noisy machine
    /// then favours no cell).
    public var schedule: [PlannedRun] {
        let cells = self.cells
        var runs: [PlannedRun] = []
        for rep in 1...max(1, repetitions) {
            let order = rep % 2 == 1 ? cells : cells.reversed()
            for c in order { runs.append(PlannedRun(cell: c, repetition: rep)) }
        }
        return runs
    }

    /// The schedule less the runs already complete (`--resume`).
    public func remaining(completed: Set<PlannedRun.Key>) -> [PlannedRun] {
        schedule.filter { !completed.contains($0.key) }
    }
}

extension Plan.Matrix {
    /// The features some cell of the matrix asks of a backend.
    public var features: [MigrationFeature] {
        var f: [MigrationFeature] = []
        if modes.contains(.live) { f.append(.live) }
        if modes.contains(.nonLive) { f.append(.nonLive) }
        if bandwidthCapMiBps.contains(where: { $0 != nil }) { f.append(.streamCap) }
        if maxDowntimeMs.contains(where: { $0 != nil }) { f.append(.maxDowntime) }
        if timeoutSeconds.contains(where: { $0 != nil }) { f.append(.timeout) }
        if pauseAfterRounds.contains(where: { $0 != nil }) { f.append(.pauseAfterRounds) }
        for m in mitigations.compactMap({ $0 }) { f += m.features.filter { !f.contains($0) } }
        return f
    }
}
