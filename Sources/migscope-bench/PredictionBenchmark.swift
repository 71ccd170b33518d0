import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLab

/// How close `migscope predict` comes, on the lab: for an idle guest, a direct reader and a
/// buffered one, at 100 and 10 Mbit/s on a full-duplex link, live, each prediction made just before
/// its migration and set beside what happened. The targets it prints against (issue 15): migration
/// time within 15 % where both converge, converge-or-not right every time, downtime within 30 % or
/// 100 ms.
///
/// The fixed costs of a migration between the lab's hosts (setting up, and the switch-over every
/// stop pays besides memory) are measured first, from an idle guest's migration, and given to every
/// prediction after, as a user gives them with --setup-seconds and --switchover-ms.
enum PredictionBenchmark {
    struct Case {
        var rate: LinkRate
        var workload: Workload.ReadMode
    }

    struct Row {
        var label: String
        var forecast: MigrationForecast
        var predicted: PrecopyModel.Prediction { forecast.prediction }
        var measured: MigrationSummary
        var convergedByItself: Bool { measured.succeeded && !measured.pausedForTimeout }
        var predictedByItself: Bool { predicted.ending == .converged }
    }

    static let a = LabMachine.hostA, b = LabMachine.hostB
    static let memoryMiB = 128

    static func run(repetitions: Int) async throws {
        var broughtUp = false
        if !Lab.isUp() {
            print("bringing up a lab: \(memoryMiB) MiB guest, 100mbit full-duplex")
            _ = try await Lab.up(LabSettings(bandwidth: .mbit(100), link: .fullDuplex, guestMemoryMiB: memoryMiB, workload: Workload(mode: .idle), diskSizeMiB: 1024))
            broughtUp = true
        }
        defer { if broughtUp { Lab.down() } }
        print("accelerator: \(await Lab.status().accelerator ?? "?")")

        // Calibration: idle guests; what memory alone does not explain is fixed cost. The stop's
        // share is a time plus device state at the stream's rate, so it is measured at both rates:
        // three runs at 100 Mbit/s (one switch-over under TCG varied from 277 to 411 ms), one at 10.
        var setups: [Double] = [], fast: [Double] = []
        for _ in 0..<3 {
            let calibration = try await migrate(Case(rate: .mbit(100), workload: .idle), costs: .init())
            let transfer = calibration.predicted.migrationSeconds ?? 0
            setups.append(max(0, calibration.measured.elapsedSeconds - transfer))
            fast.append(Double(calibration.measured.final?.downtimeMs ?? 0))
            print(String(format: "calibration (idle, 100mbit): migration %.2f s, of which memory %.2f s by the model: setup %.2f s; downtime %.0f ms",
                         calibration.measured.elapsedSeconds, transfer, setups.last!, fast.last!))
        }
        let slowRun = try await migrate(Case(rate: .mbit(10), workload: .idle), costs: .init())
        let slow = Double(slowRun.measured.final?.downtimeMs ?? 0)
        print(String(format: "calibration (idle, 10mbit): migration %.2f s, downtime %.0f ms", slowRun.measured.elapsedSeconds, slow))
        let setup = setups.sorted()[1], fastDowntime = fast.sorted()[1]
        // downtime(r) = fixed + state / r, at r = 100 and 10 Mbit/s (what the stream gets of each).
        let rFast: Double = 100e6 / 8, rSlow: Double = 10e6 / 8
        let perByte: Double = 1 / rSlow - 1 / rFast
        let state: Double = max(0, (slow - fastDowntime) / 1000 / perByte)
        let fixedMs: Double = max(0, fastDowntime - state / rFast * 1000)
        let costs = FixedCosts(setupSeconds: setup, switchoverMs: fixedMs, switchoverBytes: state)
        print(String(format: "fixed costs given to every prediction: setup %.2f s (median), switch-over %.0f ms + %.2f MiB of device state at the stream's rate",
                     costs.setupSeconds, costs.switchoverMs, costs.switchoverBytes / 1_048_576))

        var rows: [Row] = []
        for _ in 0..<repetitions {
            for rate in [LinkRate.mbit(100), .mbit(10)] {
                for w in [Workload.ReadMode.idle, .direct, .buffered] {
                    rows.append(try await migrate(Case(rate: rate, workload: w), costs: costs))
                    print(line(rows.last!))
                }
            }
        }
        print("\nprediction accuracy (\(rows.count) migrations):")
        for r in rows { print("  " + line(r)) }
        let both = rows.filter { $0.convergedByItself && $0.predictedByItself }
        let timeErrors = both.compactMap { r in r.predicted.migrationSeconds.map { abs($0 - r.measured.elapsedSeconds) / r.measured.elapsedSeconds } }
        let rightEnding = rows.filter { $0.convergedByItself == $0.predictedByItself }.count
        let flaggedMisses = rows.filter { $0.convergedByItself != $0.predictedByItself && $0.forecast.closeCall == true }.count
        let downtimeOK = rows.filter { r in
            guard let p = r.predicted.downtimeMs, let ms = r.measured.final?.downtimeMs else { return false }
            let m = Double(ms)
            return abs(p - m) <= max(100, 0.3 * m)
        }.count
        print(String(format: "  target: migration time within 15 %% where both converge: worst %.1f %%, %d of %d within -> %@",
                     (timeErrors.max() ?? 0) * 100, timeErrors.filter { $0 <= 0.15 }.count, timeErrors.count, timeErrors.allSatisfy { $0 <= 0.15 } ? "ok" : "MISSED"))
        print("  target: converge-or-not right for every run: \(rightEnding) of \(rows.count) -> \(rightEnding == rows.count ? "ok" : "MISSED")"
              + (flaggedMisses > 0 ? " (\(flaggedMisses) of the misses predicted as a close call)" : ""))
        print("  close calls predicted: \(rows.filter { $0.forecast.closeCall == true }.count) of \(rows.count)")
        print("  target: downtime within 30 % or 100 ms: \(downtimeOK) of \(rows.count) -> \(downtimeOK == rows.count ? "ok" : "MISSED")")
    }

