import Foundation
import MigscopeCore

/// The paper's findings (Kuno and Yamaguchi; summarised in docs/paper.md) next to ours, each saying whether we agree.
public enum PaperComparison {
    public struct Finding: Sendable, Equatable, Codable {
        public var claim: String
        public var paper: String
        public var ours: String
        /// "agrees", "differs", "not measured", or "not comparable" (a cell whose read ended before
        /// its migration did measures no running workload).
        public var verdict: String
    }

    /// Compares cells of a paper-shaped plan (live and non-live at 100 and 10 Mbit/s).
    public static func findings(_ cells: [(cell: PlanCell, stats: CellStats)]) -> [Finding] {
        func cell(_ mode: MigrationRequest.Mode, _ mbit: UInt64) -> CellStats? {
            cells.first { $0.cell.mode == mode && $0.cell.bandwidth == .mbit(mbit) }?.stats
        }
        func pct(_ s: MeasureStats?) -> String { s.map { String(format: "%.0f %%", $0.mean * 100) } ?? "-" }
        func sec(_ s: MeasureStats?) -> String { s.map { String(format: "%.0f s", $0.mean) } ?? "-" }
        /// A finding over cells whose read ended before their migration did is flagged, not judged.
        func finding(_ claim: String, paper: String, ours: String, verdict: String, over stats: [CellStats?]) -> Finding {
            let flags = stats.compactMap { $0 }.compactMap { s in s.workloadWindowFlag.map { "\(s.cell): \($0)" } }
            guard !flags.isEmpty else { return Finding(claim: claim, paper: paper, ours: ours, verdict: verdict) }
            return Finding(claim: claim, paper: paper, ours: ours + " (" + flags.joined(separator: "; ") + ")", verdict: "not comparable")
        }
        var out: [Finding] = []

        for mbit in [100, 10] as [UInt64] {
            let live = cell(.live, mbit)
            let r = live?.ioDuringRatio
            let verdict: String
            if let r { verdict = r.mean <= 0.5 ? "agrees" : "differs" } else { verdict = "not measured" }
            out.append(finding(
                "the guest's I/O collapses during live migration (\(mbit) Mbit/s)",
                paper: mbit == 100 ? "about 10 % of normal" : "collapses as at 100 Mbit/s",
                ours: "\(pct(r)) of before" + (r?.ci95.map { String(format: " (95 %% CI ±%.0f points)", $0 * 100) } ?? ""),
                verdict: verdict, over: [live]))
        }

        let l100 = cell(.live, 100), n100 = cell(.nonLive, 100), l10 = cell(.live, 10), n10 = cell(.nonLive, 10)
        out.append(finding(
            "at 100 Mbit/s the read finishes sooner with live migration",
            paper: "462 s live vs 471 s non-live (4 GiB read)",
            ours: "\(sec(l100?.workloadSeconds)) live vs \(sec(n100?.workloadSeconds)) non-live",
            verdict: compare(l100?.workloadSeconds, n100?.workloadSeconds, expectFirstSmaller: true), over: [l100, n100]))
        out.append(finding(
            "at 10 Mbit/s the read finishes sooner with non-live migration",
            paper: "non-live faster (pre-copy re-sends too much)",
            ours: "\(sec(l10?.workloadSeconds)) live vs \(sec(n10?.workloadSeconds)) non-live",
            verdict: compare(l10?.workloadSeconds, n10?.workloadSeconds, expectFirstSmaller: false), over: [l10, n10]))
        var sameVerdict = "not measured"
        if let a = l100?.migrationSeconds?.mean, let b = n100?.migrationSeconds?.mean, max(a, b) > 0 { sameVerdict = abs(a - b) / max(a, b) <= 0.25 ? "agrees" : "differs" }
        out.append(finding(
            "at 100 Mbit/s migration takes about as long live as non-live",
            paper: "about the same",
            ours: "\(sec(l100?.migrationSeconds)) live vs \(sec(n100?.migrationSeconds)) non-live",
            verdict: sameVerdict, over: []))
        return out
    }

    static func compare(_ a: MeasureStats?, _ b: MeasureStats?, expectFirstSmaller: Bool) -> String {
        guard let a, let b else { return "not measured" }
        return (a.mean < b.mean) == expectFirstSmaller ? "agrees" : "differs"
    }
}
