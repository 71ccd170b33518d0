import CoreMetrics
import Foundation
import MigscopeCore
import Prometheus

/// migscope's live state as Prometheus metrics: the running migration (round, memory, rates, cap,
/// phase), the guest's I/O, the last downtime, and a batch's runs. swift-metrics handles on a
/// registry of swift-prometheus' of its own (no process-wide bootstrap), so a library user can keep
/// several. Names and units as Prometheus' conventions have them.
public final class LiveMetrics: MigrationObserver, @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let lock = NSLock()
    /// The batch's plan and the cell now running; empty for a lone migration.
    private var plan = ""
    private var cell = ""
    private var current: MigrationGauges?
    private var guest: [String: (read: Meter, write: Meter)] = [:]
    private var lastDowntime: Meter?
    private var currentHosts: [(String, String)] = []
    private var batch: BatchGauges?

    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// The exposition text (Prometheus' text format 0.0.4).
    public func exposition() -> String { registry.emitToString() }

    /// The phases a migration goes through, one series each, the current one at 1.
    public enum Phase: String, CaseIterable, Sendable {
        case precopy, stopAndCopy = "stop-and-copy", postcopy, completed, failed, aborted
    }

    // MARK: Batches

    /// A batch's run begins: its cell labels the migration's series from here on.
    public func runStarting(plan: String, cell: String, index: Int, of total: Int, secondsLeft: Double?) {
        lock.withLock {
            self.plan = plan
            self.cell = cell
            let b = batch ?? BatchGauges(plan: plan, factory: factory)
            batch = b
            // The one starting is left until it ends.
            b.left.set(Double(total - index + 1))
            if let secondsLeft { b.secondsLeft.set(secondsLeft) }
        }
    }

    /// A batch's run is in the database: complete, or failed (each failed try counts).
    public func runFinished(failed: Bool) {
        lock.withLock { batch.map { (failed ? $0.failed : $0.done).increment() } }
    }

    /// The batch ended, through its last run.
    public func batchEnded() {
        lock.withLock {
            batch?.left.set(0)
            batch?.secondsLeft.set(0)
        }
    }

    // MARK: MigrationObserver

    public func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant) {
        lock.withLock {
            current?.destroy()
            let labels = [("domain", request.domain), ("source", HostURI.redacted(request.source)),
                          ("destination", HostURI.redacted(request.destination)), ("plan", plan), ("cell", cell)]
            let g = MigrationGauges(labels: labels, factory: factory)
            g.phase(request.mode == .live ? .precopy : .stopAndCopy)
            current = g
            currentHosts = Array(labels.prefix(3))
        }
    }

    public func progressed(_ p: JobProgress, at: ContinuousClock.Instant) {
        lock.withLock {
            guard let g = current else { return }
            if let n = p.iteration { g.set("round", Double(n)) }
            // Before its first round a job reports 0 of 0 (QEMU's setup): nothing is known yet.
            if let m = p.memoryTotalBytes, m > 0 {
                g.set("memory_total_bytes", Double(m))
                if let r = p.memoryRemainingBytes { g.set("memory_remaining_bytes", Double(r)) }
            }
            if let s = p.dataProcessedBytes ?? p.memoryProcessedBytes { g.set("sent_bytes", Double(s)) }
            if let d = p.dirtyRateBytesPerSecond { g.set("dirty_rate_bytes_per_second", Double(d)) }
            if let r = p.memoryBytesPerSecond { g.set("stream_rate_bytes_per_second", Double(r)) }
            // 0: no cap set by migscope.
            g.set("speed_cap_bytes_per_second", p.speedCapBytesPerSecond.map { Double($0) } ?? 0)
            if let e = p.timeElapsedMs { g.set("elapsed_seconds", Double(e) / 1000) }
        }
    }

    public func signalled(_ signal: MigrationSignal) {
        lock.withLock {
            guard let g = current else { return }
            switch signal.kind {
            case .guestPaused(.source): if g.now == .precopy { g.phase(.stopAndCopy) }
            default: break
            }
        }
    }

    public func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant) {
        lock.withLock {
            guard let g = current else { return }
            switch action {
            case .switchedToPostcopy: g.phase(.postcopy)
            case .speedCapSet(let mib, _): g.set("speed_cap_bytes_per_second", mib.map { Double($0) * 1_048_576 } ?? 0)
            default: break
            }
        }
    }

    public func migrationFinished(_ s: MigrationSummary) {
        lock.withLock {
            guard let g = current else { return }
            switch s.outcome {
            case .completed:
                g.phase(.completed)
                g.set("memory_remaining_bytes", 0)
                if let d = s.final?.downtimeMs {
                    // Kept across a batch's runs, labelled by domain and hosts only; none before the first.
                    let m = lastDowntime ?? Meter(label: "migscope_migration_last_downtime_seconds", dimensions: currentHosts, factory: factory)
                    lastDowntime = m
                    m.set(Double(d) / 1000)
                }
            case .failed: g.phase(.failed)
            case .aborted: g.phase(.aborted)
            }
            if let b = s.bytesSent { g.set("sent_bytes", Double(b)) }
            g.set("elapsed_seconds", s.elapsedSeconds)
        }
    }

    public func sampled(_ sample: IOSample) {
        lock.withLock {
            // The guest's own lines, and each host's block counters, as series of their own.
            let origin = sample.series == .guest ? "guest" : sample.host
            let pair = guest[origin] ?? {
                let labels = [("measured_by", origin)]
                let p = (read: Meter(label: "migscope_guest_read_bytes_per_second", dimensions: labels, factory: factory),
                         write: Meter(label: "migscope_guest_write_bytes_per_second", dimensions: labels, factory: factory))
                guest[origin] = p
                return p
            }()
            pair.read.set(sample.readBytesPerSecond)
            pair.write.set(sample.writeBytesPerSecond)
        }
    }
}

