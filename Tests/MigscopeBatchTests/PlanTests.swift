import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeStore
import XCTest

@testable import MigscopeBatch

final class PlanFileTests: XCTestCase {
    let good = """
        name: two-cells
        hosts: lab
        guest: {memory_mib: 256, disk_mib: 512, accelerator: tcg}
        workload: {mode: direct, block_size_kib: 512, read_mib: 64}
        matrix:
          mode: [live, non-live]
          link_rate: [100mbit]
          link: [full-duplex]
          max_downtime_ms: [300, none]
          timeout_s: [30]
        repetitions: 3
        baseline_s: 5
        tail_s: 2
        tail_until_workload_done: true
        reset: {restart_guest: true, drop_caches: false}
        """

    func testAGoodPlanParsesWithEveryKey() throws {
        let p = try PlanFile.parse(good)
        XCTAssertEqual(p.name, "two-cells")
        XCTAssertEqual(p.hosts, .lab(guestMemoryMiB: 256, diskSizeMiB: 512, accelerator: "tcg"))
        XCTAssertEqual(p.workload, Workload(mode: .direct, blockSizeKiB: 512, amountMiB: 64))
        XCTAssertEqual(p.matrix.modes, [.live, .nonLive])
        XCTAssertEqual(p.matrix.maxDowntimeMs, [300, nil])
        XCTAssertEqual(p.repetitions, 3)
        XCTAssertEqual(p.baselineSeconds, 5)
        XCTAssertTrue(p.untilWorkloadDone)
        XCTAssertFalse(p.reset.dropCaches)
        XCTAssertTrue(p.reset.reshape)
        // live x 2 downtimes + non-live x 2 downtimes; the timeout does not apply to non-live.
        XCTAssertEqual(p.cells.count, 4)
        XCTAssertTrue(p.cells.filter { $0.mode == .nonLive }.allSatisfy { $0.timeoutSeconds == nil })
    }

