import Foundation

/// Draining a host: which of its domains go first, where each goes, and at most how many move at
/// once (issue 17). Pure: the order and the placement are worked out from what the hosts said,
/// and `DrainScheduler` runs whatever migrates one domain, K at a time.
public enum DrainOrder: String, Sendable, Codable, CaseIterable {
    case smallestFirst = "smallest-first"
    case largestFirst = "largest-first"
    case lowestDirtyRateFirst = "lowest-dirty-rate-first"
    case asListed = "as-listed"
}

/// A domain to move, as its host describes it.
public struct DrainCandidate: Sendable, Equatable {
    public var name: String
    public var memoryBytes: UInt64
    /// Measured before the drain (bytes/s); nil when not measured (sorted last by dirty rate).
    public var dirtyBytesPerSecond: Double?
    public init(name: String, memoryBytes: UInt64, dirtyBytesPerSecond: Double? = nil) {
        self.name = name
        self.memoryBytes = memoryBytes
        self.dirtyBytesPerSecond = dirtyBytesPerSecond
    }
}

/// A destination and the memory it has free for guests.
public struct DrainDestination: Sendable, Equatable {
    public var host: String
    public var freeBytes: UInt64
    public init(host: String, freeBytes: UInt64) {
        self.host = host
        self.freeBytes = freeBytes
    }
}

public struct DrainStep: Sendable, Equatable {
    public var domain: String
    public var destination: String
}

public enum DrainPlanning {
    /// The candidates in the order asked; ties keep the order they were listed in.
    public static func ordered(_ candidates: [DrainCandidate], by order: DrainOrder) -> [DrainCandidate] {
        let indexed = Array(candidates.enumerated())
        func key(_ c: DrainCandidate) -> Double {
            switch order {
            case .smallestFirst: Double(c.memoryBytes)
            case .largestFirst: -Double(c.memoryBytes)
            case .lowestDirtyRateFirst: c.dirtyBytesPerSecond ?? .infinity
            case .asListed: 0
            }
        }
        return indexed.sorted { a, b in
            let ka = key(a.element), kb = key(b.element)
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }

    /// Each domain in turn to the destination with the most memory left once the ones before it
    /// are placed; among equals, the next in turn after the last one chosen (round robin). A domain
    /// that fits nowhere is a problem named before anything moves.
    public static func place(_ ordered: [DrainCandidate], on destinations: [DrainDestination]) -> Result<[DrainStep], DrainProblem> {
        guard !destinations.isEmpty else { return .failure(DrainProblem("no destination to drain to: give --to at least once")) }
        var free = destinations.map(\.freeBytes)
        var last = -1
        var steps: [DrainStep] = []
        for c in ordered {
            let most = free.max() ?? 0
            guard most >= c.memoryBytes else {
                return .failure(DrainProblem("'\(c.name)' needs \(Format.bytes(Double(c.memoryBytes))) and no destination has that free (the most is \(Format.bytes(Double(most)))); add a destination or leave it out"))
            }
            let n = free.count
            let pick = (1...n).map { (last + $0) % n }.first { free[$0] == most }!
            free[pick] -= c.memoryBytes
            last = pick
            steps.append(DrainStep(domain: c.name, destination: destinations[pick].host))
        }
        return .success(steps)
    }
}

public struct DrainProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs one job per step, at most `concurrency` at a time, in the steps' order. Once cancelled
/// (Ctrl-C), nothing new starts: a step not begun is reported `notStarted`, so the caller can say
/// it stayed where it was; the running ones get the cancellation and end as their job decides.
public struct DrainScheduler: Sendable {
    public enum Outcome<Value: Sendable>: Sendable {
        case finished(Value)
        case notStarted
    }

    public var concurrency: Int
    public init(concurrency: Int) { self.concurrency = max(1, concurrency) }

    public func run<Value: Sendable>(_ steps: [DrainStep], _ job: @escaping @Sendable (DrainStep) async -> Value) async -> [Outcome<Value>] {
        var outcomes = [Outcome<Value>](repeating: .notStarted, count: steps.count)
        await withTaskGroup(of: (Int, Value).self) { group in
            var next = 0
            func startNext() -> Bool {
                guard next < steps.count, !Task.isCancelled else { return false }
                let i = next, step = steps[i]
                next += 1
                group.addTask { (i, await job(step)) }
                return true
            }
            for _ in 0..<concurrency where !startNext() { break }
            while let (i, value) = await group.next() {
                outcomes[i] = .finished(value)
                _ = startNext()
            }
        }
        return outcomes
    }
}

/// Holds a recorded migration back until it may start, and is told when it has ended: a plan's
/// drain records every guest from the same moment (so each has a baseline from before the drain)
/// and lets their migrations go K at a time.
public protocol MigrationGate: Sendable {
    /// Waits for the migration's turn; false when it never comes (cancelled), and it must not start.
    func enter() async -> Bool
    func leave() async
}

/// The turns of a drain's migrations: in the order given (or worked out once the first one asks,
/// so a dirty rate can be measured while the guests' baselines run), at most `concurrency` at once.
public actor DrainTurns {
    public let concurrency: Int
    private var order: [String]?
    private let makeOrder: (@Sendable () async -> [String])?
    private var ordering: Task<[String], Never>?
    private var running: Set<String> = []
    private var done: Set<String> = []
    /// Each domain's start, in the order they were let go.
    public private(set) var started: [String] = []

    public init(order: [String], concurrency: Int) {
        self.order = order
        self.makeOrder = nil
        self.concurrency = max(1, concurrency)
    }

    /// The order is asked for when the first migration wants to start.
    public init(concurrency: Int, order makeOrder: @escaping @Sendable () async -> [String]) {
        self.order = nil
        self.makeOrder = makeOrder
        self.concurrency = max(1, concurrency)
    }

    func resolvedOrder() async -> [String] {
        if let order { return order }
        let task = ordering ?? Task { [makeOrder] in await makeOrder?() ?? [] }
        ordering = task
        let o = await task.value
        order = o
        return o
    }

    /// Whether `domain` may start now: it is the first of the domains not yet started, and fewer
    /// than `concurrency` run. A domain the order does not name never starts.
    public func tryEnter(_ domain: String) async -> Bool {
        let order = await resolvedOrder()
        guard running.count < concurrency, let next = order.first(where: { !running.contains($0) && !done.contains($0) }), next == domain else { return false }
        running.insert(domain)
        started.append(domain)
        return true
    }

    public func leave(_ domain: String) {
        running.remove(domain)
        done.insert(domain)
    }

    /// A domain that will not start after all (its run failed before its turn): the ones after it go on.
    public func skip(_ domain: String) { done.insert(domain) }

    public nonisolated func gate(for domain: String, poll: Duration = .milliseconds(100)) -> any MigrationGate {
        DrainTurnGate(turns: self, domain: domain, poll: poll)
    }
}

struct DrainTurnGate: MigrationGate {
    let turns: DrainTurns
    let domain: String
    let poll: Duration
    func enter() async -> Bool {
        while !Task.isCancelled {
            if await turns.tryEnter(domain) { return true }
            try? await Task.sleep(for: poll)
        }
        await turns.skip(domain)
        return false
    }
    func leave() async { await turns.leave(domain) }
}
