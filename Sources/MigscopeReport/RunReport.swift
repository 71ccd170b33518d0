import Foundation
import MigscopeCore

/// `migscope report`: for each run, the timeline (the paper's Figures 1-4), the network figure
/// (Figure 5) and the rounds figure and table; for several runs, their comparison; all in one
/// self-contained HTML page, with the images as PNG and SVG and the tables as CSV beside it.
public enum RunReport {
    public struct Input: Sendable {
        public var info: RunInfo
        public var trace: Trace
        public init(info: RunInfo, trace: Trace) {
            self.info = info
            self.trace = trace
        }
    }

    /// A table of the report's own (a plan's cell statistics, the paper's findings): shown first,
    /// and written as `name.csv`.
    public struct ExtraTable: Sendable {
        public var name: String
        public var title: String
        public var note: String
        public var rows: [[String]]
        public init(name: String, title: String, note: String, rows: [[String]]) {
            self.name = name
            self.title = title
            self.note = note
            self.rows = rows
        }
    }

    /// Writes the report into `directory`; returns the HTML page's path. With `render` false the
    /// figures' scripts and data are written but gnuplot is not run (for timing migscope alone).
    /// `leading` figures (the caller's, already in `directory`) go after the tables.
    public static func write(_ runs: [Input], to directory: String, render: Bool = true, title: String? = nil, tables: [ExtraTable] = [],
                             leading: (String) throws -> [String] = { _ in [] }) throws -> String {
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ReportError("cannot create output folder \(directory): \(error.localizedDescription)")
        }
        guard fm.isWritableFile(atPath: directory) else { throw ReportError("output folder \(directory) is not writable") }
        var sections: [String] = tables.map { "<section><h2>\(escape($0.title))</h2>\n<p>\(escape($0.note))</p>\n" + table($0.rows) + "<p class='files'>Data: <a href='\($0.name).csv'>\($0.name).csv</a></p></section>" }
        for t in tables {
            let csv = RunExport.csv(RunExport.Table(name: t.name, header: t.rows.first ?? [], rows: Array(t.rows.dropFirst())))
            try csv.write(toFile: directory + "/" + t.name + ".csv", atomically: true, encoding: .utf8)
        }
        sections += try leading(directory).filter { !$0.isEmpty }.map { "<section>\($0)</section>" }
        var prepared: [(Input, Trace, RunAnalysis, RunSummary)] = []
        for run in runs {
            let trace = RunExport.completed(info: run.info, trace: run.trace)
            let analysis = RunAnalysis(trace: trace)
            prepared.append((run, trace, analysis, RunSummary(info: run.info, trace: trace, analysis: analysis)))
        }
        if prepared.count > 1 {
            sections.append(try comparison(prepared, in: directory, render: render))
        }
        for (run, trace, analysis, summary) in prepared {
            sections.append(try section(run.info, trace, analysis, summary, in: directory, render: render))
        }
        let html = page(title: title ?? "migscope report: " + prepared.map { "run \($0.0.info.id ?? 0)" }.joined(separator: ", "), body: sections.joined(separator: "\n"), directory: directory)
        let path = directory + "/report.html"
        try html.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func label(_ info: RunInfo) -> String {
        var parts = ["run \(info.id ?? 0)", info.request.mode.rawValue]
        if let r = info.linkRate { parts.append(r) }
        if let m = info.linkModel { parts.append(m) }
        if let w = info.workload { parts.append(w.mode.rawValue) }
        if info.storagePriority == true { parts.append("storage first") }
        if info.request.tuningWords != "none" { parts.append(info.request.tuningWords) }
        return parts.joined(separator: " ")
    }

    // MARK: one run

