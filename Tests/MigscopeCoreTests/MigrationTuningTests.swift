import XCTest
@testable import MigscopeCore

final class MigrationTuningTests: XCTestCase {
    func testStopPolicyDowntimeStepsAndPostcopyParseAsWrittenAndRefuseInOneLine() throws {
        XCTAssertEqual(try StopPolicy(parsing: "rounds=30,sent=3x"), StopPolicy(rounds: 30, sentMultiple: 3))
        XCTAssertEqual(try StopPolicy(parsing: "xen"), .xen3)
        XCTAssertEqual(try StopPolicy(parsing: "sent=2.5x").description, "sent=2.50x")
        for bad in ["", "rounds=0", "sent=0.5x", "rounds=30;sent=3x", "turns=4", "rounds=1e9"] {
            XCTAssertThrowsError(try StopPolicy(parsing: bad), bad) { e in
                XCTAssertFalse("\((e as! TuningSyntaxError).message)".contains("\n"))
            }
        }
        let steps = try DowntimeSteps(parsing: "max=500,steps=5,delay=10")
        XCTAssertEqual((1...5).map { steps.downtimeMs(step: $0) }, [100, 200, 300, 400, 500])
        for bad in ["max=500,steps=5", "max=0,steps=5,delay=1", "max=500,steps=0,delay=1", "max=500,steps=5,delay=-1", "x=1"] {
            XCTAssertThrowsError(try DowntimeSteps(parsing: bad), bad)
        }
        XCTAssertEqual(try PostcopyTrigger(parsing: "round:2"), .afterRound(2))
        XCTAssertEqual(try PostcopyTrigger(parsing: "12.5"), .afterSeconds(12.5))
        for bad in ["round:0", "round:x", "soon", "inf", "-3"] { XCTAssertThrowsError(try PostcopyTrigger(parsing: bad), bad) }
    }

    func testARequestRefusesLiveOnlyTuningWhenNonLiveAndOptionsThatSetTheSameThingTwice() {
        var r = MigrationRequest(domain: "g", source: "qemu:///a", destination: "qemu:///b", mode: .nonLive)
        r.postcopy = .afterRound(1)
        r.ioFloorPercent = 50
        XCTAssertEqual(Set(r.problems().map(\.field)), ["postcopy", "io-floor"])
        r.mode = .live
        XCTAssertEqual(r.problems(), [])
        r.bandwidthMiBps = 5
        r.parallelConnections = 4
        XCTAssertEqual(Set(r.problems().map(\.field)), ["io-floor", "postcopy"], "\(r.problems())")
        r = MigrationRequest(domain: "g", source: "qemu:///a", destination: "qemu:///b", maxDowntimeMs: 300)
        r.downtimeSteps = DowntimeSteps(maxMs: 1000, steps: 4, delaySeconds: 5)
        r.ioFloorPercent = 100
        XCTAssertEqual(Set(r.problems().map(\.field)), ["downtime-steps", "io-floor"])
    }

    func testEveryTuningFeatureIsNamedByItsFlagAndPlanKey() {
        var r = MigrationRequest(domain: "g", source: "a", destination: "b")
        r.autoConverge = AutoConverge()
        r.postcopy = .afterSeconds(3)
        r.parallelConnections = 2
        r.compression = .xbzrle
        r.stopPolicy = .xen3
        r.downtimeSteps = DowntimeSteps(maxMs: 1, steps: 1, delaySeconds: 1)
        r.ioFloorPercent = 50
        XCTAssertEqual(r.features, [.live, .peerToPeer, .autoConverge, .postcopy, .parallel, .compression, .stopPolicy, .downtimeSteps, .ioFloor])
        XCTAssertEqual(Set(r.features.map(\.flag)).count, r.features.count)
        XCTAssertEqual(r.tuningWords, "io-floor 50 %, auto-converge, postcopy after 3.00 s, parallel 2, compress xbzrle, stop-after rounds=30,sent=3x, downtime-steps max=1,steps=1,delay=1")
    }

