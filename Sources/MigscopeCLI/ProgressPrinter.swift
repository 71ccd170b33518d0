import Foundation
import MigscopeCore

/// What a long command shows while it runs (`--progress`, `-q`, `-v`): the human progress line on
/// stderr, rewritten in place and cut to the terminal's width (only when stdout and stderr are
/// terminals, or always with `--progress line`, one line a second in a log), or one JSON object per
/// line on stdout for scripts (`--progress json`), or nothing. Notes (what migscope does) go to
/// stderr unless `-q`; `-v` adds each round's start and every state change.
final class ProgressPrinter: MigrationObserver, @unchecked Sendable {
    private let lock = NSLock()
    private let output: OutputOptions.Resolved
    private let interactive: Bool
    private let domain: String
    private var start: ContinuousClock.Instant?
    private var lastPrinted: ContinuousClock.Instant?
    private var lastRound: UInt64?
    private var lineShown = false

    init(domain: String, output: OutputOptions.Resolved = .init()) {
        self.domain = domain
        self.output = output
        interactive = output.progress == .line && isatty(STDERR_FILENO) == 1
    }

    func migrationStarted(_ request: MigrationRequest, at: ContinuousClock.Instant) {
        lock.withLock { start = at; lastRound = nil }
        let mode = request.mode == .live ? "live" : "non-live"
        let (from, to) = (HostURI.redacted(request.source), HostURI.redacted(request.destination))
        emit(["type": "migration-started", "domain": domain, "mode": mode, "source": from, "destination": to])
        note("migrating '\(domain)' \(mode) from \(from) to \(to)")
    }

    func progressed(_ p: JobProgress, at: ContinuousClock.Instant) {
        lock.withLock {
            guard let start else { return }
            let elapsed = (at - start).secondsDouble
            let newRound = p.iteration != nil && p.iteration != lastRound
            if newRound { lastRound = p.iteration }
            if output.verbose && newRound, let round = p.iteration, output.progress != .json {
                writeNoteLocked("round \(round) began at \(Format.seconds(elapsed)): remaining \(p.memoryRemainingBytes.map { Format.bytes($0) } ?? "?")")
            }
            switch output.progress {
            case .none, .auto: return
            case .json:
                // At most one a second, and each new round at once.
                if !newRound, let last = lastPrinted, at - last < .seconds(1) { return }
                lastPrinted = at
                emitLocked(ProgressJSON.object(p, elapsed: elapsed))
            case .line:
                if !interactive, let last = lastPrinted, at - last < .seconds(1) { return }
                lastPrinted = at
                if interactive {
                    let line = ProgressLine.render(p, elapsed: elapsed, width: TerminalWidth.columns(STDERR_FILENO).map { $0 - 1 })
                    writeErr("\r\u{1B}[K" + line)
                    lineShown = true
                } else {
                    writeErr(ProgressLine.render(p, elapsed: elapsed) + "\n")
                }
            }
        }
    }

    func signalled(_ s: MigrationSignal) {
        let words: String? = switch s.kind {
        case .guestPaused(let host): "guest paused on the \(host.rawValue)"
        case .guestResumed(let host): "guest resumed on the \(host.rawValue)"
        case .startedOnDestination: output.verbose ? "the domain appeared on the destination" : nil
        case .stoppedOnSource: output.verbose ? "the domain left the source" : nil
        case .jobCompleted: output.verbose ? "the hypervisor reports the job completed" : nil
        case .other(let host, let what): output.verbose ? "\(host.rawValue): \(what)" : nil
        case .roundStarted: nil
        }
        guard let words else { return }
        emit(["type": "signal", "text": words])
        // Without -v only the moments the paper's figures mark: the pause and the resume.
        switch s.kind {
        case .guestPaused(.source), .guestResumed(.destination): note(words)
        default: if output.verbose { note(words) }
        }
    }

    func intervened(_ action: MigrationIntervention, at: ContinuousClock.Instant) {
        emit(["type": "intervention", "text": "\(action)"])
        note("\(action)")
    }

