import Foundation
import MigscopeCore

/// The report of a recorded drain (`migscope report --drain ID`): every guest's read rate on the
/// drain's one clock with its migration marked, a table of each guest and the drain's totals, then
/// each run's own sections as `report` writes them.
public enum DrainReport {
    public static func write(drain: String, _ runs: [RunReport.Input], to directory: String, render: Bool = true) throws -> String {
        let prepared = runs.map { r -> Prepared in
            let trace = RunExport.completed(info: r.info, trace: r.trace)
            let analysis = RunAnalysis(trace: trace)
            return Prepared(info: r.info, trace: trace, analysis: analysis, summary: RunSummary(info: r.info, trace: trace, analysis: analysis))
        }
        let timeline = DrainTimeline(prepared.map { ($0.info, $0.trace, $0.analysis, $0.summary) })
        let table = RunReport.ExtraTable(
            name: "drain", title: "Drain \(drain)",
            note: "Each guest's migration on the drain's clock (0: the first migration's start). "
                + "Drain time \(timeline.drainSeconds.map { Format.seconds($0) } ?? "-"), at most \(timeline.mostAtOnce) at once; "
                + "guest I/O during / before: worst \(percent(timeline.worstIODuringRatio)), mean \(percent(timeline.meanIODuringRatio)); "
                + "sent \(timeline.bytesSent.map { Format.bytes(Double($0)) } ?? "-") in all.",
            rows: rows(timeline))
        return try RunReport.write(runs, to: directory, render: render, title: "migscope drain \(drain)", tables: [table]) { dir in
            [try figure(timeline, prepared, in: dir, render: render)]
        }
    }

    struct Prepared {
        var info: RunInfo
        var trace: Trace
        var analysis: RunAnalysis
        var summary: RunSummary
    }

    static func rows(_ t: DrainTimeline) -> [[String]] {
        var rows = [["guest", "run", "to", "starts s", "ends s", "migration s", "downtime ms", "I/O during/before", "I/O during/before the drain", "status"]]
        for g in t.guests {
            rows.append([g.domain, g.run.map(String.init) ?? "-", HostURI.redacted(g.destination),
                         g.startS.map { NumberText.fixed($0, 1) } ?? "-", g.endS.map { NumberText.fixed($0, 1) } ?? "-",
                         g.migrationSeconds.map { NumberText.fixed($0, 1) } ?? "-", g.downtimeMs.map { NumberText.fixed($0, 0) } ?? "-",
                         percent(g.ioDuringRatio), percent(g.ioDuringVsBeforeDrain), g.status.shown])
        }
        return rows
    }

    static func percent(_ r: Double?) -> String { r.map { NumberText.fixed($0 * 100, 0) + " %" } ?? "-" }

    /// drain.{gp,png,svg}: each guest's read rate (MiB/s) on the drain clock, its migration a bar
    /// of its colour under the curves.
    /// A drain's figure alone, named `name` (a plan's report draws one per drain cell).
    public static func figure(_ runs: [RunReport.Input], name: String, title: String, in dir: String, render: Bool = true) throws -> String {
        let prepared = runs.map { r -> Prepared in
            let trace = RunExport.completed(info: r.info, trace: r.trace)
            let analysis = RunAnalysis(trace: trace)
            return Prepared(info: r.info, trace: trace, analysis: analysis, summary: RunSummary(info: r.info, trace: trace, analysis: analysis))
        }
        let timeline = DrainTimeline(prepared.map { ($0.info, $0.trace, $0.analysis, $0.summary) })
        return try figure(timeline, prepared, name: name, title: title, in: dir, render: render)
    }

    static func figure(_ t: DrainTimeline, _ runs: [Prepared], name: String = "drain", title: String = "Drain", in dir: String, render: Bool) throws -> String {
        var plots: [String] = []
        var bars: [String] = []
        for (i, g) in t.guests.enumerated() {
            guard let run = runs.first(where: { $0.info.id == g.run && $0.info.request.domain == g.domain }) else { continue }
            let series: IOSample.Series = run.analysis.ioSeries ?? .host
            let rows = run.trace.samples.filter { $0.series == series }.map { [$0.t + g.offsetS, $0.readBytesPerSecond / 1_048_576] }
            try RunReport.tsv(rows, to: dir + "/\(name)-\(i).tsv")
            plots.append("'\(name)-\(i).tsv' using 1:2 with lines lw 2 lc \(i + 1) title \(Gnuplot.quote(g.domain))")
            if let s = g.startS, let e = g.endS {
                let y0 = -0.6 - Double(i) * 0.5
                bars.append("set object \(i + 1) rect from \(NumberText.fixed(s, 3)),\(NumberText.fixed(y0, 2)) to \(NumberText.fixed(e, 3)),\(NumberText.fixed(y0 + 0.35, 2)) fc lt \(i + 1) fs solid 0.8 noborder")
            }
        }
        guard !plots.isEmpty else { return "" }
        let r = try Gnuplot.render(name, body: """
            set title \(Gnuplot.quote(title + ": each guest's read rate on one clock; bars below: its migration"))
            set xlabel "seconds from the drain's first migration"
            set ylabel "guest read (MiB/s)"
            set grid
            set key outside right top box opaque
            set yrange [\(NumberText.fixed(-0.8 - Double(t.guests.count) * 0.5, 2)):*]
            \(bars.joined(separator: "\n"))
            plot \(plots.joined(separator: ", \\\n     "))
            """, in: dir, width: 1200, height: 560, render: render)
        return RunReport.figure(r.png, "The drain on one clock: every guest's read rate, and under the curves a bar for each guest's migration, from its start to the guest running on its destination.")
    }
}
