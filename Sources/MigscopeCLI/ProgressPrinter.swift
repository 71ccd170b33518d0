import Foundation
import MigscopeCore

/// The live progress line on stderr: rewritten in place on a terminal, one line a second otherwise.
final class ProgressPrinter: MigrationObserver, @unchecked Sendable {
    private let lock = NSLock()
    private let interactive = isatty(STDERR_FILENO) == 1
    private let domain: String
    private var start: ContinuousClock.Instant?
    private var lastPrinted: ContinuousClock.Instant?
    private var lineShown = false
    private var rounds = 0

    init(domain: String) { self.domain = domain }

    func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant) {
        lock.withLock { start = at }
        note("migrating '\(domain)' \(request.mode == .live ? "live" : "non-live") from \(HostURI.redacted(request.source)) to \(HostURI.redacted(request.destination))")
    }

    func progressed(_ p: JobProgress, at: ContinuousClock.Instant) {
        lock.withLock {
            guard let start else { return }
            if !interactive, let last = lastPrinted, at - last < .seconds(1) { return }
            lastPrinted = at
            let line = ProgressLine.render(p, elapsed: (at - start).secondsDouble)
            write(interactive ? "\r\u{1B}[K" + line : line + "\n")
            lineShown = interactive
        }
    }

    func signalled(_ s: MigrationSignal) {
        switch s.kind {
        case .guestPaused(.source): note("guest paused on the source")
        case .guestResumed(.destination): note("guest resumed on the destination")
        default: break
        }
    }

    func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant) { note("\(action)") }

    func note(_ text: String) {
        lock.withLock {
            if lineShown { write("\r\u{1B}[K"); lineShown = false }
            write("migscope: \(text)\n")
        }
    }

    func finish() {
        lock.withLock { if lineShown { write("\n"); lineShown = false } }
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}

/// One progress line: "round 3 | 45.2 % | remaining 512.0 MiB | dirty 1200 pages/s (4.7 MiB/s) | 12.3 s".
enum ProgressLine {
    static func render(_ p: JobProgress, elapsed: Double) -> String {
        var parts: [String] = []
        parts.append("round " + (p.iteration.map(String.init) ?? "?"))
        if let f = p.fractionDone { parts.append(String(format: "%.1f %%", f * 100)) }
        if let r = p.memoryRemainingBytes { parts.append("remaining " + Format.bytes(r)) }
        if let d = p.dirtyRatePagesPerSecond {
            var s = "dirty \(d) pages/s"
            if let b = p.dirtyRateBytesPerSecond { s += " (\(Format.rate(Double(b))))" }
            parts.append(s)
        }
        if let bps = p.memoryBytesPerSecond { parts.append("stream " + Format.rate(Double(bps))) }
        parts.append(Format.seconds(elapsed))
        return parts.joined(separator: " | ")
    }
}

/// The closing summary of one migration, for people.
enum SummaryText {
    static func render(_ s: MigrationSummary, domain: DomainFacts) -> String {
        var lines: [String] = []
        let outcome: String = switch s.outcome {
        case .completed: s.outcome.status.rawValue
        case .aborted(let why): "\(s.outcome.status.rawValue) (\(why))"
        case .failed(let why): "\(s.outcome.status.rawValue) (\(why))"
        }
        lines.append("migration of '\(domain.name)': \(outcome)")
        lines.append("  mode:        \(s.request.mode.rawValue)\(s.pausedForTimeout ? ", guest paused by migscope to force completion" : "")")
        lines.append("  total time:  \(Format.seconds(s.elapsedSeconds))")
        if let d = s.final?.downtimeMs { lines.append("  downtime:    \(d) ms (reported by the hypervisor)") }
        lines.append("  rounds:      \(s.rounds)")
        if let b = s.bytesSent {
            var t = "  bytes sent:  \(Format.bytes(b))"
            if let m = domain.memoryBytes, m > 0 { t += String(format: " (%.2f x guest memory)", Double(b) / Double(m)) }
            lines.append(t)
        }
        lines.append("  domain now:  \(s.location)")
        if s.outcome == .completed, s.location.place == .nowhere {
            // The hypervisor finished the job, then the guest stopped: it crashed or shut down there.
            lines.append("               the guest stopped after arriving on the destination; its console and the destination's QEMU log say why")
        }
        return lines.joined(separator: "\n")
    }
}