    static func section(_ info: RunInfo, _ trace: Trace, _ a: RunAnalysis, _ s: RunSummary, in dir: String, render: Bool) throws -> String {
        let id = info.id ?? 0
        let runDir = dir + "/run-\(id)"
        try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
        _ = try RunExport.write(RunExport.tables(info: info, trace: trace, analysis: a, summary: s), to: runDir, format: .csv)
        let t0 = a.migrationStartS ?? 0
        var html = "<section><h2>\(escape(label(info)))</h2>\n"
        if info.isIncomplete {
            let last = (trace.samples.map(\.t) + trace.events.map(\.t)).max() ?? 0
            html += "<p class='warn'>Incomplete run: the recorder stopped at t = \(String(format: "%.1f", last - t0)) s (from the migration's start) before the run ended. What it committed is shown; rounds are rebuilt from its events and polls.</p>\n"
        }
        html += "<p>\(escape(info.request.source)) &rarr; \(escape(info.request.destination)); \(escape(s.convergence ?? ""))</p>\n"
        html += table(summaryRows(info, s, a))

        let timeline = try timelineFigure(info, trace, a, t0, in: runDir, render: render)
        let network = try networkFigure(info, trace, a, t0, in: runDir, render: render)
        let roundsFigure = try self.roundsFigure(info, trace, in: runDir, render: render)
        html += figure(timeline.png, "Figures 1-4 (timeline): the guest's read throughput; the shaded band is the migration, dotted lines the pre-copy rounds, red the guest's pause (stop-and-copy), green its resume on the destination.")
        html += network
        html += roundsFigure
        html += table(roundRows(trace.rounds, t0))
        html += "<p class='files'>Data: <a href='run-\(id)/rounds.csv'>rounds.csv</a>, <a href='run-\(id)/samples.csv'>samples.csv</a>, <a href='run-\(id)/links.csv'>links.csv</a>, <a href='run-\(id)/events.csv'>events.csv</a>, <a href='run-\(id)/job.csv'>job.csv</a>, <a href='run-\(id)/summary.csv'>summary.csv</a>; figures as SVG: <a href='run-\(id)/timeline.svg'>timeline</a>, <a href='run-\(id)/network.svg'>network</a>, <a href='run-\(id)/rounds.svg'>rounds</a>.</p>\n"
        return html + "</section>"
    }

    /// Timeline: the guest's I/O, the migration window, rounds, pause and resume.
    static func timelineFigure(_ info: RunInfo, _ trace: Trace, _ a: RunAnalysis, _ t0: Double, in runDir: String, render: Bool) throws -> (png: String, svg: String) {
        let guest = trace.samples.filter { $0.series == .guest }
        let host = RunAnalysis.stitchedHostSeries(trace.samples, handoverS: a.handoverS, completed: trace.firstEvent(.migrationCompleted) != nil)
        try tsv(guest.map { [$0.t - t0, $0.readBytesPerSecond / 1e6] }, to: runDir + "/guest.tsv")
        try tsv(binned(host, width: 1).map { [$0.t - t0, $0.v / 1e6] }, to: runDir + "/host.tsv")
        var plots: [String] = []
        // The cap migscope set on the stream (the pacer's moves), as a step line on the same scale.
        let caps = capSteps(trace)
        if !caps.isEmpty {
            try tsv(caps.map { [$0.t - t0, $0.mbps] }, to: runDir + "/cap.tsv", breakGaps: false)
            plots.append("'cap.tsv' using 1:2 with steps lw 2 dt 2 lc rgb '#8e44ad' title 'cap on the migration stream, set by migscope (MB/s)'")
        }
        if !host.isEmpty { plots.append("'host.tsv' using 1:2 with steps lw 1.5 lc rgb '#8a96a3' title 'host-side block counters, 1 s means (MB/s)'") }
        if !guest.isEmpty { plots.append("'guest.tsv' using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc rgb '#1f5fbf' title 'guest read rate, measured inside the VM (MB/s)'") }
        if plots.isEmpty { plots.append("NaN notitle") }
        return try Gnuplot.render("timeline", body: """
            set title \(Gnuplot.quote("Guest read throughput during migration: " + label(info)))
            set xlabel "time from migration start (s)"
            set ylabel "read throughput (MB/s)"
            set yrange [0:*]
            set grid
            set key top right box opaque
            set datafile missing "?"
            \(markers(trace, a, t0))
            plot \(plots.joined(separator: ", \\\n     "))
            """, in: runDir, render: render)

    }

