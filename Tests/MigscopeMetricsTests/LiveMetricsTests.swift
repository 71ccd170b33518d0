import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import MigscopeCore
@testable import MigscopeMetrics
import XCTest

final class LiveMetricsTests: XCTestCase {
    private let request = MigrationRequest(domain: "guest", source: "qemu+ssh://root:secret@hostA/system?keyfile=/k", destination: "qemu+tcp://hostB/system")

    /// The value of the series `name` whose labels include all of `labels` (nil: no such series).
    private func value(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let hasAll = labels.allSatisfy { line.contains("\($0.key)=\"\($0.value)\"") }
            if hasAll, let v = line.split(separator: " ").last.flatMap({ Double($0) }) { return v }
        }
        return nil
    }

    func testAMigrationsProgressIsExposedWithItsLabelsAndNoCredentials() {
        let m = LiveMetrics()
        let now = ContinuousClock.now
        m.migrationStarted(request, at: now)
        XCTAssertNil(value(m.exposition(), "migscope_migration_memory_remaining_bytes"), "not reported yet: missing, not 0")
        m.progressed(JobProgress(iteration: 3, dirtyRatePagesPerSecond: 100, pageSizeBytes: 4096, memoryTotalBytes: 1000,
                                 memoryRemainingBytes: 400, memoryBytesPerSecond: 12_500_000, dataProcessedBytes: 900,
                                 timeElapsedMs: 2500, speedCapBytesPerSecond: 4_194_304), at: now)
        m.sampled(IOSample(t: 1, series: .guest, host: IOSample.guestOrigin, readBytesPerSecond: 1_000_000, writeBytesPerSecond: 0))
        m.sampled(IOSample(t: 1, series: .host, host: "source", readBytesPerSecond: 900_000, writeBytesPerSecond: 10))
        let text = m.exposition()
        XCTAssertEqual(value(text, "migscope_migration_round", ["domain": "guest"]), 3)
        XCTAssertEqual(value(text, "migscope_migration_memory_remaining_bytes"), 400)
        XCTAssertEqual(value(text, "migscope_migration_memory_total_bytes"), 1000)
        XCTAssertEqual(value(text, "migscope_migration_sent_bytes"), 900)
        XCTAssertEqual(value(text, "migscope_migration_dirty_rate_bytes_per_second"), 409_600)
        XCTAssertEqual(value(text, "migscope_migration_stream_rate_bytes_per_second"), 12_500_000)
        XCTAssertEqual(value(text, "migscope_migration_speed_cap_bytes_per_second"), 4_194_304, text)
        XCTAssertEqual(value(text, "migscope_migration_elapsed_seconds"), 2.5)
        XCTAssertEqual(value(text, "migscope_migration_phase", ["phase": "precopy"]), 1)
        XCTAssertEqual(value(text, "migscope_migration_phase", ["phase": "stop-and-copy"]), 0)
        XCTAssertEqual(value(text, "migscope_guest_read_bytes_per_second", ["measured_by": "guest"]), 1_000_000)
        XCTAssertEqual(value(text, "migscope_guest_read_bytes_per_second", ["measured_by": "source"]), 900_000)
        XCTAssertTrue(text.contains("source=\"qemu+ssh://hostA/system\""), text)
        XCTAssertFalse(text.contains("secret"), "credentials must not reach a label")
        XCTAssertFalse(text.contains("keyfile"), "key paths must not reach a label")
        XCTAssertTrue(text.contains("# TYPE migscope_migration_round gauge"), text)
    }

    func testThePhaseFollowsThePauseAndPostcopy() {
        let m = LiveMetrics()
        let now = ContinuousClock.now
        m.migrationStarted(request, at: now)
        m.signalled(MigrationSignal(.guestPaused(host: .source), at: now))
        XCTAssertEqual(value(m.exposition(), "migscope_migration_phase", ["phase": "stop-and-copy"]), 1)
        XCTAssertEqual(value(m.exposition(), "migscope_migration_phase", ["phase": "precopy"]), 0)
        m.intervened(.switchedToPostcopy(.afterSeconds(1)), at: now)
        XCTAssertEqual(value(m.exposition(), "migscope_migration_phase", ["phase": "postcopy"]), 1)
        XCTAssertEqual(value(m.exposition(), "migscope_migration_phase", ["phase": "stop-and-copy"]), 0)
        m.intervened(.speedCapSet(mebibytesPerSecond: nil, why: "released"), at: now)
        XCTAssertEqual(value(m.exposition(), "migscope_migration_speed_cap_bytes_per_second"), 0)
    }

    func testABatchCountsItsRunsAndANewCellReplacesTheLastCellsSeries() {
        let m = LiveMetrics()
        let now = ContinuousClock.now
        m.runStarting(plan: "paper", cell: "live-100M", index: 1, of: 3, secondsLeft: nil)
        m.migrationStarted(request, at: now)
        m.progressed(JobProgress(iteration: 2, memoryRemainingBytes: 5), at: now)
        m.runFinished(failed: false)
        m.runStarting(plan: "paper", cell: "live-10M", index: 2, of: 3, secondsLeft: 120)
        m.migrationStarted(request, at: now)
        m.runFinished(failed: true)
        let text = m.exposition()
        XCTAssertEqual(value(text, "migscope_batch_runs_done_total", ["plan": "paper"]), 1)
        XCTAssertEqual(value(text, "migscope_batch_runs_failed_total", ["plan": "paper"]), 1)
        XCTAssertEqual(value(text, "migscope_batch_runs_left", ["plan": "paper"]), 2, "the second run is left until it ends")
        XCTAssertEqual(value(text, "migscope_batch_estimated_seconds_left"), 120)
        XCTAssertNil(value(text, "migscope_migration_round", ["cell": "live-100M"]), "the finished cell's series must be gone:\n\(text)")
        XCTAssertNotNil(value(text, "migscope_migration_phase", ["cell": "live-10M", "plan": "paper"]), text)
        m.batchEnded()
        XCTAssertEqual(value(m.exposition(), "migscope_batch_runs_left"), 0)
    }

    func testAddressesAreParsedStrictly() {
        XCTAssertEqual(try MetricsAddress.parse("127.0.0.1:9464").get(), MetricsAddress(host: .ipv4("127.0.0.1"), port: 9464))
        XCTAssertEqual(try MetricsAddress.parse("localhost:80").get(), MetricsAddress(host: .ipv4("127.0.0.1"), port: 80))
        XCTAssertEqual(try MetricsAddress.parse("[::1]:9464").get(), MetricsAddress(host: .ipv6("::1"), port: 9464))
        XCTAssertEqual(try MetricsAddress.parse("0.0.0.0:9464").get().description, "0.0.0.0:9464")
        for bad in ["9464", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1", "256.0.0.1:80", "host.example:80",
                    "1.2.3:80", "[::1;rm]:80", "$(reboot):80", String(repeating: "1", count: 100) + ":80"] {
            guard case .failure(let p) = MetricsAddress.parse(bad) else { XCTFail("'\(bad)' accepted"); continue }
            XCTAssertFalse(p.description.contains("\n"), p.description)
            XCTAssertTrue(p.description.contains("HOST:PORT"), p.description)
        }
    }

    func testTheFileIsReplacedWholeAndABadFolderIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = try MetricsFile(path: folder.appendingPathComponent("migscope.prom").path)
        try file.write("a 1\n")
        try file.write("b 2\n")
        XCTAssertEqual(try String(contentsOfFile: file.path, encoding: .utf8), "b 2\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["migscope.prom"], "no temporary file may stay behind")
        XCTAssertThrowsError(try MetricsFile(path: folder.appendingPathComponent("nope/migscope.prom").path)) { e in
            XCTAssertTrue("\(e)".contains("does not exist"), "\(e)")
        }
        XCTAssertThrowsError(try MetricsFile(path: folder.path)) { e in XCTAssertTrue("\(e)".contains("is a folder"), "\(e)") }
    }

    /// The real server on loopback: Prometheus' GET, and a port already taken refused in one line.
    func testTheEndpointServesTheTextAndATakenPortIsRefused() async throws {
        let metrics = LiveMetrics()
        metrics.migrationStarted(request, at: .now)
        metrics.progressed(JobProgress(iteration: 7), at: .now)
        var exporter: MetricsExporter?
        var address: MetricsAddress?
        for port in (0..<20).map({ _ in UInt16.random(in: 20000...60000) }) {
            let a = MetricsAddress(host: .ipv4("127.0.0.1"), port: port)
            let e = MetricsExporter(metrics: metrics, listen: a, file: nil)
            if (try? await e.start()) != nil { exporter = e; address = a; break }
        }
        guard let exporter, let address else { return XCTFail("no free port found on loopback") }
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://\(address)/metrics")!)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        XCTAssertTrue(((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") ?? "").hasPrefix("text/plain; version=0.0.4"))
        XCTAssertEqual(value(String(decoding: data, as: UTF8.self), "migscope_migration_round"), 7)

        let second = MetricsExporter(metrics: metrics, listen: address, file: nil)
        do {
            try await second.start()
            XCTFail("a second server bound the same port")
            await second.stop()
        } catch {
            XCTAssertTrue("\(error)".contains("cannot listen there"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        await exporter.stop()
    }

    /// The shipped Grafana dashboard asks only for series migscope exposes (names drift otherwise).
    func testTheGrafanaDashboardUsesOnlyMetricsMigscopeExposes() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../dashboards/migscope-grafana.json").standardized.path
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let exprs = ((dashboard?["panels"] as? [[String: Any]]) ?? []).flatMap { ($0["targets"] as? [[String: Any]]) ?? [] }.compactMap { $0["expr"] as? String }
        XCTAssertGreaterThan(exprs.count, 8)
        let m = LiveMetrics()
        m.runStarting(plan: "p", cell: "c", index: 1, of: 2, secondsLeft: 10)
        m.migrationStarted(request, at: .now)
        m.progressed(JobProgress(iteration: 1, dirtyRatePagesPerSecond: 1, pageSizeBytes: 4096, memoryTotalBytes: 10, memoryRemainingBytes: 5,
                                 memoryBytesPerSecond: 1, dataProcessedBytes: 5, timeElapsedMs: 1, speedCapBytesPerSecond: 1), at: .now)
        m.sampled(IOSample(t: 1, series: .guest, host: IOSample.guestOrigin, readBytesPerSecond: 1, writeBytesPerSecond: 1))
        m.migrationFinished(MigrationSummary(request: request, outcome: .completed, elapsedSeconds: 3, endedAt: .now, final: JobProgress(downtimeMs: 250),
                                             roundsSignalled: 1, pausedForTimeout: false,
                                             location: DomainLocation(place: .destination, sourceURI: request.source, destinationURI: request.destination)))
        XCTAssertEqual(value(m.exposition(), "migscope_migration_last_downtime_seconds", ["domain": "guest"]), 0.25)
        XCTAssertEqual(value(m.exposition(), "migscope_migration_phase", ["phase": "completed"]), 1)
        XCTAssertEqual(value(m.exposition(), "migscope_migration_memory_remaining_bytes"), 0)
        m.runFinished(failed: false)
        m.runFinished(failed: true)
        let exposed = Set(m.exposition().split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init) })
        let regex = try NSRegularExpression(pattern: "migscope_[a-z_]+")
        for e in exprs {
            for match in regex.matches(in: e, range: NSRange(e.startIndex..., in: e)) {
                let name = String(e[Range(match.range, in: e)!])
                XCTAssertTrue(exposed.contains(name), "the dashboard asks for \(name), which migscope does not expose (\(exposed.sorted()))")
            }
        }
    }
}
