import Foundation
import MigscopeCore
@testable import MigscopeLab
import MigscopeStore
import XCTest

/// The dirty rate measured in place, and a prediction made before a real migration, stored with
/// its run and shown beside what happened. (How close predictions come is a benchmark's business.)
final class LabPredictionTests: XCTestCase {
    var dir: String!
    let a = LabMachine.hostA, b = LabMachine.hostB
    let guest = LabLayout.guestName

    override func setUp() async throws {
        try await LabFixture.ensureUp(for: Self.self)
        dir = NSTemporaryDirectory() + "migscope-predict-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try Lab.set(bandwidth: .mbit(100), link: .shared)
        try await Lab.startGuest(on: .hostA, memoryMiB: 128, workload: Workload(mode: .idle))
    }

    override func tearDown() async throws {
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    func readBytes(on host: LabMachine) throws -> Double {
        let r = try Command.run(["virsh", "-c", host.libvirtURI, "domblkstat", guest], check: false, timeout: 30)
        let line = r.stdout.split(separator: "\n").first { $0.contains("rd_bytes") }
        return Double(line?.split(separator: " ").last ?? "") ?? 0
    }

    func html(of run: Int64, db: String) throws -> String {
        let report = try ProcessRun.run(ProcessRun.migscope, ["report", "\(run)", "--db", db, "--out", dir + "/report"])
        XCTAssertEqual(report.status, 0, report.err)
        return (try? String(contentsOfFile: dir + "/report/report.html", encoding: .utf8)) ?? ""
    }

    func measure() throws -> [String: Any] {
        let r = try ProcessRun.run(ProcessRun.migscope, ["dirtyrate", guest, "--on", a.libvirtURI, "--seconds", "2,4", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], r.out)
    }

    func rates(_ m: [String: Any]) -> [Double] {
        ((m["measurement"] as? [String: Any])?["windows"] as? [[String: Any]] ?? []).compactMap { $0["bytes_per_second"] as? Double }
    }

    func testAnIdleGuestDirtiesNearlyNothingAndABufferedReaderAboutWhatItReads() async throws {
        let idleMeasurement = try measure()
        let idle = rates(idleMeasurement)
        XCTAssertEqual(idle.count, 2)
        // QEMU reports whole MiB/s, and one sampled page of a 128 MiB guest is 2 MiB: a window may
        // catch a page or two of the kernel's own writes, but what a prediction takes is near zero.
        XCTAssertLessThanOrEqual(idle.max() ?? .infinity, 2 * 1_048_576, "an idle guest: \(idle)")
        let fitted = ((idleMeasurement["model"] as? [String: Any])?["bytes_per_second"] as? Double) ?? .infinity
        XCTAssertLessThanOrEqual(fitted, 524_288, "an idle guest's fitted dirty rate: \(idleMeasurement)")

        try await Lab.startGuest(on: .hostA, memoryMiB: 128, workload: Workload(mode: .buffered, blockSizeKiB: 1024, amountMiB: 0))
        try await Task.sleep(for: .seconds(3))
        let before = try readBytes(on: a), start = Date()
        let readingMeasurement = try measure()
        let reading = rates(readingMeasurement)
        let readRate = (try readBytes(on: a) - before) / Date().timeIntervalSince(start)
        // The reads it took beside the windows are the ones virsh counts.
        let took = try XCTUnwrap((readingMeasurement["measurement"] as? [String: Any])?["read_bytes_per_second"] as? Double, "\(readingMeasurement)")
        XCTAssertEqual(took, readRate, accuracy: readRate * 0.3, "reads taken \(Format.rate(took)), counted by virsh \(Format.rate(readRate))")
        print("LabPredictionTests: buffered reader reads \(Format.rate(readRate)), dirties \(reading.map { Format.rate($0) })")
        XCTAssertGreaterThan(readRate, 2e6, "the reader reads")
        for r in reading {
            XCTAssertGreaterThan(r, readRate * 0.3, "dirtied \(Format.rate(r)) while reading \(Format.rate(readRate))")
            XCTAssertLessThan(r, readRate * 2 + 1_048_576, "dirtied \(Format.rate(r)) while reading \(Format.rate(readRate))")
        }

        // A prediction for the lab's buffered reader has its reads fill the page cache, cycling
        // through the memory the guest says is free or cached (a 128 MiB guest: tens of MiB).
        let p = try ProcessRun.run(ProcessRun.migscope, ["predict", guest, "--from", a.libvirtURI, "--to", b.libvirtURI, "--seconds", "1", "--repeat", "1", "--json"])
        XCTAssertEqual(p.status, 0, p.err)
        let forecast = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(p.out.utf8)) as? [String: Any], p.out)
        let fill = try XCTUnwrap(((forecast["inputs"] as? [String: Any])?["dirtying"] as? [String: Any])?["cache_fill"] as? [String: Any], p.out)
        let pool = try XCTUnwrap(fill["pool_bytes"] as? Double, p.out)
        print("LabPredictionTests: the buffered reader's reads cycle through \(Format.bytes(pool)) free or cached")
        XCTAssertGreaterThan(pool, 16 * 1_048_576, "the guest's free and cached memory: \(p.out)")
        XCTAssertLessThan(pool, 128 * 1_048_576, "no more than the guest's memory: \(p.out)")
    }

    func testMigrateWithPredictStoresThePredictionAndTheReportShowsItBesideTheMeasurement() async throws {
        let db = dir + "/r.sqlite"
        let r = try ProcessRun.run(ProcessRun.migscope, [
            "migrate", guest, "--from", a.libvirtURI, "--to", b.libvirtURI, "--p2p", "--live", "--record", "--predict", "--db", db,
            "--baseline", "2", "--tail", "2",
        ])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("prediction: converges by itself"), r.err)
        XCTAssertTrue(r.err.contains("the lab's link, 100mbit"), r.err)
        let states = try [a, b].map { h in
            try Command.run(["virsh", "-c", h.libvirtURI, "domstate", guest], check: false, timeout: 30).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(states[1], "running", "virsh on host B")

        let store = try ResultsStore(path: db)
        let run = try store.run(try XCTUnwrap(store.runs().last?.id))
        let forecast = try XCTUnwrap(run.info.forecast, "the prediction is stored with the run")
        XCTAssertEqual(forecast.inputs.memoryBytes, 128 * 1_048_576)
        XCTAssertEqual(forecast.inputs.streamBytesPerSecond, 100e6 / 8, "the lab's link")
        XCTAssertEqual(forecast.dirtyRate.windows.count, 12, "the default windows: 1 and 2 s, six times each")
        let predicted = try XCTUnwrap(forecast.prediction.migrationSeconds)
        let measured = try XCTUnwrap(run.summary?.migrationSeconds)
        print("LabPredictionTests: an idle 128 MiB guest over 100 Mbit/s: predicted \(Format.seconds(predicted)), measured \(Format.seconds(measured))")
        // An idle guest: one round of what it ever wrote (the rest are zero pages), perhaps a second
        // of the few pages a window caught it writing, then a stop-and-copy of next to nothing.
        XCTAssertLessThanOrEqual(forecast.prediction.precopyRounds, 2, "\(forecast.prediction.rounds)")
        XCTAssertEqual(forecast.zeroBytesFrom, "the lab guest's free memory", "the guest said how much it never wrote")
        XCTAssertGreaterThan(forecast.inputs.zeroBytes, 8 * 1_048_576, "an idle 128 MiB guest leaves memory unwritten")
        let written = forecast.inputs.memoryBytes - forecast.inputs.zeroBytes
        XCTAssertEqual(forecast.prediction.rounds.first?.bytes ?? 0, written, accuracy: 1, "round 1 sends what was ever written")
        XCTAssertGreaterThanOrEqual(predicted, written / (100e6 / 8), "the model's time covers memory over the link")
        XCTAssertTrue(try html(of: run.info.id!, db: db).contains("predicted /"), "the report puts the prediction beside the measurement")

        // Back to A for the next test.
        let back = try ProcessRun.run(ProcessRun.migscope, ["migrate", guest, "--from", b.libvirtURI, "--to", a.libvirtURI, "--p2p", "--non-live", "-q"])
        XCTAssertEqual(back.status, 0, back.err)
    }

    /// The stream's rate probed between the lab's hosts (iperf3 in their namespaces) and a dirty rate
    /// given rather than measured: a buffered reader of the shared link leaves the stream less than
    /// the link, and a given rate of 20 MiB/s above it can never converge.
    func testPredictWithAProbedStreamAndAGivenDirtyRate() async throws {
        try await Lab.startGuest(on: .hostA, memoryMiB: 128, workload: Workload(mode: .buffered, blockSizeKiB: 1024, amountMiB: 0))
        try await Task.sleep(for: .seconds(3))
        let r = try ProcessRun.run(ProcessRun.migscope, [
            "predict", guest, "--from", a.libvirtURI, "--to", b.libvirtURI, "--probe-stream", "--dirty-rate", "20", "--json",
        ])
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], r.out)
        let inputs = try XCTUnwrap(json["inputs"] as? [String: Any])
        let stream = try XCTUnwrap(inputs["stream_bytes_per_second"] as? Double)
        print("LabPredictionTests: probed stream \(Format.rate(stream)) beside a buffered reader on the shared 100 Mbit/s link")
        XCTAssertGreaterThan(stream, 1e6, "the probe measured a stream")
        XCTAssertLessThan(stream, 100e6 / 8 * 0.98, "the probe shares the link with the reader's storage traffic")
        XCTAssertTrue((json["stream_rate_from"] as? String ?? "").contains("TCP probe"), r.out)
        XCTAssertEqual((json["dirty_rate"] as? [String: Any])?["method"] as? String, "given")
        let prediction = try XCTUnwrap(json["prediction"] as? [String: Any])
        XCTAssertNil(prediction["migration_seconds"], "20 MiB/s dirtied against a stream under 12.5 MB/s never converges: \(prediction)")

        // On a real host the probe is refused with the reason, before anything is measured.
        let real = try ProcessRun.run(ProcessRun.migscope, ["predict", guest, "--from", a.libvirtURI, "--to", "qemu+ssh://elsewhere.example/system", "--probe-stream"])
        XCTAssertEqual(real.status, 2, real.err)
        XCTAssertTrue(real.err.contains("--probe-stream") && real.err.contains("lab"), real.err)
    }
}
