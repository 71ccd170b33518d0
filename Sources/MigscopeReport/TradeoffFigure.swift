import Foundation
import MigscopeCore

/// The trade-off between the guest's I/O and the migration's speed: every run a point at
/// (T0/T, g/C), marked by its mitigation and its reader, with the frontier g/C + T0/T = 1 that no
/// run of a reader that dirties no memory can cross.
public enum TradeoffFigure {
    public struct Point: Sendable, Equatable {
        /// What the point's group is called in the key (its mitigation and reader); data, never code.
        public var group: String
        /// Runs of a reader that dirties memory are drawn hollow.
        public var dirtiesMemory: Bool
        public var efficiency: LinkEfficiency
        public init(group: String, dirtiesMemory: Bool, efficiency: LinkEfficiency) {
            self.group = group
            self.dirtiesMemory = dirtiesMemory
            self.efficiency = efficiency
        }
    }

    /// Writes `tradeoff.{gp,png,svg}` and one data file per group into `directory`; returns the
    /// HTML figure, or "" without points.
    public static func write(_ points: [Point], in directory: String, render: Bool = true) throws -> String {
        guard !points.isEmpty else { return "" }
        var groups: [String] = []
        for p in points where !groups.contains(p.group) { groups.append(p.group) }
        var plots = ["x <= 1 ? 1 - x : NaN with lines lw 2 dt 2 lc rgb '#444444' title 'frontier: g/C + T0/T = 1'"]
        for (i, g) in groups.enumerated() {
            let mine = points.filter { $0.group == g }
            try RunReport.tsv(mine.map { [$0.efficiency.timeShare, $0.efficiency.guestShare] }, to: directory + "/tradeoff-\(i).tsv", breakGaps: false)
            // Filled points for readers that dirty nothing, hollow for those that do.
            let pointType = mine.first?.dirtiesMemory == true ? 6 : 7
            plots.append("'tradeoff-\(i).tsv' using 1:2 with points pt \(pointType) ps 1.6 lc \(i + 1) title \(Gnuplot.quote(g))")
        }
        let r = try Gnuplot.render("tradeoff", body: """
            set title "Guest I/O against migration speed: each run, and the physical frontier"
            set xlabel "T0 / T  (the shortest possible migration time over the run's)"
            set ylabel "g / C  (the guest's mean read rate during the migration over the link's rate)"
            set xrange [0:1.05]
            set yrange [0:1.05]
            set size ratio -1
            set grid
            set samples 200
            set key outside right top box opaque
            plot \(plots.joined(separator: ", \\\n     "))
            """, in: directory, width: 1100, height: 720, render: render)
        return RunReport.figure(r.png, "Trade-off: every run at (T0/T, g/C). A run on the dashed line used the whole link for the guest's reads and the migration together; filled points are readers that dirty no memory (their runs cannot cross the line), hollow ones dirty memory as they read (the stream re-sends it, so their runs lie lower).")
    }
}
