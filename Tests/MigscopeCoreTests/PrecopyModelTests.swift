import Foundation
import XCTest
@testable import MigscopeCore

/// The pre-copy model against cases worked out by hand (MB = 10^6 bytes, to keep the arithmetic plain).
final class PrecopyModelTests: XCTestCase {
    let mb = 1e6

    func testAGuestThatDirtiesNothingSendsItsMemoryOnceAndStopsAtOnce() {
        let p = PrecopyModel.predict(.init(memoryBytes: 1000 * mb, dirtying: .none, streamBytesPerSecond: 100 * mb, fixedDowntimeMs: 20))
        XCTAssertEqual(p.ending, .converged)
        XCTAssertEqual(p.precopyRounds, 1)
        XCTAssertEqual(p.rounds.last?.stopAndCopy, true)
        XCTAssertEqual(p.rounds.last?.bytes, 0)
        XCTAssertEqual(p.bytesSent, 1000 * mb)
        XCTAssertEqual(p.migrationSeconds ?? -1, 10, accuracy: 1e-9)
        XCTAssertEqual(p.downtimeMs ?? -1, 20, accuracy: 1e-9, "only the fixed cost")
        // Device state of 10 MB sent in the stop at 100 MB/s adds 100 ms to it, and to the time.
        let state = PrecopyModel.predict(.init(memoryBytes: 1000 * mb, dirtying: .none, streamBytesPerSecond: 100 * mb, fixedDowntimeMs: 20, switchoverBytes: 10 * mb))
        XCTAssertEqual(state.downtimeMs ?? -1, 120, accuracy: 1e-9)
        XCTAssertEqual(state.bytesSent, 1010 * mb)
        XCTAssertEqual(state.migrationSeconds ?? -1, 10.1, accuracy: 1e-9)
    }

    /// 1000 MB of which 600 never written: round 1 sends 400 MB (4 s); the setup adds 2 s; the
    /// non-live copy sends the same 400 MB with the guest paused.
    func testZeroPagesAreNotSentAndTheSetupIsAdded() {
        let live = PrecopyModel.predict(.init(memoryBytes: 1000 * mb, dirtying: .none, streamBytesPerSecond: 100 * mb, zeroBytes: 600 * mb, setupSeconds: 2))
        XCTAssertEqual(live.rounds.first?.bytes ?? 0, 400 * mb, accuracy: 1e-6)
        XCTAssertEqual(live.migrationSeconds ?? -1, 6, accuracy: 1e-9)
        let nonLive = PrecopyModel.predict(.init(memoryBytes: 1000 * mb, dirtying: .none, streamBytesPerSecond: 100 * mb, live: false, zeroBytes: 600 * mb))
        XCTAssertEqual(nonLive.downtimeMs ?? -1, 4000, accuracy: 1e-6)
        // More "free" than memory (an untrue guest) sends nothing in round 1, never a negative amount.
        let none = PrecopyModel.predict(.init(memoryBytes: 1000 * mb, dirtying: .none, streamBytesPerSecond: 100 * mb, zeroBytes: 5000 * mb))
        XCTAssertEqual(none.bytesSent, 0)
    }

    /// Half the windows or more seeing nothing means an idle guest; one window's catch is not fitted as a rate.
    func testMostlyEmptyWindowsMeanNothingIsDirtied() {
        let idle = DirtyRateMeasurement(domain: "g", host: "h", method: "page-sampling", windows: [
            .init(seconds: 1, bytesPerSecond: 0), .init(seconds: 2, bytesPerSecond: 2 * 1_048_576), .init(seconds: 4, bytesPerSecond: 0)])
        XCTAssertEqual(idle.model, DirtyingModel.none)
        let halfEmpty = DirtyRateMeasurement(domain: "g", host: "h", method: "page-sampling", windows: [
            .init(seconds: 2, bytesPerSecond: 2 * 1_048_576), .init(seconds: 4, bytesPerSecond: 0)])
        XCTAssertEqual(halfEmpty.model, DirtyingModel.none, "a longer window that found nothing outweighs a shorter one's catch")
        let busy = DirtyRateMeasurement(domain: "g", host: "h", method: "page-sampling", windows: [
            .init(seconds: 1, bytesPerSecond: 0), .init(seconds: 2, bytesPerSecond: 2 * 1_048_576), .init(seconds: 4, bytesPerSecond: 1_048_576)])
        XCTAssertNotEqual(busy.model?.bytesPerSecond ?? 0, 0, "one empty window of three is a measurement, not idleness")
        XCTAssertNil(DirtyRateMeasurement(domain: "g", host: "h", method: "given", windows: []).model)
    }

