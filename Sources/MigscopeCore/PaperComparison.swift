import Foundation

/// The paper's findings (Kuno and Yamaguchi; shared/PAPER.md) next to ours, each saying whether we agree.
public enum PaperComparison {
    public struct Finding: Sendable, Equatable, Codable {
        public var claim: String
        public var paper: String
        public var ours: String
        /// "agrees", "differs", or "not measured".
        public var verdict: String
    }

    /// Compares cells of a paper-shaped plan (live and non-live at 100 and 10 Mbit/s).
    public static func findings(_ cells: [(cell: PlanCell, stats: CellStats)]) -> [Finding] {
        func cell(_ mode: MigrationRequest.Mode, _ mbit: UInt64) -> CellStats? {
            cells.first { $0.cell.mode == mode && $0.cell.bandwidth == .mbit(mbit) }?.stats
        }
        func pct(_ s: MeasureStats?) -> String { s.map { String(format: "%.0f %%", $0.mean * 100) } ?? "-" }
        func sec(_ s: MeasureStats?) -> String { s.map { String(format: "%.0f s", $0.mean) } ?? "-" }
        var out: [Finding] = []

        for mbit in [100, 10] as [UInt64] {
            let r = cell(.live, mbit)?.ioDuringRatio
            let verdict: String
            if let r { verdict = r.mean <= 0.5 ? "agrees" : "differs" } else { verdict = "not measured" }
            out.append(Finding(
                claim: "the guest's I/O collapses during live migration (\(mbit) Mbit/s)",
                paper: mbit == 100 ? "about 10 % of normal" : "collapses as at 100 Mbit/s",
                ours: "\(pct(r)) of before" + (r?.ci95.map { String(format: " (95 %% CI ±%.0f points)", $0 * 100) } ?? ""),
                verdict: verdict))
        }

        let live100 = cell(.live, 100)?.workloadSeconds, non100 = cell(.nonLive, 100)?.workloadSeconds
        out.append(Finding(
            claim: "at 100 Mbit/s the read finishes sooner with live migration",
            paper: "462 s live vs 471 s non-live (4 GiB read)",
            ours: "\(sec(live100)) live vs \(sec(non100)) non-live",
            verdict: compare(live100, non100, expectFirstSmaller: true)))
        let live10 = cell(.live, 10)?.workloadSeconds, non10 = cell(.nonLive, 10)?.workloadSeconds
        out.append(Finding(
            claim: "at 10 Mbit/s the read finishes sooner with non-live migration",
            paper: "non-live faster (pre-copy re-sends too much)",
            ours: "\(sec(live10)) live vs \(sec(non10)) non-live",
            verdict: compare(live10, non10, expectFirstSmaller: false)))
        let m100l = cell(.live, 100)?.migrationSeconds, m100n = cell(.nonLive, 100)?.migrationSeconds
        var sameVerdict = "not measured"
        if let a = m100l?.mean, let b = m100n?.mean, max(a, b) > 0 { sameVerdict = abs(a - b) / max(a, b) <= 0.25 ? "agrees" : "differs" }
        out.append(Finding(
            claim: "at 100 Mbit/s migration takes about as long live as non-live",
            paper: "about the same",
            ours: "\(sec(m100l)) live vs \(sec(m100n)) non-live",
            verdict: sameVerdict))
        return out
    }

    static func compare(_ a: MeasureStats?, _ b: MeasureStats?, expectFirstSmaller: Bool) -> String {
        guard let a, let b else { return "not measured" }
        return (a.mean < b.mean) == expectFirstSmaller ? "agrees" : "differs"
    }
}
