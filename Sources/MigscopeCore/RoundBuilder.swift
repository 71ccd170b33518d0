/// Turns round-start signals and job polls into per-round records. Pure: unit tested on recorded sequences.
///
/// A round runs from its start signal to the next one (the last to the job's end). Bytes sent in a
/// round are the job's processed-memory counter at its end minus at its start, interpolated between
/// polls. Where the hypervisor computes the dirty rate at each dirty-bitmap sync over the time since the last, the
/// rate reported once round N+1 has begun describes round N; the memory remaining when round N+1
/// begins is what round N left dirty.
public enum RoundBuilder {
    public struct Input: Sendable {
        /// Round numbers and start times, from the hypervisor's iteration events.
        public var starts: [(number: Int, t: Double)]
        public var polls: [JobSample]
        /// When the migration began (processed = 0).
        public var migrationStartT: Double
        /// When the guest was paused for the final copy; nil if never.
        public var pausedAt: Double?
        /// When the job ended.
        public var endT: Double
        /// The finished job's figures.
        public var final: JobProgress?
        /// Whether the job completed (a completed job has nothing left to send).
        public var completed: Bool

        public init(starts: [(number: Int, t: Double)], polls: [JobSample], migrationStartT: Double, pausedAt: Double?, endT: Double, final: JobProgress?, completed: Bool) {
            self.starts = starts
            self.polls = polls
            self.migrationStartT = migrationStartT
            self.pausedAt = pausedAt
            self.endT = endT
            self.final = final
            self.completed = completed
        }
    }

    public static func rounds(_ input: Input) -> [RoundRecord] {
        let polls = input.polls.sorted { $0.t < $1.t }
        var starts = input.starts.sorted { $0.t < $1.t }
        if starts.isEmpty {
            // No events (missed, or a backend without them): a round begins where polls first show its number.
            var seen = Set<UInt64>()
            for p in polls {
                if let i = p.progress.iteration, i > 0, seen.insert(i).inserted { starts.append((Int(i), p.t)) }
            }
        }
        guard !starts.isEmpty else { return [] }
        let pageSize = polls.lazy.compactMap(\.progress.pageSizeBytes).first ?? input.final?.pageSizeBytes

        // Processed bytes as a function of time: (start, 0), every poll, and (end, final).
        var points: [(t: Double, v: Double)] = [(input.migrationStartT, 0)]
        points += polls.compactMap { p in p.progress.memoryProcessedBytes.map { (p.t, Double($0)) } }
        if let f = input.final?.memoryProcessedBytes { points.append((input.endT, Double(f))) }
        points.sort { $0.t < $1.t }
        func processed(at t: Double) -> Double {
            guard let last = points.last else { return 0 }
            if t <= points[0].t { return points[0].v }
            if t >= last.t { return last.v }
            var i = 0
            while points[i + 1].t < t { i += 1 }
            let a = points[i], b = points[i + 1]
            return b.t > a.t ? a.v + (b.v - a.v) * (t - a.t) / (b.t - a.t) : b.v
        }

        var rounds: [RoundRecord] = []
        for (k, s) in starts.enumerated() {
            let start = s.t
            let end = k + 1 < starts.count ? starts[k + 1].t : max(input.endT, start)
            let nextEnd = k + 2 < starts.count ? starts[k + 2].t : input.endT
            let inRound = polls.filter { $0.t >= start && $0.t <= end }
            let sent = max(0, processed(at: end) - processed(at: start))
            let reportedAfter = polls.first { $0.t > end && $0.t <= nextEnd && ($0.progress.iteration ?? 0) > UInt64(s.number) }
            let dirty = reportedAfter?.progress.dirtyRatePagesPerSecond ?? inRound.last(where: { $0.progress.dirtyRatePagesPerSecond != nil })?.progress.dirtyRatePagesPerSecond
            var remainingStart: UInt64? = nil
            if let first = inRound.first(where: { $0.progress.memoryRemainingBytes != nil }), let r = first.progress.memoryRemainingBytes {
                remainingStart = UInt64(max(0, Double(r) + processed(at: first.t) - processed(at: start)))
            }
            var remainingEnd: UInt64? = nil
            if k == starts.count - 1 && input.completed {
                remainingEnd = 0
            } else if let last = inRound.last(where: { $0.progress.memoryRemainingBytes != nil }), let r = last.progress.memoryRemainingBytes {
                remainingEnd = UInt64(max(0, Double(r) - (processed(at: end) - processed(at: last.t))))
            }
            let duration = end - start
            rounds.append(RoundRecord(
                number: s.number, startS: start, endS: end, bytesSent: UInt64(sent.rounded()),
                dirtyPagesPerSecond: dirty, dirtyBytesPerSecond: dirty.flatMap { d in pageSize.map { d * $0 } },
                remainingBytesAtStart: remainingStart, remainingBytesAtEnd: remainingEnd,
                transferBytesPerSecond: duration > 0 ? sent / duration : 0, stopAndCopy: false))
        }
        // What round N left dirty is what round N+1 started with.
        for k in rounds.indices.dropLast() {
            if let next = rounds[k + 1].remainingBytesAtStart, let p = pageSize, p > 0 { rounds[k].pagesDirtied = next / p }
        }
        // Rounds that began once the guest was paused are the stop-and-copy; if the pause came
        // mid-round (a forced pause), that round finished the copy.
        if let paused = input.pausedAt {
            var any = false
            for k in rounds.indices where rounds[k].startS >= paused - 0.05 {
                rounds[k].stopAndCopy = true
                any = true
            }
            if !any, let k = rounds.indices.last(where: { rounds[$0].startS <= paused }) { rounds[k].stopAndCopy = true }
        }
        return rounds
    }
}