    /// Repeated windows are averaged per length: a direct reader's 1 MiB buffer, caught by page
    /// sampling (2 MiB a sampled page) in a third of the windows, is a small working set, not idleness.
    /// Its lengths caught 2 and 3 sampled pages, a difference well within sampling's error: the set
    /// is the mean of all twelve windows, whatever the length.
    func testRepeatedWindowsAreFittedOnEachLengthsMean() throws {
        let mib = 1_048_576.0
        XCTAssertEqual(DirtyRateMeasurement.schedule([1, 2], repeats: 3), [1, 2, 1, 2, 1, 2])
        XCTAssertEqual(DirtyRateMeasurement.schedule([4], repeats: 0), [4])
        let oneMs: [Double] = [0, 2, 0, 0, 2, 0], twoMs: [Double] = [1, 0, 1, 0, 0, 1]
        let windows = zip(oneMs, twoMs).flatMap { a, b in [DirtyRateMeasurement.Window(seconds: 1, bytesPerSecond: a * mib), .init(seconds: 2, bytesPerSecond: b * mib)] }
        let direct = DirtyRateMeasurement(domain: "g", host: "h", method: "page-sampling", windows: windows)
        let groups = direct.byLength
        XCTAssertEqual(groups.map(\.count), [6, 6])
        XCTAssertEqual(groups[0].window.bytes, 2.0 / 3 * mib, accuracy: 1)
        XCTAssertEqual(groups[1].window.bytes, 1 * mib, accuracy: 1)
        XCTAssertFalse(direct.setGrowsWithTheWindow, "2 pages against 3")
        let m = try XCTUnwrap(direct.model)
        // (4 + 6 MiB) / 12 windows: the set is 5/6 MiB, covered within the shortest window.
        XCTAssertEqual(try XCTUnwrap(m.workingSetBytes), 5.0 / 6 * mib, accuracy: 0.01 * mib)
        XCTAssertEqual(m.dirtied(over: 1), 5.0 / 6 * mib, accuracy: 0.01 * mib)
        XCTAssertEqual(m.dirtied(over: 100), 5.0 / 6 * mib, accuracy: 0.01 * mib)
        // Reads raise the initial slope to their rate where it is lower; the working set stays.
        var reading = direct
        reading.readBytesPerSecond = 0.1 * mib
        XCTAssertEqual(reading.model, m, "reads slower than what sampling found change nothing")
        // Growth beyond sampling's error is fitted: 6 pages in six 1 s windows, 18 in six 2 s ones.
        let growing = DirtyRateMeasurement(domain: "g", host: "h", method: "page-sampling", windows: Array(repeating: [
            DirtyRateMeasurement.Window(seconds: 1, bytesPerSecond: 2 * mib), .init(seconds: 2, bytesPerSecond: 3 * mib)], count: 6).flatMap { $0 })
        XCTAssertTrue(growing.setGrowsWithTheWindow)
        let g = try XCTUnwrap(growing.model)
        XCTAssertEqual(g.dirtied(over: 1), 2 * mib, accuracy: 0.01 * mib)
        XCTAssertEqual(g.dirtied(over: 2), 4 * mib, accuracy: 0.1 * mib, "a set seen growing threefold is fitted as near that as a set can grow: twofold")
        // Counting every page (dirty-bitmap), lengths differ as the guest does.
        var bitmap = direct
        bitmap.method = DirtyRateMethod.dirtyBitmap.rawValue
        XCTAssertTrue(bitmap.setGrowsWithTheWindow)
    }