    /// Network: each link and direction, with the link's rate as the ceiling.
    static func networkFigure(_ info: RunInfo, _ trace: Trace, _ a: RunAnalysis, _ t0: Double, in runDir: String, render: Bool) throws -> String {
        var netPlots: [String] = []
        let links = Dictionary(grouping: trace.links) { LinkKey(link: $0.link, direction: $0.direction) }
        // Directions that carried (almost) nothing only clutter the figure; they stay in links.csv.
        for (i, key) in links.keys.sorted(by: { $0.text < $1.text }).enumerated() where (links[key]!.map(\.bytesPerSecond).max() ?? 0) * 8 > 500_000 {
            let file = "link-\(i).tsv"
            try tsv(links[key]!.map { [$0.t - t0, $0.bytesPerSecond * 8 / 1e6] }, to: runDir + "/" + file)
            netPlots.append("'\(file)' using 1:2 with lines lw 2 title \(Gnuplot.quote(linkTitle(key, info)))")
        }
        var ceiling = ""
        if let rate = info.linkRate.flatMap(LinkRate.init)?.bitsPerSecond {
            ceiling = "set arrow from graph 0, first \(Double(rate) / 1e6) to graph 1, first \(Double(rate) / 1e6) nohead lw 2 dt 2 lc rgb '#c0392b' front\nset label 'link rate \(info.linkRate ?? "")' at graph 0.01, first \(Double(rate) / 1e6 * 1.03) tc rgb '#c0392b'"
        }
        guard !netPlots.isEmpty else {
            return "<p>No link counters were recorded for this run (not the embedded lab, and no --interface).</p>"
        }
        do {
            let n = try Gnuplot.render("network", body: """
                set title \(Gnuplot.quote("Link throughput: " + label(info)))
                set xlabel "time from migration start (s)"
                set ylabel "throughput (Mbit/s)"
                set yrange [0:*]
                set grid
                set key outside right top
                \(markers(trace, a, t0, rounds: false))
                \(ceiling)
                plot \(netPlots.joined(separator: ", \\\n     "))
                """, in: runDir, render: render)
            return figure(n.png, "Figure 5 (network): what each link carried, each direction. Host A's 'sent' is the migration stream; its 'received' is the guest's iSCSI reads.")
        }

    }

    /// Rounds: bytes sent and the dirty rate, per round.
    static func roundsFigure(_ info: RunInfo, _ trace: Trace, in runDir: String, render: Bool) throws -> String {
        guard !trace.rounds.isEmpty else { return "" }
        do {
            try tsv(trace.rounds.map { [Double($0.number), Double($0.bytesSent) / 1_048_576, $0.dirtyBytesPerSecond.map { Double($0) / 1e6 } ?? .nan, $0.stopAndCopy ? 1 : 0] }, to: runDir + "/rounds.tsv", breakGaps: false)
            // A run whose rounds have no dirty rate (one non-live round) has no line to draw.
            let dirtyLine = trace.rounds.contains { $0.dirtyBytesPerSecond != nil }
                ? ", \\\n     'rounds.tsv' using 1:3 axes x1y2 with linespoints lw 2 pt 7 lc rgb '#e67e22' title 'dirty rate (MB/s)'" : ""
            let r = try Gnuplot.render("rounds", body: """
                set title \(Gnuplot.quote("Pre-copy rounds: " + label(info)))
                set xlabel "round"
                set ylabel "bytes sent in the round (MiB)"
                \(dirtyLine.isEmpty ? "" : "set y2label \"dirty rate (MB/s)\"\nset y2tics\nset y2range [0:*]")
                set ytics nomirror
                set yrange [0:*]
                set grid
                set style fill solid 0.7 border -1
                set boxwidth 0.6
                set xtics 1
                set key top right box opaque
                set datafile missing "?"
                plot 'rounds.tsv' using 1:($4 == 0 ? $2 : NaN) with boxes lc rgb '#1f5fbf' title 'pre-copy round: MiB sent', \\
                     'rounds.tsv' using 1:($4 == 1 ? $2 : NaN) with boxes lc rgb '#c0392b' title 'stop-and-copy: MiB sent'\(dirtyLine)
                """, in: runDir, height: 420, render: render)
            return figure(r.png, "Rounds: how much each round sent, and how fast the guest dirtied memory meanwhile.")
        }
    }

