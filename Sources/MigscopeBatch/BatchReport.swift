import Foundation
import MigscopeCore
import MigscopeReport
import MigscopeStore

/// The report of a plan: per-cell statistics, the paper's findings next to ours (for paper-shaped
/// plans), and the figures of one run per cell compared on one axis.
public enum BatchReport {
    /// Where a plan's report goes by default, relative to the working folder: results/NAME-report,
    /// the plan's name reduced to letters, digits, '.', '-' and '_' first (a name is data, not a path).
    public static func defaultFolder(for plan: Plan) -> String {
        var safe = String(plan.name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) ? Character($0) : "-" })
        while safe.hasPrefix(".") || safe.hasPrefix("-") { safe.removeFirst() }
        return "results/\(safe.isEmpty ? "plan" : String(safe.prefix(100)))-report"
    }

    public static func cellRows(_ stats: [CellStats]) -> [[String]] {
        func f(_ s: MeasureStats?, _ scale: Double = 1, _ digits: Int = 1) -> String {
            guard let s else { return "-" }
            var t = String(format: "%.\(digits)f", s.mean * scale)
            if let sd = s.sd { t += String(format: " (sd %.\(digits)f", sd * scale) }
            if let ci = s.ci95 { t += String(format: ", ±%.\(digits)f", ci * scale) + ")" } else if s.sd != nil { t += ")" }
            return t
        }
        return [["cell", "runs", "migration s", "downtime ms", "guest-seen gap ms", "I/O during/before %", "read total s", "MiB sent", "rounds",
                 "efficiency", "note"]]
            + stats.map { c in
                [c.cell, "\(c.runs.count)", f(c.migrationSeconds), f(c.downtimeMs, 1, 0), f(c.guestGapMs, 1, 0), f(c.ioDuringRatio, 100, 0),
                 f(c.workloadSeconds), f(c.bytesSent, 1.0 / 1_048_576, 0), f(c.rounds, 1, 1), f(c.efficiency, 1, 2),
                 c.workloadWindowFlag.map { $0 + ": not comparable" } ?? ""]
            }
    }

    public static func findingRows(_ f: [PaperComparison.Finding]) -> [[String]] {
        [["finding", "paper", "ours", "verdict"]] + f.map { [$0.claim, $0.paper, $0.ours, $0.verdict] }
    }

    /// Writes the plan's report to `directory`; returns the page and the tables it holds.
    public static func write(plan: Plan, store: ResultsStore, stats: [CellStats], to directory: String, paper: Bool) throws -> (page: String, cells: [[String]], findings: [[String]]) {
        let cells = cellRows(stats)
        var tables = [RunReport.ExtraTable(
            name: "cells", title: "Plan '\(plan.name)': results per cell",
            note: "Mean over each cell's complete runs; sd and the 95 % confidence interval of the mean (Student's t) where a cell has several runs. I/O during/before is measured over the part of each migration in which the guest's read still ran; a cell whose read ended before its migration did is flagged in 'note'.",
            rows: cells)]
        var findings: [[String]] = []
        if paper {
            let byKey = Dictionary(uniqueKeysWithValues: plan.cells.map { ($0.key, $0) })
            let pairs = stats.compactMap { s in byKey[s.cell].map { (cell: $0, stats: s) } }
            findings = findingRows(PaperComparison.findings(pairs))
            tables.insert(RunReport.ExtraTable(
                name: "paper", title: "The paper's findings next to ours",
                note: "Paper: Kuno and Yamaguchi, Xen on three machines (docs/paper.md). Ours: the embedded lab (QEMU under libvirt, \(plan.name)). 'agrees' means the same direction; sizes differ where the plan is not the paper's.",
                rows: findings), at: 0)
        }
        let inputs = try stats.compactMap { s -> RunReport.Input? in
            guard let id = s.runs.first else { return nil }
            let r = try store.run(id)
            return RunReport.Input(info: r.info, trace: r.trace)
        }
        let page = try RunReport.write(inputs, to: directory, title: "migscope: plan '\(plan.name)'", tables: tables)
        return (page, cells, findings)
    }
}