    /// A dirty rate near the stream's makes converging a close call; an idle guest or one far above is not.
    func testACloseCallIsWhenTheDirtyRateSitsAtTheStreamsRate() {
        let mib = 1_048_576.0
        func inputs(_ d: Double, ws: Double?) -> PrecopyModel.Inputs {
            .init(memoryBytes: 128 * mib, dirtying: DirtyingModel(bytesPerSecond: d * mib, workingSetBytes: ws.map { $0 * mib }), streamBytesPerSecond: 1.19 * mib)
        }
        XCTAssertFalse(PrecopyModel.isCloseCall(inputs(0, ws: nil)), "nothing dirtied: converges whatever the error")
        XCTAssertFalse(PrecopyModel.isCloseCall(inputs(10, ws: nil)), "ten times the stream: never converges whatever the error")
        XCTAssertTrue(PrecopyModel.isCloseCall(inputs(1.19, ws: nil)), "at the stream's rate the answer turns on the error")
        XCTAssertFalse(PrecopyModel.isCloseCall(.init(memoryBytes: 128 * mib, dirtying: DirtyingModel(bytesPerSecond: 1.19 * mib), streamBytesPerSecond: 1.19 * mib, live: false)))
    }

    /// An idle guest that page sampling caught in half its windows (3 sampled pages of 2 MiB in
    /// six 1 s and six 2 s windows, as measured in the lab at 10 Mbit/s) looks like a 1 MiB working
    /// set, more than a 300 ms downtime lets through at 1.25 MB/s; but a fifth of it would
    /// converge, so the forecast says it is a close call and why. A busy guest caught in every
    /// window is not one.
    func testAGuestCaughtInFewWindowsIsACloseCallBySamplingError() throws {
        let mib = 1_048_576.0
        func measurement(_ oneS: [Double], _ twoS: [Double]) -> DirtyRateMeasurement {
            DirtyRateMeasurement(domain: "g", host: "h", method: "page-sampling", windows: zip(oneS, twoS).flatMap { a, b in
                [DirtyRateMeasurement.Window(seconds: 1, bytesPerSecond: a * mib), .init(seconds: 2, bytesPerSecond: b * mib / 2)] })
        }
        func forecast(_ m: DirtyRateMeasurement, stream: Double) throws -> MigrationForecast {
            let x = PrecopyModel.Inputs(memoryBytes: 128 * mib, dirtying: try XCTUnwrap(m.model), streamBytesPerSecond: stream)
            return MigrationForecast(inputs: x, dirtyRate: m, streamRateFrom: "test", prediction: PrecopyModel.predict(x))
        }
        let idle = measurement([2, 0, 2, 0, 0, 2], [0, 2, 0, 2, 2, 0])
        XCTAssertEqual(idle.sampledPagesCaught, 6)
        XCTAssertEqual(idle.byLength.map(\.window.bytes), [1 * mib, 1 * mib])
        XCTAssertEqual(idle.modelsWithinSamplingError.count, 2)
        let low = try XCTUnwrap(idle.modelsWithinSamplingError.first)
        // Three caught per length: (sqrt 3 - 1)^2 = 0.54 pages, 0.18 MiB a window.
        XCTAssertEqual(low.dirtied(over: 1000), 0.536 * 2 / 6 * mib, accuracy: 0.01 * mib)
        let slow = try forecast(idle, stream: 1.25e6)
        XCTAssertFalse(slow.prediction.ending == .converged, "1 MiB left each round is more than 375 kB")
        XCTAssertEqual(slow.closeCall, true)
        XCTAssertTrue(slow.closeCallReason?.contains("page sampling caught 6 sampled pages in 12 windows") == true, slow.closeCallReason ?? "nil")
        let fast = try forecast(idle, stream: 12.5e6)
        XCTAssertEqual(fast.prediction.ending, .converged)
        XCTAssertEqual(fast.closeCall, false, "at 100 Mbit/s even three times the set fits the downtime")
        let busy = try forecast(measurement(Array(repeating: 18, count: 6), Array(repeating: 22, count: 6)), stream: 12.5e6)
        XCTAssertEqual(busy.closeCall, false, "\(busy.closeCallReason ?? "")")
        XCTAssertTrue(DirtyRateMeasurement(domain: "g", host: "h", method: "given", windows: []).modelsWithinSamplingError.isEmpty)
    }

