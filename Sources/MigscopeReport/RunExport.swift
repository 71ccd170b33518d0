import Foundation
import MigscopeCore

/// A run's data as files a person can open in pandas, R or a spreadsheet. Times are seconds from
/// the migration's start (negative in the baseline).
public enum RunExport {
    public enum Format: String, Sendable, CaseIterable {
        case csv, json
    }

    /// A run as exported: the trace with rounds rebuilt when the recorder died before writing them.
    public struct Table: Sendable {
        public var name: String
        public var header: [String]
        public var rows: [[String]]
    }

    public static func tables(info: RunInfo, trace input: Trace) -> [Table] {
        let trace = completed(info: info, trace: input)
        let analysis = RunAnalysis(trace: trace)
        return tables(info: info, trace: trace, analysis: analysis, summary: RunSummary(info: info, trace: trace, analysis: analysis))
    }

    /// The tables of a run already completed and analysed (the report has done both).
    static func tables(info: RunInfo, trace: Trace, analysis: RunAnalysis, summary: RunSummary) -> [Table] {
        let t0 = analysis.migrationStartS ?? 0
        func t(_ x: Double) -> String { num(x - t0, 3) }

        let rounds = Table(
            name: "rounds",
            header: ["round", "start_s", "end_s", "duration_s", "bytes_sent", "dirty_pages_per_s", "dirty_bytes_per_s", "pages_dirtied",
                     "remaining_bytes", "remaining_end_bytes", "transfer_bytes_per_s", "stop_and_copy"],
            rows: trace.rounds.map { r in
                ["\(r.number)", t(r.startS), t(r.endS), num(r.endS - r.startS, 3), "\(r.bytesSent)", opt(r.dirtyPagesPerSecond),
                 opt(r.dirtyBytesPerSecond), opt(r.pagesDirtied), opt(r.remainingBytesAtStart), opt(r.remainingBytesAtEnd),
                 num(r.transferBytesPerSecond, 0), r.stopAndCopy ? "1" : "0"]
            })
        let stitched = RunAnalysis.stitchedHostSeries(trace.samples, handoverS: analysis.handoverS, completed: trace.firstEvent(.migrationCompleted) != nil)
        let guest = trace.samples.filter { $0.series == .guest }
        let samples = Table(
            name: "samples",
            header: ["t_s", "series", "host", "read_bytes_per_s", "write_bytes_per_s", "read_ops_per_s", "write_ops_per_s"],
            rows: (stitched + guest).sorted { $0.t < $1.t }.map { s in
                [t(s.t), s.series.rawValue, s.host, num(s.readBytesPerSecond, 0), num(s.writeBytesPerSecond, 0),
                 s.readOpsPerSecond.map { num($0, 1) } ?? "", s.writeOpsPerSecond.map { num($0, 1) } ?? ""]
            })
        let links = Table(
            name: "links", header: ["t_s", "link", "direction", "bytes_per_s"],
            rows: trace.links.map { [t($0.t), $0.link, $0.direction.rawValue, num($0.bytesPerSecond, 0)] })
        let events = Table(
            name: "events", header: ["t_s", "event", "detail"],
            rows: trace.events.map { [t($0.t), $0.kind.rawValue, $0.detail] })
        let job = Table(
            name: "job",
            header: ["t_s", "iteration", "processed_bytes", "remaining_bytes", "total_bytes", "dirty_pages_per_s", "bytes_per_s",
                     "cpu_throttle_pct", "postcopy_requests", "speed_cap_bytes_per_s"],
            rows: trace.jobSamples.map { j in
                let p = j.progress
                return [t(j.t), opt(p.iteration), opt(p.memoryProcessedBytes), opt(p.memoryRemainingBytes), opt(p.memoryTotalBytes),
                        opt(p.dirtyRatePagesPerSecond), opt(p.memoryBytesPerSecond), opt(p.cpuThrottlePercent), opt(p.postcopyRequests),
                        opt(p.speedCapBytesPerSecond)]
            })
        let s = summary, e = summary.efficiency
        let summaryTable = Table(
            name: "summary",
            header: ["run", "status", "mode", "bandwidth", "link_model", "migration_s", "downtime_ms", "guest_gap_ms", "rounds", "bytes_sent",
                     "io_before", "io_during", "io_after", "io_during_ratio", "io_series", "workload_s", "workload_active_s", "workload_ended_early", "uuid",
                     "tuning", "link_bytes_per_s", "t0_s", "t0_memory", "guest_link_share", "t0_over_t", "efficiency"],
            rows: [[info.id.map(String.init) ?? "", info.status.shown, s.mode.rawValue, s.bandwidth ?? "", s.linkModel ?? "",
                    s.migrationSeconds.map { num($0, 3) } ?? "", s.downtimeMs.map { num($0, 0) } ?? "", s.guestGapMs.map { num($0, 0) } ?? "",
                    "\(s.rounds)", s.bytesSent.map(String.init) ?? "", s.ioBefore.map { num($0, 0) } ?? "", s.ioDuring.map { num($0, 0) } ?? "",
                    s.ioAfter.map { num($0, 0) } ?? "", s.ioDuringRatio.map { num($0, 4) } ?? "", analysis.ioSeries?.rawValue ?? "",
                    s.workloadSeconds.map { num($0, 2) } ?? "", s.workloadActiveSeconds.map { num($0, 2) } ?? "",
                    s.workloadEndedEarly.map { $0 ? "true" : "false" } ?? "", info.uuid?.uuidString.lowercased() ?? "",
                    s.tuning ?? "", e.map { num($0.linkBytesPerSecond, 0) } ?? "", e.map { num($0.minimumSeconds, 3) } ?? "",
                    e?.memorySource.rawValue ?? "", e.map { num($0.guestShare, 4) } ?? "", e.map { num($0.timeShare, 4) } ?? "",
                    e.map { num($0.efficiency, 4) } ?? ""]])
        return [rounds, samples, links, events, job, summaryTable]
    }

