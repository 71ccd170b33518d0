import Foundation
import MigscopeCore

/// The paper's first question as a picture: every pre-copy round of a plan's runs as a point (bytes
/// the guest read while it ran, bytes the next round re-sent), one mark per reader, each with its
/// fitted slope; and the diagonal, where every byte read became a byte re-sent.
public enum DirtyingFigure {
    public struct Group: Sendable, Equatable {
        /// What the key calls it (the reader, and the link where several); data, never code.
        public var name: String
        public var rounds: [IODirtying.Round]
        public init(name: String, rounds: [IODirtying.Round]) {
            self.name = name
            self.rounds = rounds
        }
        /// Re-sent per byte read over all the group's rounds, through the origin.
        public var slope: Double? { IODirtying(rounds: rounds).slope }
    }

    /// Writes `dirtying.{gp,png,svg}` and a data file per group; returns the HTML figure, or "" without rounds.
    public static func write(_ groups: [Group], in directory: String, render: Bool = true) throws -> String {
        let groups = groups.filter { !$0.rounds.isEmpty }
        guard !groups.isEmpty else { return "" }
        let mib = 1_048_576.0
        var plots = ["x with lines lw 1 dt 3 lc rgb '#888888' title 'every byte read re-sent'"]
        for (i, g) in groups.enumerated() {
            try RunReport.tsv(g.rounds.map { [$0.readBytes / mib, $0.dirtiedBytes / mib] }, to: directory + "/dirtying-\(i).tsv", breakGaps: false)
            plots.append("'dirtying-\(i).tsv' using 1:2 with points pt \(5 + 2 * i) ps 1.4 lc \(i + 1) title \(Gnuplot.quote(g.name))")
            if let s = g.slope {
                plots.append("\(s) * x with lines lw 2 lc \(i + 1) title \(Gnuplot.quote(String(format: "%@: slope %.2f", g.name, s)))")
            }
        }
        let r = try Gnuplot.render("dirtying", body: """
            set title "What each pre-copy round left dirty against what the guest read while it ran"
            set xlabel "read by the guest during the round (MiB)"
            set ylabel "re-sent by the next round (MiB)"
            set xrange [0:*]
            set yrange [0:*]
            set grid
            set key left top box opaque
            plot \(plots.joined(separator: ", \\\n     "))
            """, in: directory, width: 1000, height: 640, render: render)
        return RunReport.figure(r.png, "Dirty pages caused by I/O: one point per pre-copy round (every run of the plan), marked by reader, with each reader's fitted slope. A buffered reader's rounds lie near the dotted diagonal (what it reads fills the page cache and is sent again); a direct reader's lie low.")
    }
}
