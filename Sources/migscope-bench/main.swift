@preconcurrency import Glibc
import Foundation

import MigscopeCore
import MigscopeProbes
import MigscopeLab
import MigscopeLibvirt

// Benchmarks that print figures; they assert nothing.
//
//   swift run -c release migscope-bench recorder [pairs]   (root: uses the embedded lab)
//   swift run -c release migscope-bench report [minutes]
//   swift run -c release migscope-bench predict [repetitions]  (root: the lab; see PredictionBenchmark)
//
// recorder:
// 1. Cost: live migrations A -> B with and without recording, alternating, `pairs` times each
//    (the guest is moved back non-live between them); the ratio of mean migration times and the
//    recorder's CPU time per second of migration.
// 2. Fidelity: achieved sampling intervals (p50, p99) of both sampling loops at 100 ms and 50 ms.
// report: a synthetic run of `minutes` (default 60) with every series at 20 Hz, stored in a results
// database, then loaded and reported: time and peak memory without gnuplot's rendering, and with it.

// A line at a time even into a file: a benchmark's log is read while it runs.
setvbuf(stdout, nil, _IOLBF, 0)
let args = Array(CommandLine.arguments.dropFirst())
if args.first == "report" {
    try ReportBenchmark.run(minutes: args.dropFirst().first.flatMap(Int.init) ?? 60)
    exit(0)
}
if args.first == "predict" {
    do { try await PredictionBenchmark.run(repetitions: args.dropFirst().first.flatMap(Int.init) ?? 1) } catch {
        print("migscope-bench: \(error)")
        exit(1)
    }
    exit(0)
}
guard args.first == "recorder" else {
    print("usage: migscope-bench recorder [pairs] | report [minutes] | predict [repetitions]")
    exit(2)
}
let pairs = args.dropFirst().first.flatMap(Int.init) ?? 4
let settings = LabSettings(bandwidth: .mbit(100), link: .fullDuplex, guestMemoryMiB: 256,
                           workload: Workload(mode: .direct, blockSizeKiB: 1024, amountMiB: 0), diskSizeMiB: 512)

func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}

/// CPU seconds the lab's libvirt daemons have used (utime + stime from /proc/PID/stat).
func daemonCPUSeconds() -> Double {
    let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
    return Lab.daemonPIDs().reduce(0) { sum, pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return sum }
        let f = stat[stat.index(after: close)...].split(separator: " ")
        // Fields after the command: state is 0, utime 11, stime 12.
        guard f.count > 12, let u = Double(f[11]), let s = Double(f[12]) else { return sum }
        return sum + (u + s) / hz
    }
}

func bringBackToA() async throws {
    if Lab.guestHost() == .hostB {
        let r = MigrationRequest(domain: LabLayout.guestName, source: LabMachine.hostB.libvirtURI, destination: LabMachine.hostA.libvirtURI, mode: .nonLive)
        _ = await MigrationRunner().run(try await LibvirtBackend().prepare(r))
    }
}

/// One live A -> B migration; returns its time and this process's CPU seconds spent meanwhile.
func migrate(recorded interval: Duration?) async throws -> (seconds: Double, cpu: Double, daemons: Double, intervals: SamplingIntervals?) {
    try await bringBackToA()
    let a = LabMachine.hostA.libvirtURI, b = LabMachine.hostB.libvirtURI
    let request = MigrationRequest(domain: LabLayout.guestName, source: a, destination: b, transport: .peerToPeer, pauseAfterSeconds: 120)
    let session = try await LibvirtBackend().prepare(request)
    let cpu0 = cpuSeconds()
    let d0 = daemonCPUSeconds()
    if let interval {
        let lab = Lab.recordingContext(source: a, destination: b)!
        let recorder = Recorder(settings: RecorderSettings(interval: interval, baseline: .zero, tail: .zero),
                                sink: nil, console: ConsoleTailer(path: lab.consolePath), links: lab.links)
        let run = try await recorder.record(session, info: RunInfo(backend: "libvirt", request: request, anchor: Date()))
        guard let m = run.migration, m.succeeded else { throw LabError("recorded migration did not complete") }
        return (m.elapsedSeconds, cpuSeconds() - cpu0, daemonCPUSeconds() - d0, run.intervals)
    }
    // Without recording: the runner alone, polling nothing but the job's end.
    let m = await MigrationRunner(pollInterval: .seconds(3600)).run(session)
    guard m.succeeded else { throw LabError("migration did not complete") }
    return (m.elapsedSeconds, cpuSeconds() - cpu0, daemonCPUSeconds() - d0, nil)
}