    func testExcludeLeavesOutTheCombinationsItNamesAndRefusesOnesThatMatchNothing() throws {
        let base = """
            name: x
            hosts: lab
            matrix:
              mode: [live, non-live]
              link_rate: [100mbit, 10mbit]
              read_mode: [direct, idle]
            """
        let p = try PlanFile.parse(base + "\n  exclude: [{mode: non-live, link_rate: 10Mbit}, {read_mode: idle, mode: live}]\nrepetitions: 1\n")
        XCTAssertEqual(p.cells.count, 8 - 2 - 2, "\(p.cells.map(\.key))")
        XCTAssertFalse(p.cells.contains { $0.mode == .nonLive && $0.bandwidth == .mbit(10) })
        XCTAssertFalse(p.cells.contains { $0.mode == .live && $0.readMode == .idle })
        XCTAssertTrue(p.cells.contains { $0.mode == .nonLive && $0.bandwidth == .mbit(100) && $0.readMode == .idle })
        XCTAssertThrowsError(try PlanFile.parse(base + "\n  exclude: [{link_rate: 1gbit}, {colour: red}]\nrepetitions: 1\n", file: "e.yaml")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("leaves out no cell"), text)
            XCTAssertTrue(text.contains("exclude can name mode, link_rate"), text)
        }
        XCTAssertThrowsError(try PlanFile.parse(base + "\n  exclude: [{mode: live}, {mode: non-live}]\nrepetitions: 1\n")) { error in
            XCTAssertTrue("\(error)".contains("leaves out every cell"), "\(error)")
        }
        // An idle guest reads nothing, so a tail cannot wait for its read to end.
        XCTAssertThrowsError(try PlanFile.parse(base + "\nrepetitions: 1\nworkload: {read_mib: 64}\ntail_until_workload_done: true\n")) { error in
            XCTAssertTrue("\(error)".contains("cannot wait for an idle guest"), "\(error)")
        }
    }

    func testAPlansStallLimitsReachEveryRunAndBadOnesAreRefusedAtTheirLine() throws {
        let p = try PlanFile.parse(good + "\nstall: {progress_timeout_s: 60, completion_timeout_per_gib_s: 800, action: pause}\n")
        XCTAssertEqual(p.stall, StallLimits(progressTimeoutSeconds: 60, completionSecondsPerGiB: 800, action: .pause))
        XCTAssertNotNil(p.definingSettings["stall"])
        XCTAssertNil(try PlanFile.parse(good).definingSettings["stall"], "plans without it keep their old settings")
        XCTAssertThrowsError(try PlanFile.parse(good + "\nstall: {progress_timeout_s: 0, action: retry}\n", file: "s.yaml")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("s.yaml:16:") && text.contains("'progress_timeout_s' must be 1 to 86400 seconds"), text)
            XCTAssertTrue(text.contains("stall action must be abort or pause, got 'retry'"), text)
        }
    }

    func testEveryProblemIsReportedAtOnceWithItsLine() {
        let bad = """
            hosts: lab
            guest: {memory_mib: 10}
            workload: {mode: sideways}
            matrix:
              mode: [live, sometimes]
              link_rte: [100mbit]
              link: []
            repetitions: 0
            extra: 1
            """
        XCTAssertThrowsError(try PlanFile.parse(bad, file: "p.yaml")) { error in
            guard let e = error as? PlanErrors else { return XCTFail("\(error)") }
            let lines = e.description.split(separator: "\n").map(String.init)
            XCTAssertEqual(e.problems.count, 8, lines.joined(separator: "\n"))
            XCTAssertTrue(lines.contains { $0.hasPrefix("p.yaml:2:21:") && $0.contains("memory_mib") }, "\(lines)")
            XCTAssertTrue(lines.contains { $0.hasPrefix("p.yaml:3:18:") && $0.contains("sideways") })
            XCTAssertTrue(lines.contains { $0.hasPrefix("p.yaml:5:16:") && $0.contains("sometimes") })
            XCTAssertTrue(lines.contains { $0.hasPrefix("p.yaml:6:3:") && $0.contains("did you mean 'link_rate'") })
            XCTAssertTrue(lines.contains { $0.contains("'link' is an empty list") })
            XCTAssertTrue(lines.contains { $0.hasPrefix("p.yaml:8:14:") && $0.contains("repetitions") })
            XCTAssertTrue(lines.contains { $0.hasPrefix("p.yaml:9:1:") && $0.contains("unknown key 'extra'") })
            XCTAssertTrue(lines.contains { $0.contains("missing 'link_rate'") })
        }
    }

    func testWrongTypesAndImpossibleValuesAreNamed() {
        let cases: [(String, String)] = [
            ("hosts: lab\nmatrix: {mode: [live], link_rate: [5kbit]}", "cannot be shaped"),
            ("hosts: lab\nmatrix: {mode: [live], link_rate: [fast]}", "got 'fast'"),
            ("hosts: lab\nmatrix: {mode: [live], link_rate: [10mbit], timeout_s: [-1]}", "timeout_s must be a positive number"),
            ("hosts: lab\nmatrix: {mode: [live], link_rate: [10mbit]}\nrepetitions: many", "whole number"),
            ("hosts: lab\nmatrix: {mode: [live], link_rate: [10mbit]}\np2p: maybe", "true or false"),
            ("hosts: lab\nmatrix: [live]", "'matrix' must be a mapping"),
            ("hosts: cloud\nmatrix: {mode: [live], link_rate: [10mbit]}", "'hosts' must be 'lab'"),
            ("hosts: {source: qemu:///a, destination: qemu:///b, domain: g}\nmatrix: {mode: [live], link_rate: [10mbit]}", "shaped only in the embedded lab"),
            ("hosts: lab\nmatrix: {mode: [live], link_rate: [10mbit]}\ntail_until_workload_done: true", "needs a workload that ends"),
            ("- just\n- a list", "a plan is a mapping"),
            ("hosts: [lab\n", "not valid YAML"),
        ]
        for (yaml, expected) in cases {
            XCTAssertThrowsError(try PlanFile.parse(yaml)) { e in
                XCTAssertTrue("\(e)".contains(expected), "for \(yaml.debugDescription): \(e)")
            }
        }
    }

    func testRealHostsTakeURIsAndNoShaping() throws {
        let p = try PlanFile.parse("hosts: {source: 'qemu+ssh://a/system', destination: 'qemu+ssh://b/system', domain: web1}\nmatrix: {mode: [live], link_rate: [none], bandwidth_cap_mibps: [10, 50]}")
        XCTAssertEqual(p.hosts, .uris(source: "qemu+ssh://a/system", destination: "qemu+ssh://b/system", domain: "web1"))
        XCTAssertEqual(p.cells.map(\.bandwidthCapMiBps), [10, 50])
    }

    func testXenHostsTakeTheLibxlBackendADestinationAndADomain() throws {
        let p = try PlanFile.parse("hosts: {backend: libxl, destination: 'hostB:8002', domain: web1}\nmatrix: {mode: [live, non-live], link_rate: [none]}")
        XCTAssertEqual(p.hosts, .fromThisHost(backend: "libxl", destination: "hostB:8002", domain: "web1"))
        XCTAssertEqual(p.cells.count, 2)
        let cases: [(String, String)] = [
            ("hosts: {backend: libxl, source: qemu:///a, destination: localhost, domain: g}\nmatrix: {mode: [live], link_rate: [none]}", "leave out 'source'"),
            ("hosts: {backend: xl, destination: localhost, domain: g}\nmatrix: {mode: [live], link_rate: [none]}", "backend must be libvirt or libxl"),
            ("hosts: {backend: libxl, domain: g}\nmatrix: {mode: [live], link_rate: [none]}", "missing 'destination'"),
            ("hosts: {backend: libxl, destination: localhost, domain: g}\nmatrix: {mode: [live], link_rate: [10mbit]}", "shaped only in the embedded lab"),
            ("hosts: {backend: libxl, destination: localhost, domain: g}\nmatrix: {mode: [live], link_rate: [none], bandwidth_cap_mibps: [10]}", "libxl has no cap"),
            ("hosts: {backend: libxl, destination: localhost, domain: g}\nmatrix: {mode: [live], link_rate: [none], timeout_s: [10]}", "cannot force the end of pre-copy"),
            ("hosts: {backend: libxl, destination: localhost, domain: g}\nmatrix: {mode: [live], link_rate: [none], pause_after_rounds: [3]}", "after 5 rounds by itself"),
        ]
        for (yaml, expected) in cases {
            XCTAssertThrowsError(try PlanFile.parse(yaml)) { e in
                XCTAssertTrue("\(e)".contains(expected), "for \(yaml.debugDescription): \(e)")
            }
        }
    }

    func testUnreachableHostsAndAMissingDomainAreReportedAtTheirLines() async throws {
        let plan = try PlanFile.parse("hosts:\n  source: qemu+ssh://a/system\n  destination: qemu+ssh://b/system\n  domain: web1\nmatrix: {mode: [live], link_rate: [none]}")
        do {
            try await PlanFile.checkHosts(plan, file: "p.yaml", reach: { $0.contains("//b/") ? "no route" : nil }, findDomain: { _, _ in true })
            XCTFail("an unreachable destination passed")
        } catch let e as PlanErrors {
            XCTAssertEqual(e.description, "p.yaml:3:16: destination qemu+ssh://b/system cannot be reached: no route")
        }
        do {
            try await PlanFile.checkHosts(plan, file: "p.yaml", reach: { _ in nil }, findDomain: { _, _ in false })
            XCTFail("a missing domain passed")
        } catch let e as PlanErrors {
            XCTAssertEqual(e.problems.map(\.line), [4])
        }
        try await PlanFile.checkHosts(plan, file: "p.yaml", reach: { _ in nil }, findDomain: { _, uri in uri.contains("//b/") })
    }

    func testTheShippedPlansParse() throws {
        for name in ["paper", "paper-quick"] {
            let p = try PlanFile.load(path: BuiltinPlans.path(name))
            XCTAssertEqual(p.name, name)
            XCTAssertEqual(Set(p.cells.map(\.mode)), [.live, .nonLive])
            XCTAssertEqual(Set(p.cells.map(\.bandwidth)), [.mbit(100), .mbit(10)])
            XCTAssertTrue(p.cells.allSatisfy { p.workload(for: $0).amountMiB > 0 }, "the paper's read has an end")
            // Live cells end pre-copy by a round limit, as the paper's Xen did, not after a fixed time
            // that would make a slow link's live migration mostly a non-live one.
            XCTAssertTrue(p.cells.filter { $0.mode == .live }.allSatisfy { $0.timeoutSeconds == nil && $0.pauseAfterRounds != nil }, "\(p.cells)")
        }
    }

    /// The dirty-pages plan: readers x block sizes x link rates, each cell's reader set from its cell.
    func testTheDirtyIOPlanVariesTheReaderItsBlockSizeAndTheLinkAndBadBlockSizesAreRefused() throws {
        XCTAssertEqual(try PlanFile.load(path: BuiltinPlans.path("dirty-io-quick")).cells.count, 4)
        let p = try PlanFile.load(path: BuiltinPlans.path("dirty-io"))
        XCTAssertEqual(p.cells.count, 8)
        XCTAssertEqual(Set(p.cells.map { p.workload(for: $0).blockSizeKiB }), [64, 1024])
        XCTAssertEqual(Set(p.cells.map { p.workload(for: $0).mode }), [.buffered, .direct])
        XCTAssertTrue(p.cells.allSatisfy { $0.key.contains("block_size_kib=") && $0.pauseAfterRounds == 8 }, "\(p.cells.map(\.key))")
        let bad = """
            name: b
            hosts: lab
            workload: {mode: buffered, read_mib: 0}
            matrix: {mode: [live], link_rate: [100mbit], block_size_kib: [1000, 2]}
            """
        XCTAssertThrowsError(try PlanFile.parse(bad, file: "b.yaml")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("b.yaml:4:") && text.contains("block_size_kib must be a power of two of KiB from 4 to 65536, got '1000'"), text)
            XCTAssertTrue(text.contains("got '2'"), text)
        }
    }

    /// A plan is data: a host URI that makes libvirt run a program, or a Xen ssh destination that
    /// ssh would read as an option, is refused at its line unless the user allows it.
    func testHostsThatWouldRunAProgramAreRefusedAtTheirLine() throws {
        let ext = """
            hosts: {source: 'qemu+ext:///system?command=/bin/sh', destination: 'qemu+ssh://b/system?netcat=/tmp/nc', domain: g}
            matrix: {mode: [live], link_rate: [none]}
            """
        XCTAssertThrowsError(try PlanFile.parse(ext, file: "p.yaml")) { e in
            let lines = "\(e)".split(separator: "\n")
            XCTAssertEqual(lines.count, 2, "\(e)")
            XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("p.yaml:1:") && $0.contains("--allow-ext-transport") }, "\(e)")
        }
        XCTAssertNoThrow(try PlanFile.parse(ext, allowExternalTransport: true))
        XCTAssertNoThrow(try PlanFile.parse("hosts: {source: 'qemu+unix:///system?socket=/run/migscope-lab/hostA/sock/libvirt-sock', destination: 'qemu+tcp://b/system', domain: g}\nmatrix: {mode: [live], link_rate: [none]}"))
        for bad in ["ssh://-oProxyCommand=x", "ssh://root@-x", "ssh://a b", "ssh://a;b"] {
            XCTAssertThrowsError(try PlanFile.parse("hosts: {backend: libxl, destination: '\(bad)', domain: g}\nmatrix: {mode: [live], link_rate: [none]}", file: "p.yaml")) { e in
                XCTAssertTrue("\(e)".hasPrefix("p.yaml:1:") && "\(e)".contains("ssh://[USER@]HOST"), "\(bad): \(e)")
            }
        }
        XCTAssertNoThrow(try PlanFile.parse("hosts: {backend: libxl, destination: 'ssh://root@host-b.lab:2222', domain: g}\nmatrix: {mode: [live], link_rate: [none]}"))
    }

    func testTheReadCanBeSizedPerLinkRateAndALimitOnRoundsParses() throws {
        let p = try PlanFile.parse("""
            hosts: lab
            workload: {mode: buffered, read_mib: {100mbit: 640, 10mbit: 96}}
            matrix: {mode: [live, non-live], link_rate: [100mbit, 10mbit], pause_after_rounds: [3, none]}
            """)
        let live10 = try XCTUnwrap(p.cells.first { $0.mode == .live && $0.bandwidth == .mbit(10) && $0.pauseAfterRounds == 3 })
        XCTAssertEqual(p.workload(for: live10).amountMiB, 96)
        XCTAssertEqual(p.workload(for: try XCTUnwrap(p.cells.first { $0.bandwidth == .mbit(100) })).amountMiB, 640)
        XCTAssertEqual(live10.key, "mode=live bandwidth=10mbit link=shared pause_after_rounds=3")
        // live x {3, none} x 2 rates + non-live x 2 rates (a round limit means nothing without pre-copy)
        XCTAssertEqual(p.cells.count, 6)
        XCTAssertTrue(p.cells.filter { $0.mode == .nonLive }.allSatisfy { $0.pauseAfterRounds == nil })

        let cases: [(String, String)] = [
            ("hosts: lab\nworkload: {read_mib: {100mbit: 64}}\nmatrix: {mode: [live], link_rate: [100mbit, 10mbit]}", "names no amount for 10mbit"),
            ("hosts: lab\nworkload: {read_mib: {fast: 64}}\nmatrix: {mode: [live], link_rate: [100mbit]}", "'fast' is not a link rate"),
            ("hosts: lab\nworkload: {read_mib: {100mbit: -3}}\nmatrix: {mode: [live], link_rate: [100mbit]}", "read_mib for 100mbit must be"),
            ("hosts: lab\nmatrix: {mode: [live], link_rate: [100mbit], pause_after_rounds: [0]}", "pause_after_rounds must be a whole number"),
        ]
        for (yaml, expected) in cases {
            XCTAssertThrowsError(try PlanFile.parse(yaml)) { e in
                XCTAssertTrue("\(e)".contains(expected), "for \(yaml.debugDescription): \(e)")
            }
        }
    }
}