    /// What a link direction carried, where the run says which link is whose.
    static func linkTitle(_ key: LinkKey, _ info: RunInfo) -> String {
        let role: String? = switch (key.link == info.sourceLink, key.link == info.destinationLink, key.direction) {
        case (true, _, .sent): "\(HostRole.source.rawValue): migration stream out"
        case (true, _, .received): "\(HostRole.source.rawValue): the guest's storage reads"
        case (_, true, .received): "\(HostRole.destination.rawValue): migration stream in"
        case (_, true, .sent): HostRole.destination.rawValue
        default: key.link == "storage" && key.direction == .sent ? "iSCSI data to the hosts" : nil
        }
        return role.map { "\(key.text) (\($0))" } ?? key.text
    }

    /// One direction of one link, as the network figure draws it.
    struct LinkKey: Hashable {
        var link: String
        var direction: LinkSample.Direction
        var text: String { "\(link) \(direction.rawValue)" }
    }

    /// Means over `width`-second bins: the host counters sampled every 100 ms are read in 1 MiB
    /// requests and would draw as a comb; the CSV keeps every sample.
    static func binned(_ samples: [IOSample], width: Double) -> [(t: Double, v: Double)] {
        var bins: [Int: (sum: Double, n: Int)] = [:]
        for s in samples {
            let k = Int((s.t / width).rounded(.down))
            bins[k, default: (0, 0)].sum += s.readBytesPerSecond
            bins[k, default: (0, 0)].n += 1
        }
        return bins.keys.sorted().map { k in ((Double(k) + 1) * width, bins[k]!.sum / Double(bins[k]!.n)) }
    }

    /// The stream's cap from its events: each change held until the next, a lifted cap ending the
    /// line (NaN breaks it), until the migration's end.
    static func capSteps(_ trace: Trace) -> [(t: Double, mbps: Double)] {
        let events = trace.events.filter { $0.kind == .speedCapSet }
        guard !events.isEmpty else { return [] }
        var steps = events.map { (t: $0.t, mbps: $0.facts.rateBytesPerSecond.map { $0 / 1e6 } ?? .nan) }
        if let end = trace.events.first(where: { [.migrationCompleted, .migrationFailed, .migrationAborted].contains($0.kind) })?.t,
           let last = steps.last, !last.mbps.isNaN {
            steps.append((end, last.mbps))
        }
        return steps
    }

    /// gnuplot objects for the migration window, the rounds, the pause and the resume.
    static func markers(_ trace: Trace, _ a: RunAnalysis, _ t0: Double, rounds: Bool = true) -> String {
        var lines: [String] = []
        if let s = a.migrationStartS, let e = a.migrationEndS {
            lines.append("set object 1 rect from \(s - t0), graph 0 to \(e - t0), graph 1 fc rgb '#dbe6f5' fs solid 0.6 noborder behind")
            lines.append("set label 'migration' at \(s - t0), graph 1.02 left")
        }
        if rounds {
            let every = max(1, trace.rounds.count / 20)
            for (i, r) in trace.rounds.enumerated() where !r.stopAndCopy {
                lines.append("set arrow from \(r.startS - t0), graph 0 to \(r.startS - t0), graph 0.92 nohead dt 3 lc rgb '#555555'")
                if i % every == 0 { lines.append("set label 'R\(r.number)' at \(r.startS - t0), graph 0.95 center font ',8'") }
            }
        }
        if let p = a.pausedAtS {
            lines.append("set arrow from \(p - t0), graph 0 to \(p - t0), graph 1 nohead lw 2 lc rgb '#c0392b'")
            lines.append("set label 'paused' at \(p - t0), graph 0.88 right tc rgb '#c0392b' offset -0.5,0")
        }
        if let p = a.postcopyStartS, let e = a.migrationEndS {
            // Post-copy: the guest runs on the destination while it fetches the pages it lacks.
            lines.append("set object 2 rect from \(p - t0), graph 0 to \(e - t0), graph 1 fc rgb '#f6e3c8' fs solid 0.6 noborder behind")
            lines.append("set label 'post-copy' at \(p - t0), graph 0.76 left tc rgb '#b9770e' offset 0.5,0")
        }
        if let r = trace.events.first(where: { $0.kind == .guestResumed && $0.facts.host == .destination }) {
            lines.append("set arrow from \(r.t - t0), graph 0 to \(r.t - t0), graph 1 nohead lw 2 lc rgb '#27ae60'")
            lines.append("set label 'resumed on destination' at \(r.t - t0), graph 0.82 left tc rgb '#27ae60' offset 0.5,0")
        }
        return lines.joined(separator: "\n")
    }

