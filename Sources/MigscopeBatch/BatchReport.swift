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

    /// "mean ±ci" (the 95 % interval), "mean (sd x)" with too few runs for one, "-" for nothing.
    static func meanWithInterval(_ s: MeasureStats?, _ scale: Double, _ digits: Int) -> String {
        guard let s else { return "-" }
        var t = String(format: "%.\(digits)f", s.mean * scale)
        if let ci = s.ci95 { t += String(format: " ±%.\(digits)f", ci * scale) } else if let sd = s.sd { t += String(format: " (sd %.\(digits)f)", sd * scale) }
        return t
    }

    /// One row per cell: its mitigation and reader (with its block size where the plan varies it),
    /// efficiency and its two parts.
    public static func efficiencyRows(_ stats: [CellStats], cells: [String: PlanCell]) -> [[String]] {
        func f(_ s: MeasureStats?, _ scale: Double = 1, _ digits: Int = 2) -> String { meanWithInterval(s, scale, digits) }
        func reader(_ cell: PlanCell?) -> String {
            let words = [cell?.readMode?.rawValue, cell?.blockSizeKiB.map { "\($0) KiB" }].compactMap { $0 }
            return words.isEmpty ? "-" : words.joined(separator: ", ")
        }
        return [["mitigation", "reader", "link", "runs", "efficiency", "g/C", "T0/T", "migration s", "downtime ms", "I/O during/before %"]]
            + stats.map { c in
                let cell = cells[c.cell]
                return [cell?.mitigation?.text ?? "none", reader(cell), cell.map { "\($0.bandwidth) \($0.link.rawValue)" } ?? "-",
                        "\(c.runs.count)", f(c.efficiency), f(c.guestLinkShare), f(c.timeShare), f(c.migrationSeconds, 1, 1), f(c.downtimeMs, 1, 0),
                        f(c.ioDuringRatio, 100, 0)]
            }
    }

    /// The efficiency table of a plan that varies mitigations or readers, or nil. Only where a link
    /// is shared does a run have an efficiency (g + m <= C): on full-duplex links (the dirty-io
    /// plan's) the table would be columns of dashes.
    public static func efficiencyTable(_ stats: [CellStats], cells: [String: PlanCell]) -> [[String]]? {
        guard stats.contains(where: { $0.efficiency != nil }),
              stats.contains(where: { cells[$0.cell]?.mitigation != nil || cells[$0.cell]?.readMode != nil }) else { return nil }
        return efficiencyRows(stats, cells: cells)
    }

    /// Every complete run of the plan with an efficiency, grouped by its cell's mitigation and reader.
    static func tradeoffPoints(_ stats: [CellStats], cells: [String: PlanCell], store: ResultsStore) throws -> [TradeoffFigure.Point] {
        try stats.flatMap { c -> [TradeoffFigure.Point] in
            let cell = cells[c.cell]
            let reader = cell?.readMode?.rawValue
            let group = (cell?.mitigation?.text ?? "none") + (reader.map { " (\($0) reader)" } ?? "")
            return try c.runs.compactMap { id in
                let r = try store.run(id)
                guard let e = r.summary?.efficiency else { return nil }
                let dirties = (cell?.readMode ?? r.info.workload?.mode) != .direct
                return TradeoffFigure.Point(group: group, dirtiesMemory: dirties, efficiency: e)
            }
        }
    }

    /// One row per cell with re-sent rounds: what was re-sent, the reads' share of it, the slope.
    static func dirtyingRows(_ stats: [CellStats], cells: [String: PlanCell], store: ResultsStore) throws -> [[String]] {
        var rows = [["reader", "block KiB", "link", "runs", "re-sent MiB (mean)", "explained by reads", "re-sent per byte read"]]
        for c in stats {
            let found = try c.runs.compactMap { try RunAnalysis(trace: store.run($0).trace).ioDirtying }
            guard !found.isEmpty else { continue }
            let all = IODirtying(rounds: found.flatMap(\.rounds))
            let cell = cells[c.cell]
            rows.append([cell?.readMode?.rawValue ?? "-", cell?.blockSizeKiB.map(String.init) ?? "-",
                         cell.map { "\($0.bandwidth) \($0.link.rawValue)" } ?? "-", "\(found.count)",
                         String(format: "%.0f", found.map(\.resentBytes).reduce(0, +) / Double(found.count) / 1_048_576),
                         all.explainedShare.map { String(format: "%.0f %%", $0 * 100) } ?? "-", all.slope.map { String(format: "%.2f", $0) } ?? "-"])
        }
        return rows
    }

    /// Every complete run's pre-copy rounds, grouped by reader (and link rate where a plan has several).
    static func dirtyingGroups(_ stats: [CellStats], cells: [String: PlanCell], store: ResultsStore) throws -> [DirtyingFigure.Group] {
        var byName: [String: [IODirtying.Round]] = [:]
        var order: [String] = []
        let rates = Set(stats.compactMap { cells[$0.cell]?.bandwidth.description })
        for c in stats {
            for id in c.runs {
                let r = try store.run(id)
                guard let d = RunAnalysis(trace: r.trace).ioDirtying else { continue }
                let reader = (cells[c.cell]?.readMode ?? r.info.workload?.mode)?.rawValue ?? "unknown"
                let name = "\(reader) reader" + (rates.count > 1 ? ", \(cells[c.cell]?.bandwidth.description ?? r.info.linkRate ?? "?")" : "")
                if byName[name] == nil { order.append(name) }
                byName[name, default: []] += d.rounds
            }
        }
        return order.map { DirtyingFigure.Group(name: $0, rounds: byName[$0] ?? []) }
    }

    /// Per cell, over its complete runs that were predicted (`predict: true`): the predictions'
    /// mean beside the runs' mean, and the error of the means. Only the header when none was.
    public static func predictionRows(_ stats: [CellStats], store: ResultsStore) throws -> [[String]] {
        var rows = [["cell", "predicted runs", "migration s predicted / measured", "error", "downtime ms predicted / measured", "error", "ends by itself predicted / measured"]]
        for c in stats {
            var pt: [Double] = [], mt: [Double] = [], pd: [Double] = [], md: [Double] = []
            var byItself = (predicted: 0, measured: 0), n = 0
            for id in c.runs {
                let r = try store.run(id)
                guard let f = r.info.forecast, let s = r.summary else { continue }
                n += 1
                if f.prediction.ending == .converged { byItself.predicted += 1 }
                if s.convergence?.hasPrefix("converged") == true { byItself.measured += 1 }
                if let p = f.prediction.migrationSeconds, let m = s.migrationSeconds { pt.append(p); mt.append(m) }
                if let p = f.prediction.downtimeMs, let m = s.downtimeMs { pd.append(p); md.append(m) }
            }
            guard n > 0 else { continue }
            func pair(_ p: [Double], _ m: [Double], _ format: String) -> (String, String) {
                guard let a = Statistics.mean(p), let b = Statistics.mean(m) else { return ("- / -", "-") }
                return (String(format: "\(format) / \(format)", a, b), b > 0 ? String(format: "%+.0f %%", (a - b) / b * 100) : "-")
            }
            let time = pair(pt, mt, "%.1f"), down = pair(pd, md, "%.0f")
            rows.append([c.cell, "\(n)", time.0, time.1, down.0, down.1, "\(byItself.predicted) / \(byItself.measured) of \(n)"])
        }
        return rows
    }

    /// One row per drain cell: its concurrency and order, the drain's length, what it cost the guests, what it sent.
    public static func drainRows(_ stats: [DrainCellStats], cells: [String: PlanCell]) -> [[String]] {
        func f(_ s: MeasureStats?, _ scale: Double = 1, _ digits: Int = 1) -> String { meanWithInterval(s, scale, digits) }
        return [["concurrency", "order", "link", "drains", "drain s", "worst guest I/O during/before %", "mean guest I/O during/before %", "MiB sent", "most at once", "first drain"]]
            + stats.map { d in
                let cell = cells[d.cell]
                return [cell?.drainConcurrency.map(String.init) ?? "-", cell?.drainOrder?.rawValue ?? "-",
                        cell.map { "\($0.bandwidth) \($0.link.rawValue)" + ($0.mitigation.map { ", " + $0.text } ?? "") } ?? "-",
                        "\(d.drains.count)", f(d.drainSeconds), f(d.worstIODuringRatio, 100, 0), f(d.meanIODuringRatio, 100, 0),
                        f(d.bytesSent, 1.0 / 1_048_576, 0), f(d.mostAtOnce, 1, 1), d.drains.first.map { String($0.prefix(8)) } ?? "-"]
            }
    }

    public static func findingRows(_ f: [PaperComparison.Finding]) -> [[String]] {
        [["finding", "paper", "ours", "verdict"]] + f.map { [$0.claim, $0.paper, $0.ours, $0.verdict] }
    }

    /// Writes the plan's report to `directory`; returns the page and the tables it holds.
    public static func write(plan: Plan, store: ResultsStore, stats: [CellStats], drains: [DrainCellStats] = [], to directory: String, paper: Bool)
        throws -> (page: String, cells: [[String]], findings: [[String]], efficiency: [[String]], drains: [[String]]) {
        let cells = cellRows(stats)
        let cellsByKey = Dictionary(plan.cells.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let drainTable = drains.isEmpty ? [] : drainRows(drains, cells: cellsByKey)
        var tables = drainTable.isEmpty ? [] : [RunReport.ExtraTable(
            name: "drains", title: "Plan '\(plan.name)': each drain cell",
            note: "Mean over each cell's complete drains (± the 95 % confidence interval where it has several). Drain time: the first migration's start to the last guest running on the destination. Guest I/O during/before: each guest's mean read rate during its own migration over its rate before the drain's first migration began (every guest is recorded from before the drain); worst is the lowest guest's, mean the guests' mean. MiB sent: all the drain's migrations together. 'migscope report --drain ID' draws one drain on one clock (the ids: 'migscope runs --json').",
            rows: drainTable)]
        tables.append(RunReport.ExtraTable(
            name: "cells", title: "Plan '\(plan.name)': results per cell",
            note: "Mean over each cell's complete runs; sd and the 95 % confidence interval of the mean (Student's t) where a cell has several runs. I/O during/before is measured over the part of each migration in which the guest's read still ran; a cell whose read ended before its migration did is flagged in 'note'.",
            rows: cells))
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
        var efficiency: [[String]] = []
        if let rows = efficiencyTable(stats, cells: cellsByKey) {
            efficiency = rows
            tables.append(RunReport.ExtraTable(
                name: "efficiency", title: "How close each cell came to what the link allows",
                note: "Efficiency = g/C + T0/T: the guest's mean read rate during the migration over the link's rate, plus the shortest possible migration time (the first pass's bytes at the link's rate) over the run's. 1 is the physical frontier for a reader that dirties no memory; a buffered reader's frontier lies lower. Mean over the cell's complete runs with ± the 95 % confidence interval (Student's t), or the sd where a cell has too few runs.",
                rows: efficiency))
        }
        let points = try tradeoffPoints(stats, cells: cellsByKey, store: store)
        let inputs = try stats.compactMap { s -> RunReport.Input? in
            guard let id = s.runs.first else { return nil }
            let r = try store.run(id)
            return RunReport.Input(info: r.info, trace: r.trace)
        }
        let dirtying = try dirtyingGroups(stats, cells: cellsByKey, store: store)
        let dirtyingTable = try dirtyingRows(stats, cells: cellsByKey, store: store)
        if dirtyingTable.count > 1, plan.cells.contains(where: { $0.readMode != nil }) {
            tables.append(RunReport.ExtraTable(
                name: "dirtying", title: "How much of what pre-copy re-sent the guest's reads dirtied",
                note: "Per cell, over its complete runs: the bytes the pre-copy rounds after the first re-sent, the share of them the guest's reads during the round before can explain (a byte read dirties at most a byte of page cache: min(read, re-sent) per round), and the bytes re-sent per byte read (least squares through the origin over all the cell's rounds).",
                rows: dirtyingTable))
        }
        let predictions = try predictionRows(stats, store: store)
        if predictions.count > 1 {
            tables.append(RunReport.ExtraTable(
                name: "predictions", title: "Predicted before each migration, beside what it did",
                note: "Each run was predicted during its baseline, with its workload running (the plan's predict: true; see 'migscope predict'). Means over the cell's complete predicted runs; the error is the predicted mean's against the measured mean. 'Ends by itself': pre-copy converging by the hypervisor's own test, as predicted and as the run's convergence says.",
                rows: predictions))
        }
        // Each drain cell's first drain on one clock.
        let drainFigures = try drains.enumerated().compactMap { i, d -> (name: String, title: String, runs: [RunReport.Input])? in
            guard let id = d.drains.first else { return nil }
            let runs = try store.runIDs(inDrain: id).map { try store.run($0) }.map { RunReport.Input(info: $0.info, trace: $0.trace) }
            let cell = cellsByKey[d.cell]
            let title = "Drain, \(cell?.drainConcurrency.map { "\($0) at once" } ?? "?"), \(cell?.drainOrder?.rawValue ?? "as-listed")"
            return ("drain-cell-\(i + 1)", title, runs)
        }
        let page = try RunReport.write(inputs, to: directory, title: "migscope: plan '\(plan.name)'", tables: tables) { dir in
            try drainFigures.map { try DrainReport.figure($0.runs, name: $0.name, title: $0.title, in: dir) }
                + [try TradeoffFigure.write(points, in: dir), try DirtyingFigure.write(dirtying, in: dir)]
        }
        return (page, cells, findings, efficiency, drainTable)
    }
}