final class ScheduleTests: XCTestCase {
    func plan(reps: Int) -> Plan {
        Plan(name: "p", hosts: .lab(guestMemoryMiB: 256, diskSizeMiB: 512, accelerator: "tcg"), workload: Workload(),
             matrix: .init(modes: [.live, .nonLive], bandwidths: [.mbit(100), .mbit(10)], links: [.shared]), repetitions: reps)
    }

    func testRepetitionsInterleaveAndAlternateTheirOrder() {
        let s = plan(reps: 3).schedule
        XCTAssertEqual(s.count, 12)
        XCTAssertEqual(s.map(\.repetition), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
        let cells = plan(reps: 1).cells.map(\.key)
        XCTAssertEqual(s.prefix(4).map(\.cell.key), cells)
        XCTAssertEqual(s.dropFirst(4).prefix(4).map(\.cell.key), cells.reversed())
        XCTAssertEqual(s.suffix(4).map(\.cell.key), cells)
    }

    func testResumeSkipsExactlyTheCompleteRuns() {
        let p = plan(reps: 2)
        let done: Set<PlannedRun.Key> = [p.schedule[0].key, p.schedule[5].key]
        let left = p.remaining(completed: done)
        XCTAssertEqual(left.count, 6)
        XCTAssertFalse(left.contains { done.contains($0.key) })
        XCTAssertEqual(p.remaining(completed: Set(p.schedule.map(\.key))), [])
    }

    func testCellKeysAreStableAndReadable() {
        let c = PlanCell(mode: .live, bandwidth: .mbit(10), link: .shared, maxDowntimeMs: 300, bandwidthCapMiBps: nil, timeoutSeconds: 120)
        XCTAssertEqual(c.key, "mode=live bandwidth=10mbit link=shared max_downtime_ms=300 timeout_s=120")
    }
}

final class StatsTests: XCTestCase {
    func testMeanSdAndConfidenceInterval() throws {
        let s = try XCTUnwrap(MeasureStats([10, 12, 14]))
        XCTAssertEqual(s.mean, 12)
        XCTAssertEqual(s.sd ?? 0, 2, accuracy: 1e-9)
        // t(0.975, 2) = 4.302653; 4.302653 * 2 / sqrt(3)
        XCTAssertEqual(s.ci95 ?? 0, 4.302653 * 2 / 3.0.squareRoot(), accuracy: 1e-5)
        let one = try XCTUnwrap(MeasureStats([5]))
        XCTAssertNil(one.sd)
        XCTAssertNil(one.ci95)
        XCTAssertNil(MeasureStats([]))
    }