    static func summaryRows(_ info: RunInfo, _ s: RunSummary, _ a: RunAnalysis) -> [[String]] {
        func mbps(_ x: Double?) -> String { x.map { String(format: "%.2f MB/s", $0 / 1e6) } ?? "-" }
        let rows: [[String]] = [
            ["", "value"],
            ["status", info.status.shown],
            ["mode / link", "\(s.mode) / \(s.bandwidth ?? "?") \(s.linkModel ?? "")"],
            ["migration time", s.migrationSeconds.map { String(format: "%.2f s", $0) } ?? "-"],
            ["downtime (hypervisor)", s.downtimeMs.map { String(format: "%.0f ms", $0) } ?? "-"],
            ["downtime the guest saw", s.guestGapMs.map { String(format: "%.0f ms", $0) } ?? "-"],
            ["rounds", "\(s.rounds)"],
            ["bytes sent", s.bytesSent.map { Format.bytes($0) } ?? "-"],
            ["bytes sent / guest memory", s.bytesSentOverMemory.map { String(format: "%.2f", $0) } ?? "-"],
            ["guest I/O before (mean, \(a.ioSeries?.rawValue ?? "-"))", mbps(s.ioBefore)],
            ["guest I/O during", mbps(s.ioDuring)],
            ["guest I/O after", mbps(s.ioAfter)],
            ["during / before", s.ioDuringRatio.map { String(format: "%.0f %%", $0 * 100) } ?? "-"],
            ["guest I/O during, p10 / p50 / p90", a.during.map { String(format: "%.2f / %.2f / %.2f MB/s", $0.p10ReadBytesPerSecond / 1e6, $0.p50ReadBytesPerSecond / 1e6, $0.p90ReadBytesPerSecond / 1e6) } ?? "-"],
            ["workload's total time", s.workloadSeconds.map { String(format: "%.1f s", $0) } ?? "- (it reads forever)"],
            ["workload during the migration", s.workloadWindow ?? "-"],
            ["guest console lines dropped (untrue or over-long)", s.guestLinesDropped.map(String.init) ?? "0"],
            ["re-sent bytes the guest's reads explain", s.ioExplainedResentShare.map { String(format: "%.0f %%", $0 * 100) } ?? "- (nothing re-sent)"],
            ["re-sent per byte read", s.resentPerByteRead.map { String(format: "%.2f", $0) } ?? "-"],
        ]
        return rows + forecastRows(info, s) + environmentRows(info) + info.notes.map { ["note", $0] }
    }

    /// What `--predict` said beside what happened, with the error of each figure.
    static func forecastRows(_ info: RunInfo, _ s: RunSummary) -> [[String]] {
        guard let f = info.forecast else { return [] }
        let p = f.prediction
        func pair(_ predicted: Double?, _ measured: Double?, _ unit: (Double) -> String) -> String {
            let text = "\(predicted.map(unit) ?? "never ends") predicted / \(measured.map(unit) ?? "-") measured"
            guard let a = predicted, let b = measured, b > 0 else { return text }
            return text + String(format: " (%+.0f %%)", (a - b) / b * 100)
        }
        let ending: String = switch p.ending {
        case .converged: "converges by itself"
        case .hypervisorRoundLimit: "the hypervisor's round limit"
        case .stopRule(let why): why
        case .timeout: "the timeout"
        case .nonLive: "non-live"
        case .neverConverges: "does not converge"
        }
        return [
            ["prediction", "\(ending)\(f.closeCall == true ? " (a close call: the answer turns on the dirty rate within measuring error)" : ""); dirty rate \(Format.rate(f.inputs.dirtying.bytesPerSecond))\(f.inputs.dirtying.workingSetBytes.map { ", working set \(Format.bytes($0))" } ?? "")\(f.inputs.dirtying.cacheFill.map { ", reads through the page cache cycling \(Format.bytes($0.poolBytes))" } ?? ""), stream \(Format.rate(f.inputs.streamBytesPerSecond)) (\(f.streamRateFrom))"
                + (f.zeroBytesFrom.map { "; \(Format.bytes(f.inputs.zeroBytes)) never written, from \($0)" } ?? "")
                + (f.dirtyRate.readBytesPerSecond.map { "; the guest read \(Format.rate($0)) meanwhile" } ?? "")],
            ["migration time", pair(p.migrationSeconds, s.migrationSeconds) { String(format: "%.1f s", $0) }],
            ["downtime", pair(p.downtimeMs, s.downtimeMs) { String(format: "%.0f ms", $0) }],
            ["rounds", pair(p.completes ? Double(p.rounds.count) : nil, Double(s.rounds)) { String(format: "%.0f", $0) }],
            ["bytes sent", pair(p.completes ? p.bytesSent : nil, s.bytesSent.map { Double($0) }) { Format.bytes($0) }],
        ]
    }

