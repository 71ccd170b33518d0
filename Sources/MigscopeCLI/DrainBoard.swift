import Foundation
import MigscopeCore

/// What `drain` shows while it runs: one line per domain (waiting, its migration's round, share
/// sent and time, or how it ended). On a terminal the block is redrawn in place twice a second;
/// in a log it is printed whole every 5 s while something moves, so a log reads as a sequence of
/// snapshots. Notes (a migration started or ended) go above the block.
final class DrainBoard: @unchecked Sendable {
    enum State: Equatable {
        case waiting
        case migrating(since: Double, progress: JobProgress?)
        case ended(String)
    }

    struct Entry: Equatable {
        var domain: String
        var destination: String
        var state: State
    }

    private let lock = NSLock()
    private var entries: [Entry]
    private let start: ContinuousClock.Instant
    private let interactive: Bool
    private var shownLines = 0
    private var lastPrinted: ContinuousClock.Instant?
    private var ticker: Task<Void, Never>?

    init(_ steps: [DrainStep], start: ContinuousClock.Instant, interactive: Bool = isatty(STDERR_FILENO) == 1) {
        entries = steps.map { Entry(domain: $0.domain, destination: $0.destination, state: .waiting) }
        self.start = start
        self.interactive = interactive
    }

    /// Redraws on a clock, so a line's time moves even between the hypervisor's polls.
    func startShowing() {
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                self?.tick()
            }
        }
    }

    func stopShowing() {
        ticker?.cancel()
        lock.withLock {
            clearLocked()
            if !interactive { printLocked(force: true) }
        }
    }

    func began(_ domain: String) { update(domain) { $0 = .migrating(since: self.now, progress: nil) } }
    func progressed(_ domain: String, _ p: JobProgress) {
        update(domain) { state in
            if case .migrating(let since, _) = state { state = .migrating(since: since, progress: p) }
        }
    }
    func ended(_ domain: String, _ words: String) { update(domain) { $0 = .ended(words) } }

    /// A line above the block (the block is redrawn below it).
    func note(_ text: String) {
        lock.withLock {
            clearLocked()
            printNote("[\(Format.seconds(now))] \(text)")
            if interactive { drawLocked() }
        }
    }

    /// A watcher for one domain's migration, feeding its line.
    func watcher(for domain: String) -> any MigrationObserver { Watcher(board: self, domain: domain) }

    private struct Watcher: MigrationObserver {
        let board: DrainBoard
        let domain: String
        func progressed(_ progress: JobProgress, at: ContinuousClock.Instant) { board.progressed(domain, progress) }
    }

    private var now: Double { (ContinuousClock.now - start).secondsDouble }

    private func update(_ domain: String, _ change: (inout State) -> Void) {
        lock.withLock {
            guard let i = entries.firstIndex(where: { $0.domain == domain }) else { return }
            change(&entries[i].state)
        }
    }

    private func tick() {
        lock.withLock {
            if interactive { drawLocked() } else { printLocked(force: false) }
        }
    }

    private func drawLocked() {
        let width = TerminalWidth.columns(STDERR_FILENO).map { $0 - 1 }
        let lines = Self.lines(entries, now: now, width: width)
        var out = shownLines > 0 ? "\u{1B}[\(shownLines)A" : ""
        for l in lines { out += "\r\u{1B}[K" + l + "\n" }
        FileHandle.standardError.write(Data(out.utf8))
        shownLines = lines.count
    }

    private func clearLocked() {
        guard interactive, shownLines > 0 else { return }
        FileHandle.standardError.write(Data(("\u{1B}[\(shownLines)A" + "\r\u{1B}[J").utf8))
        shownLines = 0
    }

    /// In a log: the whole block every 5 s, only while a migration runs.
    private func printLocked(force: Bool) {
        let moving = entries.contains { if case .migrating = $0.state { true } else { false } }
        guard force || moving else { return }
        if !force, let last = lastPrinted, ContinuousClock.now - last < .seconds(5) { return }
        lastPrinted = .now
        let text = Self.lines(entries, now: now, width: nil).map { "migscope:   " + $0 + "\n" }.joined()
        FileHandle.standardError.write(Data(("migscope: [\(Format.seconds(now))] drain\n" + text).utf8))
    }

    /// One line per domain: its name and destination padded to a column, then its state.
    static func lines(_ entries: [Entry], now: Double, width: Int?) -> [String] {
        let nameWidth = min(24, entries.map(\.domain.count).max() ?? 0)
        let hostWidth = min(28, entries.map { HostURI.redacted($0.destination).count }.max() ?? 0)
        return entries.map { e in
            let head = pad(e.domain, nameWidth) + " -> " + pad(HostURI.redacted(e.destination), hostWidth) + "  "
            let state: String
            switch e.state {
            case .waiting: state = "waiting"
            case .ended(let words): state = words
            case .migrating(let since, let p):
                let elapsed = now - since
                if let p {
                    let room = width.map { max(10, $0 - head.count) }
                    state = ProgressLine.render(p, elapsed: elapsed, width: room)
                } else {
                    state = "starting | \(Format.seconds(elapsed))"
                }
            }
            let line = head + state
            if let width, line.count > width { return String(line.prefix(max(1, width))) }
            return line
        }
    }

    private static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? String(s.prefix(max(n, 1))) : s + String(repeating: " ", count: n - s.count)
    }
}