    func testThePaperComparisonSaysWhereWeAgreeAndDiffer() {
        func summary(_ ratio: Double, _ read: Double, _ mig: Double) -> RunSummary {
            var s = RunSummary(info: RunInfo(backend: "t", request: MigrationRequest(domain: "g", source: "a", destination: "b"), anchor: Date()),
                               trace: Trace(), analysis: RunAnalysis(trace: Trace()))
            s.ioDuringRatio = ratio
            s.workloadSeconds = read
            s.migrationSeconds = mig
            return s
        }
        func cell(_ m: MigrationRequest.Mode, _ mbit: UInt64, _ s: RunSummary) -> (cell: PlanCell, stats: CellStats) {
            let c = PlanCell(mode: m, bandwidth: .mbit(mbit), link: .shared, maxDowntimeMs: nil, bandwidthCapMiBps: nil, timeoutSeconds: nil)
            return (c, CellStats(cell: c.key, runs: [(1, s)]))
        }
        let f = PaperComparison.findings([
            cell(.live, 100, summary(0.12, 460, 100)), cell(.nonLive, 100, summary(0, 470, 110)),
            cell(.live, 10, summary(0.4, 900, 500)), cell(.nonLive, 10, summary(0, 950, 400)),
        ])
        XCTAssertEqual(f.map(\.verdict), ["agrees", "agrees", "agrees", "differs", "agrees"])
        var withBytes = summary(0.1, 1, 1)
        withBytes.bytesSent = 185_063_614
        let stats = CellStats(cell: "c", runs: [(1, withBytes)])
        XCTAssertEqual(stats.bytesSent?.mean, 185_063_614)
        XCTAssertEqual(BatchReport.cellRows([stats])[1][7], "176", "MiB sent")
        XCTAssertTrue(f[0].ours.hasPrefix("12 %"))

        // A cell whose read ended before its migration did is flagged, not compared.
        var early = summary(0.05, 300, 100)
        early.workloadEndedEarly = true
        let flagged = PaperComparison.findings([
            cell(.live, 100, early), cell(.nonLive, 100, summary(0, 470, 110)),
            cell(.live, 10, summary(0.4, 900, 500)), cell(.nonLive, 10, summary(0, 950, 400)),
        ])
        XCTAssertEqual(flagged.map(\.verdict), ["not comparable", "agrees", "not comparable", "differs", "agrees"])
        XCTAssertTrue(flagged[0].ours.contains("the read ended before the migration in 1 of 1 run"), flagged[0].ours)
        let row = BatchReport.cellRows([CellStats(cell: "c", runs: [(1, early)])])[1]
        XCTAssertEqual(row.last, "the read ended before the migration in 1 of 1 run: not comparable")
    }