    /// What the run ran on: the guest's settings, the accelerator, each host's software.
    static func environmentRows(_ info: RunInfo) -> [[String]] {
        var rows: [[String]] = []
        if let d = info.domain {
            let memory = d.memoryBytes.map { Format.bytes($0) } ?? "?"
            rows.append(["guest", "\(d.name): \(memory), \(d.virtualCPUs.map { "\($0) vCPU" } ?? "? vCPU"), disks \(d.disks.isEmpty ? "-" : d.disks.joined(separator: ", "))"])
        }
        rows.append(["accelerator", info.accelerator ?? "unknown"])
        guard let v = info.software else { return rows + [["software", "not recorded (a run made before migscope stored it)"]] }
        rows.append(["migscope / libvirt library", "\(v.migscope) / \(v.libvirtLibrary)"])
        rows.append(["this machine", "Linux \(v.localKernel); \(v.localQEMU ?? "no QEMU"); \(v.localXen.map { "Xen \($0)" } ?? "not a Xen host")"])
        for h in v.hosts {
            rows.append(["host \(h.uri)", "\(h.hostname ?? "?"): libvirt \(h.libvirtVersion ?? "?"), \(h.driver ?? "?") \(h.hypervisorVersion ?? "?")\(h.kernel.map { ", Linux \($0)" } ?? "")"])
        }
        return rows
    }

    static func roundRows(_ rounds: [RoundRecord], _ t0: Double) -> [[String]] {
        [["round", "start (s)", "duration (s)", "sent", "dirty rate", "pages dirtied", "left at start", "rate", "stop-and-copy"]]
            + rounds.map { r in
                ["\(r.number)", String(format: "%.2f", r.startS - t0), String(format: "%.2f", r.endS - r.startS), Format.bytes(r.bytesSent),
                 r.dirtyBytesPerSecond.map { Format.rate(Double($0)) } ?? "-", r.pagesDirtied.map(String.init) ?? "-",
                 r.remainingBytesAtStart.map { Format.bytes($0) } ?? "-", Format.rate(r.transferBytesPerSecond), r.stopAndCopy ? "yes" : ""]
            }
    }

    // MARK: several runs