    /// Forecasts stored before zero pages and setup were modelled still read, as assuming neither.
    func testAnOlderStoredForecastStillDecodes() throws {
        let json = #"{"memoryBytes":1e9,"pageBytes":4096,"dirtying":{"bytesPerSecond":0},"streamBytesPerSecond":1e8,"live":true,"convergence":{"qemu":{"maxDowntimeMs":300}},"fixedDowntimeMs":0}"#
        let x = try JSONDecoder().decode(PrecopyModel.Inputs.self, from: Data(json.utf8))
        XCTAssertEqual(x.zeroBytes, 0)
        XCTAssertEqual(x.setupSeconds, 0)
        XCTAssertEqual(x.switchoverBytes, 0)
        XCTAssertEqual(x.convergence, .qemu(maxDowntimeMs: 300))
    }

    /// 1000 MB at 100 MB/s, dirtied at 50 MB/s, max downtime 300 ms (30 MB): rounds of 1000, 500,
    /// 250, 125, 62.5, 31.25 MB; 15.625 MB fits, so it goes in a stop-and-copy of 156.25 ms.
    func testGeometricRoundsEndWhenWhatIsLeftFitsTheMaxDowntime() {
        let p = PrecopyModel.predict(.init(memoryBytes: 1000 * mb, dirtying: .init(bytesPerSecond: 50 * mb), streamBytesPerSecond: 100 * mb))
        XCTAssertEqual(p.ending, .converged)
        XCTAssertEqual(p.rounds.map { ($0.bytes / mb * 1000).rounded() / 1000 }, [1000, 500, 250, 125, 62.5, 31.25, 15.625])
        XCTAssertEqual(p.precopyRounds, 6)
        XCTAssertEqual(p.bytesSent / mb, 1984.375, accuracy: 1e-6)
        XCTAssertEqual(p.migrationSeconds ?? -1, 19.84375, accuracy: 1e-9)
        XCTAssertEqual(p.downtimeMs ?? -1, 156.25, accuracy: 1e-6)
        XCTAssertEqual(p.rounds[3].startSeconds, 17.5, accuracy: 1e-9)
    }

    func testADirtyRateAboveTheStreamNeverConverges() {
        let p = PrecopyModel.predict(.init(memoryBytes: 1000 * mb, dirtying: .init(bytesPerSecond: 150 * mb), streamBytesPerSecond: 100 * mb))
        guard case .neverConverges(let steady) = p.ending else { return XCTFail("\(p.ending)") }
        XCTAssertEqual(steady, 1000 * mb, "every round re-sends all of memory")
        XCTAssertFalse(p.completes)
        XCTAssertNil(p.downtimeMs)
        XCTAssertNil(p.migrationSeconds)
        // A working set the stream cannot outrun settles at its fixed point, above what 300 ms allows.
        let ws = PrecopyModel.predict(.init(memoryBytes: 1000 * mb, dirtying: .init(bytesPerSecond: 300 * mb, workingSetBytes: 200 * mb),
                                            streamBytesPerSecond: 100 * mb))
        guard case .neverConverges(let settled) = ws.ending else { return XCTFail("\(ws.ending)") }
        XCTAssertGreaterThan(settled, 30 * mb)
        XCTAssertLessThan(settled, 200 * mb)
    }