/// One migration's series, labelled with its domain, hosts, plan and cell. A figure's series
/// appears when the hypervisor first reports it: a missing figure stays missing, not zero.
private final class MigrationGauges {
    private let labels: [(String, String)]
    private let factory: PrometheusMetricsFactory
    private var meters: [String: Meter] = [:]
    private let phases: [LiveMetrics.Phase: Meter]
    private(set) var now: LiveMetrics.Phase?

    init(labels: [(String, String)], factory: PrometheusMetricsFactory) {
        self.labels = labels
        self.factory = factory
        phases = Dictionary(uniqueKeysWithValues: LiveMetrics.Phase.allCases.map { p in
            (p, Meter(label: "migscope_migration_phase", dimensions: labels + [("phase", p.rawValue)], factory: factory))
        })
    }

    /// Sets `migscope_migration_<name>`.
    func set(_ name: String, _ value: Double) {
        let m = meters[name] ?? Meter(label: "migscope_migration_" + name, dimensions: labels, factory: factory)
        meters[name] = m
        m.set(value)
    }

    func phase(_ p: LiveMetrics.Phase) {
        now = p
        for (q, m) in phases { m.set(q == p ? 1.0 : 0.0) }
    }

    /// A new run's series replace these: a finished cell's stop being exposed.
    func destroy() {
        for m in Array(meters.values) + Array(phases.values) { m.destroy() }
    }
}

/// A batch's series, labelled with its plan.
private final class BatchGauges {
    let done, failed: CoreMetrics.Counter
    let left, secondsLeft: Meter

    init(plan: String, factory: PrometheusMetricsFactory) {
        let labels = [("plan", plan)]
        done = CoreMetrics.Counter(label: "migscope_batch_runs_done_total", dimensions: labels, factory: factory)
        failed = CoreMetrics.Counter(label: "migscope_batch_runs_failed_total", dimensions: labels, factory: factory)
        left = Meter(label: "migscope_batch_runs_left", dimensions: labels, factory: factory)
        secondsLeft = Meter(label: "migscope_batch_estimated_seconds_left", dimensions: labels, factory: factory)
    }
}