    /// The efficiency table: a row per cell that names its reader and block size (the dirty-io plan
    /// varies both), and none at all when no run had an efficiency (full-duplex links).
    func testTheEfficiencyTableTellsCellsApartAndIsLeftOutWithoutEfficiencies() {
        func cell(_ reader: Workload.ReadMode, _ kib: Int, _ link: LinkModel) -> PlanCell {
            var c = PlanCell(mode: .live, bandwidth: .mbit(100), link: link, readMode: reader)
            c.blockSizeKiB = kib
            return c
        }
        func summary(efficient: Bool) -> RunSummary {
            var s = RunSummary(info: RunInfo(backend: "t", request: MigrationRequest(domain: "g", source: "a", destination: "b"), anchor: Date()),
                               trace: Trace(), analysis: RunAnalysis(trace: Trace()))
            s.migrationSeconds = 10
            if efficient {
                s.efficiency = LinkEfficiency(linkBytesPerSecond: 12_500_000, memoryBytes: 62_500_000, memorySource: .firstRound,
                                              migrationSeconds: 10, guestReadBytesPerSecond: 6_250_000)
            }
            return s
        }
        let cells = [cell(.buffered, 64, .fullDuplex), cell(.buffered, 1024, .fullDuplex)]
        let byKey = Dictionary(uniqueKeysWithValues: cells.map { ($0.key, $0) })
        XCTAssertNotEqual(cells[0].key, cells[1].key)
        let fullDuplex = cells.map { CellStats(cell: $0.key, runs: [(1, summary(efficient: false))]) }
        XCTAssertNil(BatchReport.efficiencyTable(fullDuplex, cells: byKey), "a table of dashes")
        let shared = cells.map { CellStats(cell: $0.key, runs: [(1, summary(efficient: true))]) }
        let rows = BatchReport.efficiencyTable(shared, cells: byKey)
        XCTAssertEqual(rows?.dropFirst().map { $0[1] }, ["buffered, 64 KiB", "buffered, 1024 KiB"], "\(rows ?? [])")
        XCTAssertEqual(rows?[1][4], "1.00", "g/C 0.5 + T0/T 0.5")
        XCTAssertNil(BatchReport.efficiencyTable(shared, cells: [:]), "a plan that varies neither mitigation nor reader")
    }
}

/// What keeps two batches, or an edited plan, from mixing their runs.
final class BatchSafetyTests: XCTestCase {
    var dir: String!
    override func setUp() {
        dir = NSTemporaryDirectory() + "/migscope-batch-safety-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func plan(baseline: Double) throws -> Plan {
        // Real hosts that do not exist: nothing here may get as far as contacting them.
        try PlanFile.parse("""
            name: p
            hosts: {source: 'qemu+tcp://198.18.0.250/system', destination: 'qemu+tcp://198.18.0.251/system', domain: g}
            matrix: {mode: [live], link_rate: [none]}
            baseline_s: \(baseline)
            """)
    }