    func testAMitigationSetsWhatItsWordsSayAndACapIsAShareOfTheLink() throws {
        let m = try Mitigation(parsing: " Storage-Priority + stop:rounds=5 ")
        XCTAssertEqual(m.text, "storage-priority+stop:rounds=5")
        XCTAssertTrue(m.storagePriority)
        XCTAssertEqual(m.stopPolicy, StopPolicy(rounds: 5))
        let base = MigrationRequest(domain: "g", source: "a", destination: "b")
        XCTAssertEqual(try Mitigation(parsing: "cap:50%").applied(to: base, linkRate: .mbit(100)).bandwidthMiBps, 6, "half of 11.9 MiB/s")
        XCTAssertEqual(try Mitigation(parsing: "cap:25%").applied(to: base, linkRate: .mbit(100)).bandwidthMiBps, 3)
        XCTAssertEqual(try Mitigation(parsing: "cap:7").applied(to: base, linkRate: .mbit(10)).bandwidthMiBps, 7)
        XCTAssertEqual(try Mitigation(parsing: "auto-converge:20/10").autoConverge, AutoConverge(initialPercent: 20, incrementPercent: 10))
        XCTAssertEqual(try Mitigation(parsing: "postcopy").postcopy, .afterRound(1))
        XCTAssertTrue(try Mitigation(parsing: "io-floor:50").liveOnly)
        XCTAssertFalse(try Mitigation(parsing: "cap:50%+parallel:4").liveOnly)
        for bad in ["", "cap", "cap:0%", "cap:150%", "io-floor:100", "turbo", "compress:lz4", "auto-converge:0", "stop:rounds=0", "cap:50%+"] {
            XCTAssertThrowsError(try Mitigation(parsing: bad), bad)
        }
    }

    func testPreCopyRulesPauseOnceARoundOrTheSentMultipleIsReachedAndSwitchToPostcopyAfterItsRound() {
        var r = MigrationRequest(domain: "g", source: "a", destination: "b")
        r.stopPolicy = StopPolicy(rounds: 3, sentMultiple: 2)
        r.postcopy = .afterRound(1)
        let rules = PreCopyRules(request: r)
        XCTAssertEqual(rules.onRound(1, progress: nil), [])
        XCTAssertEqual(rules.onRound(2, progress: nil), [.startPostcopy(.afterRound(1))])
        let p = JobProgress(iteration: 2, memoryTotalBytes: 100, memoryProcessedBytes: 150, dataProcessedBytes: 201)
        guard case .pause(.stoppedByPolicy(_, let rounds, let sent, let why)) = rules.onProgress(p).last else { return XCTFail("no pause for 2x sent") }
        XCTAssertEqual(rounds, 2)
        XCTAssertEqual(sent, 201)
        XCTAssertTrue(why.contains("2x"), why)
        guard case .pause(.stoppedByPolicy(_, 3, _, _)) = rules.onRound(4, progress: nil).first(where: { if case .pause = $0 { true } else { false } }) else {
            return XCTFail("no pause when round 4 would begin")
        }
        r.mode = .nonLive
        XCTAssertEqual(PreCopyRules(request: r).onRound(9, progress: p), [], "a non-live migration has no pre-copy to stop")
    }

    func testEfficiencyIsTheGuestsShareOfTheLinkPlusTheShortestTimeOverTheRuns() {
        let e = LinkEfficiency(linkBytesPerSecond: 12_500_000, memoryBytes: 62_500_000, memorySource: .firstRound,
                               migrationSeconds: 10, guestReadBytesPerSecond: 6_250_000)
        XCTAssertEqual(e.minimumSeconds, 5)
        XCTAssertEqual(e.timeShare, 0.5)
        XCTAssertEqual(e.guestShare, 0.5)
        XCTAssertEqual(e.efficiency, 1)
    }
}