    static func comparison(_ runs: [(Input, Trace, RunAnalysis, RunSummary)], in dir: String, render: Bool) throws -> String {
        let cmpDir = dir + "/comparison"
        try FileManager.default.createDirectory(atPath: cmpDir, withIntermediateDirectories: true)
        var plots: [String] = []
        for (run, trace, a, _) in runs {
            let t0 = a.migrationStartS ?? 0
            let guest = trace.samples.filter { $0.series == .guest }
            let series = guest.isEmpty ? RunAnalysis.stitchedHostSeries(trace.samples, handoverS: a.handoverS, completed: trace.firstEvent(.migrationCompleted) != nil) : guest
            let file = "run-\(run.info.id ?? 0).tsv"
            try tsv(series.map { [$0.t - t0, $0.readBytesPerSecond / 1e6] }, to: cmpDir + "/" + file)
            let end = a.migrationSeconds.map { String(format: ", migration %.0f s", $0) } ?? ""
            plots.append("'\(file)' using 1:2 with lines lw 2 title \(Gnuplot.quote(label(run.info) + end))")
        }
        let fig = try Gnuplot.render("comparison", body: """
            set title "Guest read throughput, runs overlaid (t = 0 at each migration's start)"
            set xlabel "time from migration start (s)"
            set ylabel "read throughput (MB/s)"
            set yrange [0:*]
            set grid
            set key outside right top
            set arrow from 0, graph 0 to 0, graph 1 nohead lw 2 dt 2 lc rgb '#555555'
            plot \(plots.joined(separator: ", \\\n     "))
            """, in: cmpDir, width: 1300, render: render)
        var rows: [[String]] = [["run", "mode", "link", "migration (s)", "downtime (ms)", "guest-seen gap (ms)", "I/O during / before", "workload total (s)", "bytes sent", "rounds", "outcome"]]
        for (run, _, _, s) in runs {
            rows.append([
                "\(run.info.id ?? 0)", s.mode.rawValue, "\(s.bandwidth ?? "?") \(s.linkModel ?? "")",
                s.migrationSeconds.map { String(format: "%.2f", $0) } ?? "-", s.downtimeMs.map { String(format: "%.0f", $0) } ?? "-",
                s.guestGapMs.map { String(format: "%.0f", $0) } ?? "-", s.ioDuringRatio.map { String(format: "%.0f %%", $0 * 100) } ?? "-",
                s.workloadSeconds.map { String(format: "%.1f", $0) } ?? "-", s.bytesSent.map { Format.bytes($0) } ?? "-", "\(s.rounds)",
                run.info.isIncomplete ? RunStatus.recording.shown : s.outcome.shown,
            ])
        }
        let csv = RunExport.csv(RunExport.Table(name: "comparison", header: rows[0], rows: Array(rows.dropFirst())))
        try csv.write(toFile: cmpDir + "/comparison.csv", atomically: true, encoding: .utf8)
        return "<section><h2>Comparison</h2>\n" + figure(fig.png, "The runs' guest read throughput on one time axis.") + table(rows)
            + "<p class='files'>Data: <a href='comparison/comparison.csv'>comparison.csv</a>; figure as <a href='comparison/comparison.svg'>SVG</a>.</p></section>"
    }

    // MARK: HTML

    static func figure(_ png: String, _ caption: String) -> String {
        guard let image = FileManager.default.contents(atPath: png) else {
            return "<figure><p class='note'>Figure \(escape(Gnuplot.missing)).</p><figcaption>\(escape(caption))</figcaption></figure>\n"
        }
        let data = image.base64EncodedString()
        return "<figure><img alt='\(escape(caption))' src='data:image/png;base64,\(data)'/><figcaption>\(escape(caption))</figcaption></figure>\n"
    }

    static func table(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var h = "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for r in rows.dropFirst() { h += "<tr>" + r.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
        return h + "</table>\n"
    }

    static func page(title: String, body: String, directory: String) -> String {
        """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body { font-family: sans-serif; max-width: 1320px; margin: 1em auto; color: #222; }
        h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
        figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #ddd; }
        figcaption { font-size: .9em; color: #555; }
        table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
        td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
        td:first-child, th:first-child { text-align: left; }
        .warn { background: #fff3cd; border: 1px solid #e0c36c; padding: .5em; }
        .files { font-size: .85em; }
        </style></head><body>
        <h1>\(escape(title))</h1>
        <p>Made by migscope \(Date().formatted(.iso8601)). Times are seconds from each migration's start.</p>
        \(body)
        </body></html>

        """
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&#39;")
    }

    /// Writes rows for gnuplot. Time series (first column time) get a blank line where samples stop
    /// for much longer than usual (a paused guest), so the curve breaks there instead of drawing a
    /// straight line across the silence.
    static func tsv(_ rows: [[Double]], to path: String, breakGaps: Bool = true) throws {
        var s = ""
        s.reserveCapacity(rows.count * 24)
        let gaps = zip(rows, rows.dropFirst()).map { $1[0] - $0[0] }.sorted()
        let usual = gaps.isEmpty ? 0 : gaps[gaps.count / 2]
        var previous: Double? = nil
        for r in rows {
            if breakGaps, let p = previous, usual > 0, r[0] - p > max(2.5 * usual, usual + 1) { s += "\n" }
            previous = r[0]
            var first = true
            for v in r {
                if !first { s += "\t" }
                // NaN: no value (a round with no dirty rate); gnuplot skips "?" with `set datafile missing`.
                s += v.isNaN ? "?" : NumberText.fixed(v, 4)
                first = false
            }
            s += "\n"
        }
        if rows.isEmpty { s = "NaN\tNaN\n" }
        try s.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
