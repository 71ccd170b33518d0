/// A cell of a plan, summarised over its runs.
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
    /// g/C + T0/T and its two parts, over the runs on a link of known rate.
    public var efficiency: MeasureStats?
    public var guestLinkShare: MeasureStats?
    public var timeShare: MeasureStats?
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
        efficiency = MeasureStats(s.compactMap { $0.efficiency?.efficiency })
        guestLinkShare = MeasureStats(s.compactMap { $0.efficiency?.guestShare })
        timeShare = MeasureStats(s.compactMap { $0.efficiency?.timeShare })
        workloadEndedEarlyRuns = s.filter { $0.workloadEndedEarly == true }.count
    }

    /// The cell's note on its workload window, or nil when every run's workload outlasted its migration.
    public var workloadWindowFlag: String? {
        workloadEndedEarlyRuns == 0 ? nil : "the read ended before the migration in \(workloadEndedEarlyRuns) of \(runs.count) run\(runs.count == 1 ? "" : "s")"
    }
}

/// A drain plan's cell, over its complete drains: how long the drain took and what it cost the
/// guests (each against its rate before the drain where it was recorded from then, as a plan's
/// drain is; else against its own baseline).
public struct DrainCellStats: Sendable, Equatable, Codable {
    public var cell: String
    public var drains: [String]
    public var drainSeconds: MeasureStats?
    public var worstIODuringRatio: MeasureStats?
    public var meanIODuringRatio: MeasureStats?
    public var bytesSent: MeasureStats?
    public var mostAtOnce: MeasureStats?
    /// Whether the I/O ratios are against the rate before the drain (every drain had it).
    public var againstBeforeTheDrain: Bool

    public init(cell: String, drains: [(id: String, timeline: DrainTimeline)]) {
        self.cell = cell
        self.drains = drains.map(\.id)
        let t = drains.map(\.timeline)
        againstBeforeTheDrain = !t.isEmpty && t.allSatisfy { $0.worstIODuringVsBeforeDrain != nil }
        drainSeconds = MeasureStats(t.compactMap(\.drainSeconds))
        worstIODuringRatio = MeasureStats(t.compactMap { againstBeforeTheDrain ? $0.worstIODuringVsBeforeDrain : $0.worstIODuringRatio })
        meanIODuringRatio = MeasureStats(t.compactMap { againstBeforeTheDrain ? $0.meanIODuringVsBeforeDrain : $0.meanIODuringRatio })
        bytesSent = MeasureStats(t.compactMap { $0.bytesSent.map { Double($0) } })
        mostAtOnce = MeasureStats(t.map { Double($0.mostAtOnce) })
    }
}
