import Foundation

/// A recorded drain on one clock: each guest's migration placed by its run's wall-clock anchor,
/// the drain's length (the first migration's start to the last one's end) and what it cost each
/// guest's I/O. Pure: built from the runs the drain recorded (`drain --record`).
public struct DrainTimeline: Sendable, Equatable {
    public struct Guest: Sendable, Equatable {
        public var domain: String
        public var run: Int64?
        public var destination: String
        public var status: RunStatus
        /// Seconds on the drain clock (0: the first migration's start).
        public var startS: Double?
        public var endS: Double?
        /// Run clock + offset = drain clock.
        public var offsetS: Double
        public var downtimeMs: Double?
        public var ioDuringRatio: Double?
        /// The guest's I/O during its migration over its I/O before the drain's first migration
        /// began (nil when its recording started later, as in `drain --record` for the ones that waited):
        /// unlike `ioDuringRatio`, its reference is not lowered by the migrations it waited through.
        public var ioDuringVsBeforeDrain: Double?
        public var migrationSeconds: Double? { startS.flatMap { s in endS.map { $0 - s } } }
    }

    /// In the order they started.
    public var guests: [Guest]
    public var drainSeconds: Double?
    /// The lowest and the mean of the guests' I/O during / before.
    public var worstIODuringRatio: Double?
    public var meanIODuringRatio: Double?
    public var bytesSent: UInt64?
    /// The lowest and the mean of `ioDuringVsBeforeDrain` (nil unless every guest that reads has one).
    public var worstIODuringVsBeforeDrain: Double?
    public var meanIODuringVsBeforeDrain: Double?

    public init(_ runs: [(info: RunInfo, trace: Trace, analysis: RunAnalysis, summary: RunSummary)]) {
        let starts = runs.compactMap { r in r.analysis.migrationStartS.map { r.info.anchor.timeIntervalSince1970 + $0 } }
        let origin = starts.min() ?? runs.map(\.info.anchor.timeIntervalSince1970).min() ?? 0
        guests = runs.map { r in
            let offset = r.info.anchor.timeIntervalSince1970 - origin
            // Drain clock 0 is -offset on this run's clock: its samples before that are "before the drain".
            let series = RunAnalysis.readSeries(r.trace, handoverS: r.analysis.handoverS)
            let beforeDrain = (series.first?.t).flatMap { first in first < -offset - 1 ? RunAnalysis.meanReadRate(series, from: first, to: -offset) : nil }
            let duringVsBefore = r.analysis.during.flatMap { d in beforeDrain.flatMap { $0 > 0 ? d.meanReadBytesPerSecond / $0 : nil } }
            var guest = Guest(domain: r.info.request.domain, run: r.info.id, destination: r.info.request.destination, status: r.info.status,
                         startS: r.analysis.migrationStartS.map { $0 + offset }, endS: r.analysis.migrationEndS.map { $0 + offset },
                         offsetS: offset, downtimeMs: r.summary.downtimeMs, ioDuringRatio: r.analysis.ioDuringRatio)
            guest.ioDuringVsBeforeDrain = duringVsBefore
            return guest
        }.sorted { ($0.startS ?? .infinity, $0.domain) < ($1.startS ?? .infinity, $1.domain) }
        let ends = guests.compactMap(\.endS)
        // The clock starts at the first migration's start, so the last end is the drain's length.
        drainSeconds = starts.isEmpty ? nil : ends.max()
        let ratios = guests.compactMap(\.ioDuringRatio)
        worstIODuringRatio = ratios.min()
        meanIODuringRatio = ratios.isEmpty ? nil : ratios.reduce(0, +) / Double(ratios.count)
        // Over the guests that read (an idle guest has no ratio of either kind).
        let reading = guests.filter { $0.ioDuringRatio != nil || $0.ioDuringVsBeforeDrain != nil }
        let vsDrain = reading.compactMap(\.ioDuringVsBeforeDrain)
        if !vsDrain.isEmpty, vsDrain.count == reading.count {
            worstIODuringVsBeforeDrain = vsDrain.min()
            meanIODuringVsBeforeDrain = vsDrain.reduce(0, +) / Double(vsDrain.count)
        }
        let sent = runs.compactMap(\.summary.bytesSent)
        bytesSent = sent.isEmpty ? nil : sent.reduce(0, +)
    }

    /// The most migrations that ran at once.
    public var mostAtOnce: Int {
        let spans = guests.compactMap { g in g.startS.flatMap { s in g.endS.map { (s, $0) } } }
        return spans.map { s in spans.filter { $0.0 <= s.0 && s.0 < $0.1 }.count }.max() ?? 0
    }
}
