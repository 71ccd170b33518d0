import Foundation
import Libvirt
import MigscopeCore
import MigscopeProbes
import MigscopeLab
import MigscopeLibvirt
import MigscopeReport
import MigscopeStore
import XCTest

/// The recorder on real migrations in the lab, into a real results database.
final class LabRecordingTests: XCTestCase {
    var dir: String!

    override func setUp() async throws {
        try await LabFixture.ensureUp(for: Self.self)
        dir = NSTemporaryDirectory() + "/migscope-rec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if LabMigrationTests.guestHost() != .hostA { try await Lab.startGuest(on: .hostA) }
    }

    override func tearDown() { if let dir { try? FileManager.default.removeItem(atPath: dir) } }


    func testALiveMigrationIsRecordedRoundByRoundNextToTheGuestsIO() async throws {
        let store = try ResultsStore(path: dir + "/results.sqlite")
        let a = LabMachine.hostA.libvirtURI, b = LabMachine.hostB.libvirtURI
        let request = MigrationRequest(domain: LabLayout.guestName, source: a, destination: b, transport: .peerToPeer, pauseAfterSeconds: 90)
        let session = try await LibvirtBackend().prepare(request)
        let lab = try XCTUnwrap(Lab.recordingContext(source: a, destination: b))
        let recorder = Recorder(
            settings: RecorderSettings(interval: .milliseconds(100), baseline: .seconds(4), tail: .seconds(4)),
            sink: store, console: ConsoleTailer(path: lab.consolePath), links: lab.links)
        var info = RunInfo(backend: "libvirt", request: request, domain: session.domainFacts, anchor: Date(),
                           linkRate: lab.linkRate, linkModel: lab.linkModel, accelerator: lab.accelerator, workload: lab.workload)
        info.sourceLink = lab.sourceLink
        info.destinationLink = lab.destinationLink
        let run = try await recorder.record(session, info: info)
        XCTAssertEqual(run.migration?.outcome, .completed)
        let trace = run.trace

        // Rounds: at least two, one per iteration event, as many as libvirt's final count.
        let roundEvents = trace.events.filter { $0.kind == .roundStarted }
        XCTAssertGreaterThanOrEqual(trace.rounds.count, 2)
        XCTAssertEqual(trace.rounds.count, roundEvents.count)
        XCTAssertEqual(trace.rounds.count, run.migration?.final?.iteration.map(Int.init))
        XCTAssertTrue(trace.rounds.contains { $0.stopAndCopy }, "the final copy is marked")
        XCTAssertFalse(trace.rounds[0].stopAndCopy)
        XCTAssertEqual(Double(trace.rounds.reduce(0) { $0 + $1.bytesSent }), Double(run.migration?.final?.memoryProcessedBytes ?? 0),
                       accuracy: Double(run.migration?.final?.memoryProcessedBytes ?? 0) * 0.02, "round bytes add up to libvirt's total")

        // Guest I/O before, during and after, from the guest and from both hosts' counters.
        let analysis = run.analysis
        let start = try XCTUnwrap(analysis.migrationStartS), end = try XCTUnwrap(analysis.migrationEndS)
        let guest = trace.samples.filter { $0.series == .guest }
        XCTAssertTrue(guest.contains { $0.t < start } && guest.contains { $0.t > start && $0.t < end } && guest.contains { $0.t > end })
        let host = trace.samples.filter { $0.series == .host }
        XCTAssertTrue(host.contains { $0.host == "source" && $0.t < start })
        XCTAssertTrue(host.contains { $0.host == "source" && $0.t > start && $0.t < end })
        XCTAssertTrue(host.contains { $0.host == "destination" && $0.t > end && $0.readBytesPerSecond > 0 }, "the destination's counters follow the guest")
        XCTAssertNotNil(analysis.before)
        XCTAssertNotNil(analysis.after)
        XCTAssertGreaterThan(analysis.after?.meanReadBytesPerSecond ?? 0, 1e6, "the guest reads again after the migration")

        // Links: host A's sending side carries the migration stream.
        let aSent = trace.links.filter { $0.link == "hostA" && $0.direction == .sent && $0.t > start && $0.t < end }
        XCTAssertGreaterThan(aSent.map(\.bytesPerSecond).max() ?? 0, 5e6, "host A sent the migration stream")
        XCTAssertTrue(trace.links.contains { $0.link == "storage" && $0.direction == .sent && $0.bytesPerSecond > 1e6 })

        // One clock: every series in time order, events too.
        for series in [guest.map(\.t), host.filter { $0.host == "source" }.map(\.t), trace.events.map(\.t), trace.jobSamples.map(\.t)] {
            XCTAssertEqual(series, series.sorted(), "timestamps out of order")
        }
        XCTAssertLessThan(analysis.guestGapMs ?? .infinity, 30_000)

        // The database holds the same.
        let stored = try store.run(try XCTUnwrap(run.info.id))
        XCTAssertEqual(stored.info.status, .completed)
        XCTAssertEqual(stored.trace.rounds, trace.rounds)
        XCTAssertEqual(stored.trace.samples.count, trace.samples.count)
        XCTAssertEqual(stored.trace.events.count, trace.events.count)
        XCTAssertEqual(stored.summary?.rounds, trace.rounds.count)

        // And the export's numbers are the analysis'.
        let files = try RunExport.write(info: stored.info, trace: stored.trace, to: dir + "/export", format: .csv)
        XCTAssertEqual(files.count, 6)
        let summaryCSV = try String(contentsOfFile: dir + "/export/summary.csv", encoding: .utf8).split(separator: "\n")
        let row = Dictionary(uniqueKeysWithValues: zip(summaryCSV[0].split(separator: ",", omittingEmptySubsequences: false),
                                                       summaryCSV[1].split(separator: ",", omittingEmptySubsequences: false)))
        XCTAssertEqual(row["rounds"].map(String.init), "\(trace.rounds.count)")
        XCTAssertEqual(Double(row["io_during_ratio"].map(String.init) ?? "") ?? -1, analysis.ioDuringRatio ?? -2, accuracy: 0.0001)

        // The report of this real run: page, pictures and tables, with the analysis' numbers.
        let page = try RunReport.write([.init(info: stored.info, trace: stored.trace)], to: dir + "/report")
        let id = try XCTUnwrap(run.info.id)
        for f in ["report.html", "run-\(id)/timeline.png", "run-\(id)/timeline.svg", "run-\(id)/network.png", "run-\(id)/rounds.png", "run-\(id)/rounds.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/report/" + f), "missing \(f)")
        }
        XCTAssertTrue(try String(contentsOfFile: page, encoding: .utf8).contains("data:image/png;base64,"))
        let networkScript = try String(contentsOfFile: dir + "/report/run-\(id)/network.gp", encoding: .utf8)
        XCTAssertTrue(networkScript.contains("hostA sent (source: migration stream out)"), "the network figure names the stream")
        let reportRounds = try String(contentsOfFile: dir + "/report/run-\(id)/rounds.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(reportRounds.count - 1, trace.rounds.count)

        _ = await MigrationRunner().run(try await LibvirtBackend().prepare(
            MigrationRequest(domain: LabLayout.guestName, source: b, destination: a, mode: .nonLive)))
    }

    func testARecorderKilledMidRunLeavesAReadableIncompleteRunAndTheGuestOnTheSource() async throws {
        let db = dir + "/killed.sqlite"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("migscope")
        p.arguments = ["migrate", LabLayout.guestName, "--from", LabMachine.hostA.libvirtURI, "--to", LabMachine.hostB.libvirtURI,
                       "--p2p", "--bandwidth", "1", "--record", "--db", db, "--baseline", "2"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        try await Task.sleep(for: .seconds(6))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        // The migration itself goes on in libvirtd (peer-to-peer); stop it as a user would.
        let domain = try Connection(uri: LabMachine.hostA.libvirtURI).domain(named: LabLayout.guestName)
        try? domain.abortJob()

        let store = try ResultsStore(path: db)
        let runs = try store.runs()
        XCTAssertEqual(runs.count, 1)
        XCTAssertTrue(runs[0].incomplete, "status \(runs[0].status)")
        let run = try store.run(runs[0].id)
        XCTAssertTrue(run.trace.events.contains { $0.kind == .migrationStarted })
        let last = run.trace.samples.map(\.t).max() ?? 0
        XCTAssertGreaterThan(last, 4, "samples up to about a second before the kill are committed")
        XCTAssertGreaterThan(run.trace.jobSamples.count, 5)
        XCTAssertEqual(LabMigrationTests.guestHost(), .hostA)
    }
}