    static func line(_ r: Row) -> String {
        let p = r.predicted, m = r.measured
        let ending = (r.predictedByItself ? "converges" : (p.completes ? "ends by a rule" : "never converges")) + (r.forecast.closeCall == true ? "?" : "")
        return String(format: "%-18@ predicted %-15@ %7@ %8@  | measured %-15@ %7.1f s %5d ms, %.0f MiB sent",
                      r.label as NSString, ending as NSString,
                      (p.migrationSeconds.map { String(format: "%.1f s", $0) } ?? "-") as NSString,
                      (p.downtimeMs.map { String(format: "%.0f ms", $0) } ?? "-") as NSString,
                      (r.convergedByItself ? "converged" : m.pausedForTimeout ? "paused (timeout)" : "\(m.outcome)") as NSString,
                      m.elapsedSeconds, m.final?.downtimeMs ?? 0, Double(m.bytesSent ?? 0) / 1_048_576)
            + "\n" + String(repeating: " ", count: 20) + dirtying(r.forecast)
            + (r.forecast.closeCallReason.map { "\n" + String(repeating: " ", count: 20) + "close call: " + $0 } ?? "")
    }

    /// What the model took of the guest: its dirtying, as fitted, and its reads.
    static func dirtying(_ f: MigrationForecast) -> String {
        let d = f.inputs.dirtying
        let means = f.dirtyRate.byLength.map { String(format: "%g s: %.2f MiB", $0.window.seconds, $0.window.bytes / 1_048_576) }.joined(separator: ", ")
        return String(format: "dirtying %.2f MiB/s", d.bytesPerSecond / 1_048_576) + (d.workingSetBytes.map { String(format: ", working set %.2f MiB", $0 / 1_048_576) } ?? ", no working set")
            + (d.cacheFill.map { String(format: ", reads cycling %.1f MiB of cache", $0.poolBytes / 1_048_576) } ?? "")
            + " (means \(means))" + (f.dirtyRate.readBytesPerSecond.map { String(format: "; reads %.2f MiB/s", $0 / 1_048_576) } ?? "")
    }

    struct FixedCosts {
        var setupSeconds = 0.0, switchoverMs = 0.0, switchoverBytes = 0.0
    }

    /// A fresh guest with the workload on host A, 8 s of it, a prediction, then the migration.
    static func migrate(_ c: Case, costs: FixedCosts) async throws -> Row {
        _ = try Lab.set(bandwidth: c.rate, link: .fullDuplex)
        try await Lab.startGuest(on: .hostA, memoryMiB: memoryMiB, workload: Workload(mode: c.workload, blockSizeKiB: 1024, amountMiB: 0))
        try await Task.sleep(for: .seconds(8))
        // A pre-copy that does not converge is paused after this long (the model knows the timeout).
        let timeout: Double = c.rate == .mbit(10) ? 150 : 60
        let request = MigrationRequest(domain: LabLayout.guestName, source: a.libvirtURI, destination: b.libvirtURI, mode: .live,
                                       transport: .peerToPeer, pauseAfterSeconds: timeout)
        let forecast = try await Forecast.make(request, options: .init(setupSeconds: costs.setupSeconds, switchoverMs: costs.switchoverMs, switchoverBytes: costs.switchoverBytes))
        let prepared = try await Experiment(backend: .libvirt, request: request).prepare()
        let summary = await prepared.run(pollInterval: .milliseconds(200))
        return Row(label: "\(c.workload.rawValue) \(c.rate)", forecast: forecast, measured: summary)
    }
}