    /// A run whose recorder died has no rounds written; they are rebuilt from its events and polls.
    public static func completed(info: RunInfo, trace: Trace) -> Trace {
        guard trace.rounds.isEmpty, info.isIncomplete else { return trace }
        var t = trace
        let starts = trace.events.filter { $0.kind == .roundStarted }.compactMap { e in e.facts.round.map { ($0, e.t) } }
        t.rounds = RoundBuilder.rounds(.init(
            starts: starts, polls: trace.jobSamples, migrationStartT: trace.firstEvent(.migrationStarted)?.t ?? 0,
            pausedAt: trace.events.first { $0.kind == .guestPaused && $0.facts.host == .source }?.t,
            endT: trace.jobSamples.last?.t ?? trace.events.last?.t ?? 0, final: nil, completed: false))
        return t
    }

    /// Writes every table to `directory` as CSV or JSON; returns the files written.
    public static func write(info: RunInfo, trace: Trace, to directory: String, format: Format) throws -> [String] {
        try write(tables(info: info, trace: trace), to: directory, format: format)
    }

    static func write(_ tables: [Table], to directory: String, format: Format) throws -> [String] {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ExportError("cannot create output folder \(directory): \(error.localizedDescription)")
        }
        guard fm.isWritableFile(atPath: directory) else { throw ExportError("output folder \(directory) is not writable") }
        var written: [String] = []
        for table in tables {
            let path = directory + "/" + table.name + "." + format.rawValue
            let text: String
            switch format {
            case .csv: text = csv(table)
            case .json: text = json(table)
            }
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw ExportError("cannot write \(path): \(error.localizedDescription)")
            }
            written.append(path)
        }
        return written
    }

    public static func csv(_ t: Table) -> String {
        func field(_ s: String) -> String {
            s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") })
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = ""
        out.reserveCapacity((t.rows.count + 1) * 48)
        for row in [t.header] + t.rows {
            var first = true
            for cell in row {
                if !first { out += "," }
                out += field(cell)
                first = false
            }
            out += "\n"
        }
        return out
    }

    /// An array of objects; numbers stay numbers, empty cells become null.
    public static func json(_ t: Table) -> String {
        let objects: [[String: Any]] = t.rows.map { row in
            var o: [String: Any] = [:]
            for (k, v) in zip(t.header, row) { o[k] = v.isEmpty ? NSNull() : (Double(v).map { $0 as Any } ?? v) }
            return o
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func num(_ x: Double, _ digits: Int) -> String { NumberText.fixed(x, digits) }
    static func opt(_ x: UInt64?) -> String { x.map(String.init) ?? "" }
}

public struct ExportError: UserFacingError, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
