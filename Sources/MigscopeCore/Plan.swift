import Foundation

/// A scripted experiment: a matrix of migration settings, each cell run `repetitions` times.
public struct Plan: Sendable, Equatable {
    public enum Hosts: Sendable, Equatable {
        /// The embedded lab, built with these guest settings if it is not up.
        case lab(guestMemoryMiB: Int, diskSizeMiB: Int, accelerator: String)
        /// Real hosts by libvirt URI, and the domain to migrate between them.
        case uris(source: String, destination: String, domain: String)
        /// Xen through libxl, from the dom0 migscope runs in to `destination` (localhost, HOST:PORT of a
        /// receiver, or ssh://HOST), and the domain to migrate.
        case xen(destination: String, domain: String)
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
    /// virsh's --persistent and --undefine-source for every run.
    public var persistent = false
    public var undefineSource = false
    public var pollIntervalMs: Int
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

    /// The knobs; every combination is a cell. An empty list means "leave as is".
    public struct Matrix: Sendable, Equatable {
        public var modes: [MigrationRequest.Mode]
        public var bandwidths: [LinkRate]
        public var links: [LinkModel]
        public var maxDowntimeMs: [UInt64?]
        public var bandwidthCapMiBps: [UInt64?]
        /// Pause the guest after this many seconds if pre-copy has not converged (nil: never).
        public var timeoutSeconds: [Double?]
        /// Pause the guest when pre-copy round N + 1 begins (nil: never), Xen's rule.
        public var pauseAfterRounds: [Int?]

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
    public var cells: [PlanCell] {
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
        // A timeout or a round limit means nothing to a non-live migration: such cells collapse into one.
        var seen = Set<String>()
        return out.filter { seen.insert($0.key).inserted }
    }

    /// Everything besides the cell that defines what a run measures, as text by name: runs made
    /// under other settings must not be mixed with new ones when a plan is resumed.
    public var definingSettings: [String: String] {
        var s: [String: String] = [:]
        switch hosts {
        case .lab(let memory, let disk, let accel): s["hosts"] = "lab"; s["guest"] = "memory_mib=\(memory) disk_mib=\(disk) accelerator=\(accel)"
        case .uris(let source, let destination, let domain): s["hosts"] = "\(HostURI.redacted(source)) -> \(HostURI.redacted(destination)), domain \(domain)"
        case .xen(let destination, let domain): s["hosts"] = "libxl -> \(destination), domain \(domain)"
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
        return s
    }

    /// What the guest does in a run of `cell`: the plan's workload, its read sized for the cell's link.
    public func workload(for cell: PlanCell) -> Workload {
        var w = workload
        if let amount = readMiBByLinkRate[cell.bandwidth] { w.amountMiB = amount }
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

/// A line and column in a plan file.
public struct PlanLocation: Sendable, Equatable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// One combination of the matrix.
public struct PlanCell: Sendable, Hashable, Codable {
    public var mode: MigrationRequest.Mode
    public var bandwidth: LinkRate
    public var link: LinkModel
    public var maxDowntimeMs: UInt64?
    public var bandwidthCapMiBps: UInt64?
    public var timeoutSeconds: Double?
    public var pauseAfterRounds: Int?

    public init(mode: MigrationRequest.Mode, bandwidth: LinkRate, link: LinkModel, maxDowntimeMs: UInt64? = nil, bandwidthCapMiBps: UInt64? = nil,
                timeoutSeconds: Double? = nil, pauseAfterRounds: Int? = nil) {
        self.mode = mode
        self.bandwidth = bandwidth
        self.link = link
        self.maxDowntimeMs = maxDowntimeMs
        self.bandwidthCapMiBps = bandwidthCapMiBps
        self.timeoutSeconds = timeoutSeconds
        self.pauseAfterRounds = pauseAfterRounds
    }

    /// A stable, readable name: stored with each run, used to resume and to group.
    public var key: String {
        var parts = ["mode=\(mode.rawValue)", "bandwidth=\(bandwidth)", "link=\(link.rawValue)"]
        if let m = maxDowntimeMs { parts.append("max_downtime_ms=\(m)") }
        if let c = bandwidthCapMiBps { parts.append("bandwidth_cap_mibps=\(c)") }
        if let t = timeoutSeconds { parts.append("timeout_s=\(t == t.rounded() ? String(Int(t)) : String(t))") }
        if let r = pauseAfterRounds { parts.append("pause_after_rounds=\(r)") }
        return parts.joined(separator: " ")
    }
}

public struct PlannedRun: Sendable, Hashable {
    public struct Key: Sendable, Hashable {
        public var cell: String
        public var repetition: Int
        public init(cell: String, repetition: Int) {
            self.cell = cell
            self.repetition = repetition
        }
    }
    public var cell: PlanCell
    public var repetition: Int
    public var key: Key { Key(cell: cell.key, repetition: repetition) }
}

/// Mean, standard deviation and 95 % confidence interval of one measure over a cell's runs.
public struct MeasureStats: Sendable, Equatable, Codable {
    public var n: Int
    public var mean: Double
    public var sd: Double?
    /// Half-width of the 95 % confidence interval of the mean (Student's t); nil for one run.
    public var ci95: Double?

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        n = values.count
        mean = values.reduce(0, +) / Double(n)
        guard n > 1 else { sd = nil; ci95 = nil; return }
        let v = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
        sd = v.squareRoot()
        ci95 = Self.t975(degrees: n - 1) * v.squareRoot() / Double(n).squareRoot()
    }

    /// Student's t quantile at 0.975 for small samples; the normal's 1.96 beyond 30.
    static func t975(degrees: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                               2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        return degrees >= 1 && degrees <= table.count ? table[degrees - 1] : 1.96
    }
}

/// A cell's results over its runs.
public struct CellStats: Sendable, Equatable, Codable {
    public var cell: String
    public var runs: [Int64]
    public var migrationSeconds: MeasureStats?
    public var downtimeMs: MeasureStats?
    public var guestGapMs: MeasureStats?
    public var ioDuringRatio: MeasureStats?
    public var workloadSeconds: MeasureStats?
    public var bytesSent: MeasureStats?
    public var rounds: MeasureStats?
    /// Runs whose workload ended before their migration did: their I/O during/before does not
    /// measure a running workload, and the cell is flagged rather than compared.
    public var workloadEndedEarlyRuns: Int

    public init(cell: String, runs: [(id: Int64, summary: RunSummary)]) {
        self.cell = cell
        self.runs = runs.map(\.id)
        let s = runs.map(\.summary)
        migrationSeconds = MeasureStats(s.compactMap(\.migrationSeconds))
        downtimeMs = MeasureStats(s.compactMap(\.downtimeMs))
        guestGapMs = MeasureStats(s.compactMap(\.guestGapMs))
        ioDuringRatio = MeasureStats(s.compactMap(\.ioDuringRatio))
        workloadSeconds = MeasureStats(s.compactMap(\.workloadSeconds))
        bytesSent = MeasureStats(s.compactMap { $0.bytesSent.map { Double($0) } })
        rounds = MeasureStats(s.map { Double($0.rounds) })
        workloadEndedEarlyRuns = s.filter { $0.workloadEndedEarly == true }.count
    }

    /// The cell's note on its workload window, or nil when every run's workload outlasted its migration.
    public var workloadWindowFlag: String? {
        workloadEndedEarlyRuns == 0 ? nil : "the read ended before the migration in \(workloadEndedEarlyRuns) of \(runs.count) run\(runs.count == 1 ? "" : "s")"
    }
}