    func storeCompletedRun(of plan: Plan, in store: ResultsStore) throws {
        let cell = plan.cells[0]
        var info = RunInfo(backend: "libvirt", request: MigrationRequest(domain: "g", source: "a", destination: "b"), anchor: Date(),
                           planName: plan.name, cell: cell.key, repetition: 1)
        info.planSettings = plan.definingSettings
        let id = try store.begin(info)
        info.status = .completed
        info.outcome = .completed
        try store.finish(runID: id, info: info, rounds: [], summary: RunSummary(info: info, trace: Trace(), analysis: RunAnalysis(trace: Trace())))
    }

    func testResumingAnEditedPlanSaysWhatChangedAndForceMixAllowsIt() async throws {
        let store = try ResultsStore(path: dir + "/r.sqlite")
        try storeCompletedRun(of: try plan(baseline: 5), in: store)
        let edited = BatchRunner(plan: try plan(baseline: 15), store: store) { _ in }
        do {
            _ = try await edited.run(resume: true)
            XCTFail("an edited plan was resumed over old runs")
        } catch let e as BatchError {
            XCTAssertTrue(e.description.contains("baseline_s: 5.0 then, 15.0 now"), e.description)
            XCTAssertTrue(e.description.contains("--force-mix"), e.description)
        }
        // With --force-mix it goes on: the one run is complete, so nothing is left to do.
        let outcome = try await edited.run(resume: true, forceMix: true)
        XCTAssertEqual(outcome.skipped, 1)
        // The same plan resumes without a word.
        let same = try await BatchRunner(plan: try plan(baseline: 5), store: store) { _ in }.run(resume: true)
        XCTAssertEqual(same.ran, [])
    }