    /// The same non-converging guest under the Xen-like stop (3 rounds, or 3x memory sent): rounds
    /// of 1000 MB each (10 s), then a 10 s stop-and-copy of all of it.
    func testTheXenLikeStopEndsWhatWouldNotConverge() {
        let base = PrecopyModel.Inputs(memoryBytes: 1000 * mb, dirtying: .init(bytesPerSecond: 150 * mb), streamBytesPerSecond: 100 * mb)
        var byRounds = base
        byRounds.stopPolicy = StopPolicy(rounds: 3)
        let p = PrecopyModel.predict(byRounds)
        XCTAssertEqual(p.ending, .stopRule("stop policy: 3 rounds"))
        XCTAssertEqual(p.precopyRounds, 3)
        XCTAssertEqual(p.bytesSent / mb, 4000, accuracy: 1e-6)
        XCTAssertEqual(p.migrationSeconds ?? -1, 40, accuracy: 1e-9)
        XCTAssertEqual(p.downtimeMs ?? -1, 10_000, accuracy: 1e-6)
        var bySent = base
        bySent.stopPolicy = StopPolicy(sentMultiple: 3)
        let q = PrecopyModel.predict(bySent)
        XCTAssertEqual(q.ending, .stopRule("stop policy: 3x memory sent"))
        XCTAssertEqual(q.bytesSent, p.bytesSent)
        // libxenguest's own limit: 5 rounds.
        var xen = base
        xen.convergence = .xen
        let x = PrecopyModel.predict(xen)
        XCTAssertEqual(x.ending, .hypervisorRoundLimit)
        XCTAssertEqual(x.precopyRounds, 5)
    }

    /// --timeout 12 s on the guest above: round 2 is 2 s in (200 MB of it sent) when the guest is
    /// paused; the 800 MB it had left plus the 300 MB dirtied in those 2 s exceed memory, so the
    /// stop-and-copy sends all 1000 MB: 10 s, ending at 22 s.
    func testATimeoutPausesMidRound() {
        var x = PrecopyModel.Inputs(memoryBytes: 1000 * mb, dirtying: .init(bytesPerSecond: 150 * mb), streamBytesPerSecond: 100 * mb)
        x.pauseAfterSeconds = 12
        let p = PrecopyModel.predict(x)
        XCTAssertEqual(p.ending, .timeout)
        XCTAssertEqual(p.rounds.map { ($0.bytes / mb).rounded() }, [1000, 200, 1000])
        XCTAssertEqual(p.rounds.map(\.stopAndCopy), [false, false, true])
        XCTAssertEqual(p.migrationSeconds ?? -1, 22, accuracy: 1e-9)
        XCTAssertEqual(p.downtimeMs ?? -1, 10_000, accuracy: 1e-6)
        // A slower dirtier: round 2 is 500 MB, 200 of it sent by 12 s, 100 MB dirtied meanwhile.
        x.dirtying = .init(bytesPerSecond: 50 * mb)
        x.convergence = .qemu(maxDowntimeMs: 1)
        XCTAssertEqual((PrecopyModel.predict(x).rounds.last?.bytes ?? 0) / mb, 400, accuracy: 1e-6, "round 2 is 500 MB: 300 of it left + 100 dirtied")
    }