func pct(_ v: [Double], _ p: Double) -> String {
    Statistics.percentile(v, p).map { String(format: "%.1f ms", $0 * 1000) } ?? "-"
}

var broughtUp = false
do {
    if !Lab.isUp() {
        print("bringing up a lab: 256 MiB guest reading O_DIRECT, 100mbit full-duplex")
        try await Lab.up(settings)
        broughtUp = true
    } else if await Lab.status().guest?.host == nil {
        try await Lab.startGuest(on: .hostA)
    }
    let status = await Lab.status()
    print("lab: \(status.link?.bandwidth ?? "?") \(status.link?.model ?? "?"), accelerator \(status.accelerator ?? "?"), guest \(status.guest?.memoryMiB ?? 0) MiB \(status.guest?.workload.mode.rawValue ?? "")")

    var plain: [Double] = [], recorded: [Double] = [], plainCPU: [Double] = [], recordedCPU: [Double] = []
    var plainDaemons: [Double] = [], recordedDaemons: [Double] = []
    for i in 1...pairs {
        // Alternate which goes first, so drift does not favour one.
        for withRecorder in (i % 2 == 0 ? [true, false] : [false, true]) {
            let r = try await migrate(recorded: withRecorder ? .milliseconds(100) : nil)
            print(String(format: "pair %d %@: %.2f s, migscope cpu %.3f s, libvirtd cpu %.3f s", i, withRecorder ? "recorded" : "plain   ", r.seconds, r.cpu, r.daemons))
            if withRecorder {
                recorded.append(r.seconds); recordedCPU.append(r.cpu); recordedDaemons.append(r.daemons)
            } else {
                plain.append(r.seconds); plainCPU.append(r.cpu); plainDaemons.append(r.daemons)
            }
        }
    }
    let mean = { (v: [Double]) in Statistics.mean(v) ?? .nan }
    let sd = { (v: [Double]) in Statistics.standardDeviation(v) ?? .nan }
    print(String(format: "migration time: plain %.2f s (sd %.2f), recorded %.2f s (sd %.2f), ratio %.3f (goal <= 1.02)",
                 mean(plain), sd(plain), mean(recorded), sd(recorded), mean(recorded) / mean(plain)))
    let extraCPU = (recordedCPU.reduce(0, +) - plainCPU.reduce(0, +)) / recorded.reduce(0, +)
    print(String(format: "recorder CPU: %.1f ms per second of migration (%.2f %% of one core) at 100 ms sampling", extraCPU * 1000, extraCPU * 100))
    let extraDaemons = (recordedDaemons.reduce(0, +) - plainDaemons.reduce(0, +)) / recorded.reduce(0, +)
    print(String(format: "libvirtd CPU answering the recorder: %.1f ms per second of migration (%.2f %% of one core)", extraDaemons * 1000, extraDaemons * 100))

    for interval in [Duration.milliseconds(100), .milliseconds(50)] {
        let r = try await migrate(recorded: interval)
        let iv = r.intervals!
        print("sampling every \(Int(interval.secondsDouble * 1000)) ms during a migration: hypervisor loop p50 \(pct(iv.hypervisor, 0.5)) p99 \(pct(iv.hypervisor, 0.99)) (\(iv.hypervisor.count) intervals); links+console loop p50 \(pct(iv.local, 0.5)) p99 \(pct(iv.local, 0.99))")
    }
    try await bringBackToA()
} catch {
    print("migscope-bench: \(error)")
    if broughtUp { Lab.down() }
    exit(1)
}
if broughtUp { Lab.down() }