    func testASecondBatchOnTheSameDatabaseIsRefusedWhileTheFirstRuns() async throws {
        let path = dir + "/r.sqlite"
        let store = try ResultsStore(path: path)
        try storeCompletedRun(of: try plan(baseline: 5), in: store)
        let first = try BatchLock(database: path, lab: false)
        do {
            _ = try await BatchRunner(plan: try plan(baseline: 5), store: store) { _ in }.run(resume: true)
            XCTFail("a second batch ran on a locked database")
        } catch let e as BatchError {
            XCTAssertTrue(e.description.contains("another batch (pid \(getpid())) is running on the results database"), e.description)
        }
        first.release()
        XCTAssertNoThrow(try BatchLock(database: path, lab: false).release())
    }
}

/// What a batch asks of its backend, run by run: nothing that backend declares it cannot do.
final class BatchRequestTests: XCTestCase {
    func runner(_ yaml: String) throws -> BatchRunner {
        let dir = NSTemporaryDirectory() + "migscope-batch-requests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return BatchRunner(plan: try PlanFile.parse(yaml), store: try ResultsStore(path: dir + "/r.sqlite")) { _ in }
    }

    func testAXenPlansRequestsAskNothingLibxlLacksThoughPlansDefaultToP2P() throws {
        let r = try runner("hosts: {backend: libxl, destination: 'hostB:8002', domain: web1}\nmatrix: {mode: [live, non-live], link_rate: [none]}")
        XCTAssertEqual(r.backend, .libxl)
        for cell in r.plan.cells {
            let request = r.request(for: cell, hosts: r.hostsOfTheRuns)
            XCTAssertEqual(request.transport, .clientManaged)
            XCTAssertEqual(request.source, "libxl://localhost")
            XCTAssertEqual(BackendChoice.libxl.capabilities.problems(request), [], "\(cell.key)")
        }
    }