    func migrationFinished(_ summary: MigrationSummary) {
        emit(["type": "migration-finished", "domain": domain, "status": summary.outcome.status.rawValue, "elapsed_s": (summary.elapsedSeconds * 1000).rounded() / 1000,
              "rounds": summary.rounds, "location": "\(summary.location)"])
    }

    /// A line for people on stderr (not with -q); with `--progress json`, also an object on stdout.
    func note(_ text: String) {
        emit(["type": "note", "text": text])
        lock.withLock { writeNoteLocked(text) }
    }

    /// One JSON object on stdout, when `--progress json`.
    func emit(_ object: [String: Any]) {
        guard output.progress == .json else { return }
        lock.withLock { emitLocked(object) }
    }

    func finish() {
        lock.withLock { if lineShown { writeErr("\n"); lineShown = false } }
    }

    private func writeNoteLocked(_ text: String) {
        guard !output.quiet else { return }
        if lineShown { writeErr("\r\u{1B}[K"); lineShown = false }
        writeErr("migscope: \(text)\n")
    }

    private func emitLocked(_ object: [String: Any]) {
        var o = object
        o["time"] = ISO8601DateFormatter.withFractions.string(from: Date())
        guard let data = try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        JSONLines.write(data)
    }

    private func writeErr(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}

/// stdout as JSON Lines: each object whole on its own line, flushed, so a reader sees it at once.
enum JSONLines {
    private static let lock = NSLock()
    static func write(_ object: Data) {
        lock.withLock {
            FileHandle.standardOutput.write(object + Data("\n".utf8))
        }
    }
    static func write(_ value: some Encodable, type: String) throws {
        // The same snake_case JSON as --json, compact, wrapped with its type.
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try e.encode(value)
        write(Data("{\"type\":\"\(type)\",\"result\":".utf8) + body + Data("}".utf8))
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}

/// The terminal's width, when `fd` is one.
enum TerminalWidth {
    static func columns(_ fd: Int32) -> Int? {
        var w = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0 else { return nil }
        return Int(w.ws_col)
    }
}

/// A poll as one JSON object (`--progress json`), snake_case like every JSON migscope prints.
enum ProgressJSON {
    static func object(_ p: JobProgress, elapsed: Double) -> [String: Any] {
        var o: [String: Any] = ["type": "progress", "elapsed_s": (elapsed * 1000).rounded() / 1000]
        let fields: [(String, UInt64?)] = [
            ("round", p.iteration), ("memory_total_bytes", p.memoryTotalBytes), ("memory_processed_bytes", p.memoryProcessedBytes),
            ("memory_remaining_bytes", p.memoryRemainingBytes), ("dirty_pages_per_s", p.dirtyRatePagesPerSecond),
            ("dirty_bytes_per_s", p.dirtyRateBytesPerSecond), ("stream_bytes_per_s", p.memoryBytesPerSecond),
            ("speed_cap_bytes_per_s", p.speedCapBytesPerSecond), ("cpu_throttle_pct", p.cpuThrottlePercent), ("downtime_ms", p.downtimeMs),
        ]
        for (k, v) in fields { if let v { o[k] = v } }
        if let f = p.fractionDone { o["fraction_done"] = (f * 10000).rounded() / 10000 }
        return o
    }
}

/// One progress line: "round 3 | 45.2 % | remaining 512.0 MiB | dirty 1200 pages/s (4.7 MiB/s) | 12.3 s".
enum ProgressLine {
    /// Cut to `width` by leaving out the least telling parts first (stream, dirty rate, remaining).
    static func render(_ p: JobProgress, elapsed: Double, width: Int?) -> String {
        var parts = self.parts(p, elapsed: elapsed)
        guard let width, width > 0 else { return parts.joined(separator: " | ") }
        for prefix in ["stream ", "dirty ", "remaining "] where parts.joined(separator: " | ").count > width {
            parts.removeAll { $0.hasPrefix(prefix) }
        }
        let line = parts.joined(separator: " | ")
        return line.count > width ? String(line.prefix(width)) : line
    }

    static func render(_ p: JobProgress, elapsed: Double) -> String { parts(p, elapsed: elapsed).joined(separator: " | ") }

    static func parts(_ p: JobProgress, elapsed: Double) -> [String] {
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
        return parts
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