    /// Reads through the page cache go on dirtying new pages over rounds far longer than the
    /// windows, until they have cycled through the memory free or cached (worked by hand).
    func testReadsThroughThePageCacheFillItOverLongRounds() throws {
        let fill = DirtyingModel(bytesPerSecond: 0, cacheFill: .init(bytesPerSecond: 0.5 * mb, poolBytes: 30 * mb))
        XCTAssertEqual(fill.dirtied(over: 10) / mb, 5, accuracy: 1e-9)
        XCTAssertEqual(fill.dirtied(over: 100) / mb, 30, accuracy: 1e-9, "no more than the pool")
        let covered = DirtyingModel(bytesPerSecond: 8 * mb, workingSetBytes: 4 * mb, cacheFill: .init(bytesPerSecond: 0.5 * mb, poolBytes: 30 * mb))
        XCTAssertEqual(covered.dirtied(over: 1) / mb, 4 * (1 - exp(-2)), accuracy: 1e-9, "within a window, the working set's cover")
        XCTAssertEqual(covered.dirtied(over: 40) / mb, 20, accuracy: 1e-9, "over a long round, the cache's fill")

        // 100 MB at 1 MB/s: round 1 takes 100 s and leaves the pool, 30 MB; round 2 30 s leaves 15;
        // round 3 15 s leaves 7.5; round 4 is paused at 150 s, 5 s in: 2.5 MB of it left + 2.5 dirtied.
        var x = PrecopyModel.Inputs(memoryBytes: 100 * mb, dirtying: fill, streamBytesPerSecond: 1 * mb, pauseAfterSeconds: 150)
        let p = PrecopyModel.predict(x)
        XCTAssertEqual(p.ending, .timeout)
        XCTAssertEqual(p.rounds.map { $0.bytes / mb }, [100, 30, 15, 5, 5])
        XCTAssertEqual(p.downtimeMs ?? -1, 5000, accuracy: 1e-6)
        x.dirtying = .none
        XCTAssertEqual(PrecopyModel.predict(x).ending, .converged, "without the reads it converges after round 1")

        // The measurement gives the fill only where the reads are known to go through the cache.
        var m = DirtyRateMeasurement(domain: "g", host: "h", method: "page-sampling",
                                     windows: [.init(seconds: 1, bytesPerSecond: 4 * mb), .init(seconds: 2, bytesPerSecond: 2 * mb)], readBytesPerSecond: 1.1 * mb)
        XCTAssertNil(try XCTUnwrap(m.model).cacheFill, "a direct reader's reads rewrite its buffer")
        m.readCachePoolBytes = 50 * mb
        XCTAssertEqual(try XCTUnwrap(m.model).cacheFill, .init(bytesPerSecond: 1.1 * mb, poolBytes: 50 * mb))
        XCTAssertEqual(try XCTUnwrap(m.model).dirtied(over: 90) / mb, 50, accuracy: 1e-9)
        // A set the windows saw growing as a line stops at the largest seen when the reads fill the
        // cache: over long rounds the fill, at the reads' rate, is what grows.
        var churn = DirtyRateMeasurement(domain: "g", host: "h", method: "page-sampling", windows: Array(repeating: [
            DirtyRateMeasurement.Window(seconds: 1, bytesPerSecond: 8 * mb), .init(seconds: 2, bytesPerSecond: 8 * mb)], count: 6).flatMap { $0 }, readBytesPerSecond: 1.1 * mb)
        XCTAssertNil(try XCTUnwrap(churn.model).workingSetBytes, "without the cache's pool, a line")
        churn.readCachePoolBytes = 50 * mb
        let c = try XCTUnwrap(churn.model)
        XCTAssertEqual(try XCTUnwrap(c.workingSetBytes) / mb, 16, accuracy: 1e-9)
        XCTAssertEqual(c.dirtied(over: 40) / mb, 44, accuracy: 1e-6, "40 s of reads, not 320 MB of the windows' line")
        // A forecast stored before the fill decodes without one.
        let old = try JSONDecoder().decode(DirtyingModel.self, from: Data(#"{"bytesPerSecond": 5, "workingSetBytes": 9}"#.utf8))
        XCTAssertNil(old.cacheFill)
    }

    /// A stop QEMU's test began sends the unsent end of its pass anyway, which a switch-over measured
    /// on idle guests already holds (up to the max downtime's worth): dirtied pages cost beyond it.
    func testAConvergedStopCostsDirtiedPagesOnlyBeyondTheTailTheSwitchOverHolds() {
        // 100 MB at 10 MB/s, 2 MB dirtied whatever the round: round 1 10 s, then 2 MB fit 300 ms (3 MB).
        var x = PrecopyModel.Inputs(memoryBytes: 100 * mb, dirtying: .init(bytesPerSecond: 1000 * mb, workingSetBytes: 2 * mb), streamBytesPerSecond: 10 * mb)
        XCTAssertEqual(PrecopyModel.predict(x).ending, .converged)
        XCTAssertEqual(PrecopyModel.predict(x).downtimeMs ?? -1, 200, accuracy: 1e-6, "no switch-over given: the memory alone")
        x.fixedDowntimeMs = 250
        XCTAssertEqual(PrecopyModel.predict(x).downtimeMs ?? -1, 250, accuracy: 1e-6, "2 MB within the 2.5 MB tail")
        x.fixedDowntimeMs = 100
        XCTAssertEqual(PrecopyModel.predict(x).downtimeMs ?? -1, 200, accuracy: 1e-6, "1 MB beyond a 1 MB tail")
        x.dirtying = .init(bytesPerSecond: 1000 * mb, workingSetBytes: 2.5 * mb)
        x.fixedDowntimeMs = 800
        XCTAssertEqual(PrecopyModel.predict(x).downtimeMs ?? -1, 800, accuracy: 1e-6, "the tail is at most the max downtime's 3 MB")
        // A stop by a timeout comes mid-pass: all that is pending costs.
        x.dirtying = .init(bytesPerSecond: 20 * mb)
        x.pauseAfterSeconds = 12
        x.fixedDowntimeMs = 250
        let p = PrecopyModel.predict(x)
        XCTAssertEqual(p.ending, .timeout)
        XCTAssertEqual(p.downtimeMs ?? -1, (p.rounds.last?.bytes ?? 0) / (10 * mb) * 1000 + 250, accuracy: 1e-6)
    }

    func testNonLiveIsOneStopAndCopyOfAllMemory() {
        let p = PrecopyModel.predict(.init(memoryBytes: 1000 * mb, dirtying: .init(bytesPerSecond: 150 * mb), streamBytesPerSecond: 100 * mb, live: false))
        XCTAssertEqual(p.ending, .nonLive)
        XCTAssertEqual(p.rounds.count, 1)
        XCTAssertEqual(p.downtimeMs ?? -1, 10_000, accuracy: 1e-6)
        XCTAssertEqual(p.migrationSeconds ?? -1, 10, accuracy: 1e-9)
    }

    func testTheDirtyingModelIsFittedFromWindows() {
        // Linear: twice the window, twice the pages.
        let linear = DirtyingModel.fit([.init(seconds: 1, bytes: 10 * mb), .init(seconds: 2, bytes: 20.2 * mb)])
        XCTAssertNil(linear?.workingSetBytes)
        XCTAssertEqual(linear?.bytesPerSecond ?? 0, 10.05 * mb, accuracy: 1e3)
        // Saturating: made by a 100 MB working set dirtied at 100 MB/s, found back.
        let truth = DirtyingModel(bytesPerSecond: 100 * mb, workingSetBytes: 100 * mb)
        let fitted = DirtyingModel.fit([1.0, 2, 4].map { .init(seconds: $0, bytes: truth.dirtied(over: $0)) })
        XCTAssertEqual(fitted?.workingSetBytes ?? 0, 100 * mb, accuracy: 1 * mb)
        XCTAssertEqual(fitted?.bytesPerSecond ?? 0, 100 * mb, accuracy: 2 * mb)
        XCTAssertEqual(truth.dirtied(over: 1) / mb, 63.212, accuracy: 0.001)
        XCTAssertNil(DirtyingModel.fit([]))
        XCTAssertEqual(DirtyingModel.fit([.init(seconds: 1, bytes: 0)])?.bytesPerSecond, 0, "an idle guest")
    }
}