    func testALibvirtPlanKeepsP2PAndTheCellsLimits() throws {
        let r = try runner("hosts: {source: 'qemu+ssh://a/system', destination: 'qemu+ssh://b/system', domain: g}\nmatrix: {mode: [live], link_rate: [none], bandwidth_cap_mibps: [10], pause_after_rounds: [3]}")
        let request = r.request(for: try XCTUnwrap(r.plan.cells.first), hosts: r.hostsOfTheRuns)
        XCTAssertEqual(request.transport, .peerToPeer)
        XCTAssertEqual(request.bandwidthMiBps, 10)
        XCTAssertEqual(request.pauseAfterRounds, 3)
        XCTAssertEqual(request.destination, "qemu+ssh://b/system")
    }
}

/// A plan's `predict: true`: the key, and the report's table of predicted beside measured per cell.
final class PlanPredictionTests: XCTestCase {
    func testThePredictKeyAndItsTable() throws {
        let yaml = "name: p\nhosts: lab\nmatrix: {mode: [live], link_rate: [100mbit]}\nrepetitions: 1\npredict: true\n"
        let plan = try PlanFile.parse(yaml)
        XCTAssertTrue(plan.predict)
        XCTAssertEqual(plan.definingSettings["predict"], "true")
        XCTAssertNil(try PlanFile.parse(yaml.replacingOccurrences(of: "predict: true\n", with: "")).definingSettings["predict"], "older plans keep their settings")
        XCTAssertEqual(plan.predictSwitchoverMs, 0, "no fixed costs unless the plan gives them")
        // The hosts' fixed costs say predict as well, and go to every run's prediction.
        let costed = try PlanFile.parse(yaml.replacingOccurrences(of: "predict: true", with: "predict: {setup_s: 1.5, switchover_ms: 380, switchover_mib: 2}"))
        XCTAssertTrue(costed.predict)
        XCTAssertEqual(costed.predictSetupSeconds, 1.5)
        XCTAssertEqual(costed.predictSwitchoverMs, 380)
        XCTAssertEqual(costed.predictSwitchoverBytes, 2 * 1_048_576)
        XCTAssertEqual(costed.definingSettings["predict"], "true", "fixed costs change the prediction, not the runs")
        XCTAssertThrowsError(try PlanFile.parse(yaml.replacingOccurrences(of: "predict: true", with: "predict: {switchover_ms: -5, downtime: 3}"), file: "p.yaml")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("'switchover_ms' must be 0 to 600000 milliseconds, got -5"), text)
            XCTAssertTrue(text.contains("downtime"), text)
        }

        let dir = NSTemporaryDirectory() + "migscope-predict-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ResultsStore(path: dir + "/r.sqlite")
        let cell = plan.cells[0]
        let inputs = PrecopyModel.Inputs(memoryBytes: 1e8, dirtying: .none, streamBytesPerSecond: 1e7, fixedDowntimeMs: 300)
        var ids: [Int64] = []
        for measured in [8.0, 12.0] {
            var info = RunInfo(backend: "libvirt", request: MigrationRequest(domain: "g", source: "a", destination: "b"), anchor: Date())
            info.cell = cell.key
            info.forecast = MigrationForecast(inputs: inputs, dirtyRate: DirtyRateMeasurement(domain: "g", host: "a", method: "page-sampling", windows: []),
                                              streamRateFrom: "test", prediction: PrecopyModel.predict(inputs))
            let id = try store.begin(info)
            info.status = .completed
            var summary = RunSummary(info: info, trace: Trace(), analysis: RunAnalysis(trace: Trace()))
            summary.migrationSeconds = measured
            summary.downtimeMs = 250
            summary.convergence = "converged: the last dirty pages fit the downtime limit"
            try store.finish(runID: id, info: info, rounds: [], summary: summary)
            ids.append(id)
        }
        let stats = CellStats(cell: cell.key, runs: try ids.map { (id: $0, summary: try XCTUnwrap(try store.run($0).summary)) })
        let rows = try BatchReport.predictionRows([stats], store: store)
        XCTAssertEqual(rows.count, 2, "\(rows)")
        // 100 MB at 10 MB/s: 10 s predicted each time; measured 8 and 12, mean 10.
        XCTAssertEqual(rows[1], [cell.key, "2", "10.0 / 10.0", "+0 %", "300 / 250", "+20 %", "2 / 2 of 2"])
    }
}
