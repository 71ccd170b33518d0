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
