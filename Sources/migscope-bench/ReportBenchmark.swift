import Foundation
import MigscopeCore
import MigscopeReport
import MigscopeStore

/// How long a report of a long run takes, and what memory it needs.
enum ReportBenchmark {
    static func peakRSSMiB() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_maxrss) / 1024
    }

    /// A run of `minutes` with every series at 20 Hz: guest and two hosts' counters, six link
    /// directions, job polls; a migration in the middle with 30 rounds.
    static func synthetic(minutes: Int) -> (RunInfo, TraceBatch, [RoundRecord]) {
        let seconds = Double(minutes * 60)
        let migStart = seconds / 2, migEnd = migStart + 120
        var b = TraceBatch()
        b.events.append(EventRecord(t: 0, kind: .recordingStarted))
        b.events.append(EventRecord(t: migStart, kind: .migrationStarted, detail: "live"))
        var rounds: [RoundRecord] = []
        for r in 1...30 {
            let s = migStart + Double(r - 1) * 4
            b.events.append(EventRecord.roundStarted(t: s, round: r))
            rounds.append(RoundRecord(number: r, startS: s, endS: s + 4, bytesSent: 40_000_000, dirtyPagesPerSecond: 900, dirtyBytesPerSecond: 900 * 4096,
                                      remainingBytesAtStart: 40_000_000, remainingBytesAtEnd: 1_000_000, pagesDirtied: 900, transferBytesPerSecond: 1e7, stopAndCopy: r == 30))
        }
        b.events.append(EventRecord.guestPaused(t: migEnd - 1, on: .source))
        b.events.append(EventRecord.guestResumed(t: migEnd, on: .destination))
        b.events.append(EventRecord.migrationCompleted(t: migEnd + 0.1, location: .destination, downtimeMs: 800, bytesSent: 1200000000, rounds: 30))
        var t = 0.05
        var i = 0
        while t < seconds {
            let during = t > migStart && t < migEnd
            let rate = during ? 2e6 + Double(i % 7) * 1e5 : 1.2e7 + Double(i % 5) * 1e5
            b.samples.append(IOSample(t: t, series: .guest, host: IOSample.guestOrigin, readBytesPerSecond: rate, writeBytesPerSecond: 0))
            b.samples.append(IOSample(t: t, series: .host, host: HostRole.source.rawValue, readBytesPerSecond: t < migEnd ? rate : 0, writeBytesPerSecond: 0, readOpsPerSecond: 10, writeOpsPerSecond: 0))
            b.samples.append(IOSample(t: t, series: .host, host: HostRole.destination.rawValue, readBytesPerSecond: t >= migEnd ? rate : 0, writeBytesPerSecond: 0, readOpsPerSecond: 10, writeOpsPerSecond: 0))
            for link in ["hostA", "hostB", "storage"] {
                b.links.append(LinkSample(t: t, link: link, direction: .sent, bytesPerSecond: rate))
                b.links.append(LinkSample(t: t, link: link, direction: .received, bytesPerSecond: rate / 2))
            }
            if during {
                b.jobSamples.append(JobSample(t: t, progress: JobProgress(iteration: UInt64((t - migStart) / 4) + 1, dirtyRatePagesPerSecond: 900, pageSizeBytes: 4096,
                                                                          memoryTotalBytes: 1 << 30, memoryProcessedBytes: UInt64((t - migStart) * 1e7), memoryRemainingBytes: 1 << 28)))
            }
            t += 0.05
            i += 1
        }
        b.events.append(EventRecord(t: seconds, kind: .recordingEnded))
        var info = RunInfo(backend: "synthetic", request: MigrationRequest(domain: "g", source: "qemu:///a", destination: "qemu:///b"),
                           domain: DomainFacts(name: "g", uuid: "u", memoryBytes: 1 << 30), anchor: Date(), linkRate: "100mbit", linkModel: "shared",
                           status: .completed, outcome: .completed)
        info.sourceLink = "hostA"
        info.destinationLink = "hostB"
        return (info, b, rounds)
    }

    static func run(minutes: Int) throws {
        let dir = NSTemporaryDirectory() + "/migscope-report-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (info, batch, rounds) = synthetic(minutes: minutes)
        let rows = batch.samples.count + batch.links.count + batch.jobSamples.count + batch.events.count
        let store = try ResultsStore(path: dir + "/bench.sqlite")
        let id = try store.begin(info)
        let w0 = ContinuousClock.now
        try store.append(runID: id, batch)
        var trace = Trace()
        trace.rounds = rounds
        try store.finish(runID: id, info: info, rounds: rounds, summary: RunSummary(info: info, trace: trace, analysis: RunAnalysis(trace: trace)))
        print(String(format: "synthetic run: %d min, %d rows at 20 Hz; written to SQLite in %.2f s", minutes, rows, (ContinuousClock.now - w0).secondsDouble))
        let rss0 = peakRSSMiB()

        for render in [false, true] {
            let c0 = ContinuousClock.now
            let stored = try store.run(id)
            let loaded = (ContinuousClock.now - c0).secondsDouble
            let page = try RunReport.write([RunReport.Input(info: stored.info, trace: stored.trace)], to: dir + "/report-\(render)", render: render)
            let total = (ContinuousClock.now - c0).secondsDouble
            let size = ((try? FileManager.default.attributesOfItem(atPath: page))?[.size] as? Int) ?? 0
            print(String(format: "report %@: %.2f s (load %.2f s, analysis + tables + data files %.2f s), HTML %d KiB, peak RSS %.0f MiB",
                         render ? "with gnuplot rendering   " : "without gnuplot rendering", total, loaded, total - loaded, size / 1024, peakRSSMiB()))
        }
        print(String(format: "peak RSS after building the synthetic run (before loading): %.0f MiB", rss0))
    }
}
