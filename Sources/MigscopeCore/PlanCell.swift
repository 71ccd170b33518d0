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
    /// How the cell keeps the guest's I/O up (nil: as the rest of the cell says).
    public var mitigation: Mitigation?
    /// The guest's read mode in this cell (nil: the plan's workload's).
    public var readMode: Workload.ReadMode?
    /// The guest's read block size in this cell, KiB (nil: the plan's workload's): how fast it reads.
    public var blockSizeKiB: Int?
    /// A drain cell (a plan's `drain:`): at most this many of its guests' migrations at once, in this order.
    public var drainConcurrency: Int?
    public var drainOrder: DrainOrder?

    public init(mode: MigrationRequest.Mode, bandwidth: LinkRate, link: LinkModel, maxDowntimeMs: UInt64? = nil, bandwidthCapMiBps: UInt64? = nil,
                timeoutSeconds: Double? = nil, pauseAfterRounds: Int? = nil, mitigation: Mitigation? = nil, readMode: Workload.ReadMode? = nil) {
        self.mitigation = mitigation
        self.readMode = readMode
        self.mode = mode
        self.bandwidth = bandwidth
        self.link = link
        self.maxDowntimeMs = maxDowntimeMs
        self.bandwidthCapMiBps = bandwidthCapMiBps
        self.timeoutSeconds = timeoutSeconds
        self.pauseAfterRounds = pauseAfterRounds
    }

    /// The matrix keys a plan's `exclude` entries may name.
    public static let excludableKeys = ["mode", "link_rate", "link", "read_mode", "block_size_kib", "mitigation", "concurrency", "order"]

    /// The value a matrix key has in this cell, as a plan writes it (nil: the cell leaves it unset).
    public func value(ofPlanKey key: String) -> String? {
        switch key {
        case "mode": mode.rawValue
        case "link_rate": bandwidth.description
        case "link": link.rawValue
        case "read_mode": readMode?.rawValue
        case "block_size_kib": blockSizeKiB.map { String($0) }
        case "mitigation": mitigation?.text ?? "none"
        case "concurrency": drainConcurrency.map { String($0) }
        case "order": drainOrder?.rawValue
        default: nil
        }
    }

    /// A stable, readable name: stored with each run, used to resume and to group.
    public var key: String {
        var parts = ["mode=\(mode.rawValue)", "bandwidth=\(bandwidth)", "link=\(link.rawValue)"]
        if let m = maxDowntimeMs { parts.append("max_downtime_ms=\(m)") }
        if let c = bandwidthCapMiBps { parts.append("bandwidth_cap_mibps=\(c)") }
        if let t = timeoutSeconds { parts.append("timeout_s=\(t == t.rounded() ? String(Int(t)) : String(t))") }
        if let r = pauseAfterRounds { parts.append("pause_after_rounds=\(r)") }
        if let m = readMode { parts.append("read=\(m.rawValue)") }
        if let b = blockSizeKiB { parts.append("block_size_kib=\(b)") }
        if let m = mitigation { parts.append("mitigation=\(m.text)") }
        if let k = drainConcurrency { parts.append("drain_concurrency=\(k)") }
        if let o = drainOrder { parts.append("drain_order=\(o.rawValue)") }
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
