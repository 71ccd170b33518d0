/// How a hypervisor measures a dirty rate in place (QEMU's calc-dirty-rate modes).
public enum DirtyRateMethod: String, Sendable, Codable, CaseIterable {
    /// Hashes of sampled pages compared over the window (QEMU's default; any accelerator).
    case pageSampling = "page-sampling"
    /// The dirty bitmap, every page.
    case dirtyBitmap = "dirty-bitmap"
    /// KVM's dirty ring.
    case dirtyRing = "dirty-ring"
}

/// A guest's dirty rate measured in place, before any migration: one figure per window watched
/// (the hypervisor counts the distinct pages changed over it), and the dirtying model they fit.
public struct DirtyRateMeasurement: Sendable, Equatable, Codable {
    public struct Window: Sendable, Equatable, Codable {
        public var seconds: Double
        /// Distinct bytes dirtied over the window, per second of it.
        public var bytesPerSecond: Double
        public init(seconds: Double, bytesPerSecond: Double) {
            self.seconds = seconds
            self.bytesPerSecond = bytesPerSecond
        }
        public var bytes: Double { seconds * bytesPerSecond }
    }

    public var domain: String
    /// The host, without credentials.
    public var host: String
    /// How the hypervisor measured it (QEMU: page-sampling, dirty-bitmap, dirty-ring).
    public var method: String
    public var pageBytes: Double
    public var windows: [Window]
    /// What the guest read from its disks per second while the windows ran (the host's block
    /// counters); nil when not measured. Every byte read lands in guest memory, so the dirtied
    /// set grows at least this fast at first, whatever page sampling resolves.
    public var readBytesPerSecond: Double?
    /// When the guest's reads go through its page cache: the memory free or cached that they
    /// cycle through (see DirtyingModel.CacheFill). Nil when they bypass it (O_DIRECT) or it is
    /// not known: windows of seconds then stand for every length of round.
    public var readCachePoolBytes: Double?

    public init(domain: String, host: String, method: String, pageBytes: Double = 4096, windows: [Window], readBytesPerSecond: Double? = nil,
                readCachePoolBytes: Double? = nil) {
        self.domain = domain
        self.host = host
        self.method = method
        self.pageBytes = pageBytes
        self.windows = windows
        self.readBytesPerSecond = readBytesPerSecond
        self.readCachePoolBytes = readCachePoolBytes
    }

    /// The method of a dirty rate the user gave rather than measured (`--dirty-rate`).
    public static let given = "given"

    /// The windows of each length together: the mean of their rates, one per length, shortest
    /// first, with how many were measured. Page sampling counts whole sampled pages (2 MiB each at
    /// QEMU's 512 per GiB), so one window of a guest that rewrites 1 MiB catches it half the time;
    /// the mean of several catches it in proportion.
    public var byLength: [(window: Window, count: Int)] {
        Dictionary(grouping: windows, by: \.seconds).map { seconds, ws in
            (Window(seconds: seconds, bytesPerSecond: ws.map(\.bytesPerSecond).reduce(0, +) / Double(ws.count)), ws.count)
        }.sorted { $0.window.seconds < $1.window.seconds }
    }

    /// How the dirtied set grows with the window: what a prediction of pre-copy takes, fitted on
    /// each length's mean.
    /// When at least half the lengths found nothing dirtied, the guest dirties less than the method
    /// resolves: the odd window that caught a page is noise, and fitting it would make an idle
    /// guest look busy (seen in the lab: 0, 2, 0 MiB/s fitted as 0.7 MiB/s against a 1.2 MiB/s
    /// stream at 10 Mbit/s, and 2, 0 MiB/s from an idle guest in CI).
    ///
    /// Tried and undone (2026-12-03): a straight line wherever the windows could not resolve a
    /// working set. It fitted a buffered reader at 10 Mbit/s better, but gave a direct reader the
    /// long windows' low slope, and that reader, which rewrites one buffer as fast as the stream
    /// runs, was predicted to converge and did not.
    ///
    /// The guest's reads set the least initial slope: a read lands in memory as it arrives (a
    /// direct reader rewrites its buffer at its read rate; sampling saw 0 to 2 MiB of it per
    /// window). The working set stays what the windows show. Reads through the page cache also
    /// fill it, over rounds far longer than any window (`readCachePoolBytes`).
    public var model: DirtyingModel? {
        var means = byLength.map(\.window)
        guard !means.isEmpty else { return nil }
        if means.filter({ $0.bytesPerSecond == 0 }).count * 2 >= means.count { return DirtyingModel.none }
        if !setGrowsWithTheWindow {
            // Every length saw the same set: its mean over all windows is the working set.
            let set = windows.map(\.bytes).reduce(0, +) / Double(windows.count)
            means = means.map { Window(seconds: $0.seconds, bytesPerSecond: set / $0.seconds) }
        }
        guard var fitted = DirtyingModel.fit(means.map { .init(seconds: $0.seconds, bytes: $0.bytes) }) else { return nil }
        guard let reads = readBytesPerSecond, reads.isFinite, reads > 0 else { return fitted }
        if let pool = readCachePoolBytes, pool.isFinite, pool > 0 {
            fitted.cacheFill = .init(bytesPerSecond: reads, poolBytes: pool)
            // What the windows saw beyond the reads is churn (pages taken and freed, readahead) that
            // a longer round does not add to: a buffered reader at 10 Mbit/s showed 4 MiB/s over 1
            // and 2 s windows, and QEMU counted 45 MiB dirtied over a 43 s round, its reads' worth.
            if fitted.workingSetBytes == nil { fitted.workingSetBytes = means.map(\.bytes).max() }
        }
        if reads > fitted.bytesPerSecond { fitted.bytesPerSecond = reads }
        return fitted
    }

    /// Whether the longest windows caught more than the shortest beyond page sampling's error: the
    /// counts of sampled pages caught, per window, differ by more than twice the standard error
    /// of their difference (Poisson counts). Where they do not, a difference between the lengths
    /// is noise, and fitting it made a direct reader at 10 Mbit/s (2 pages caught in six 1 s
    /// windows, 6 in six 2 s windows) a set growing 1 MiB/s without end. Other methods count every
    /// page: their lengths differ as the guest does.
    public var setGrowsWithTheWindow: Bool {
        let groups = byLength
        guard method == DirtyRateMethod.pageSampling.rawValue, let short = groups.first, let long = groups.last, groups.count >= 2 else { return true }
        let q = Self.pageSamplingQuantumBytes
        let k1 = short.window.bytes * Double(short.count) / q, k2 = long.window.bytes * Double(long.count) / q
        let n1 = Double(short.count), n2 = Double(long.count)
        let error = (k1 / (n1 * n1) + k2 / (n2 * n2)).squareRoot()
        return k2 / n2 - k1 / n1 > 2 * error
    }

    /// What one sampled page stands for in page sampling: QEMU samples 512 pages per GiB of
    /// memory, so a page found changed counts as 2 MiB, whatever the guest's size.
    public static let pageSamplingQuantumBytes = 2 * 1_048_576.0

    /// The sampled pages page sampling found changed, over all windows (nil for other methods).
    public var sampledPagesCaught: Int? {
        guard method == DirtyRateMethod.pageSampling.rawValue else { return nil }
        return Int(windows.reduce(0) { $0 + $1.bytes / Self.pageSamplingQuantumBytes }.rounded())
    }

    /// The dirtying models the sampling error still allows: each length's mean at the low and the
    /// high end of its range, the pages caught taken as a Poisson count k, whose ~95 % range is
    /// (sqrt k -/+ 1)^2 (0 to 3 when none was caught). Empty unless page sampling measured it. A
    /// guest caught in few windows (an idle one: 3 sampled pages in 6 windows, 1 MiB a window) may
    /// dirty a fifth of that or two and a half times it.
    public var modelsWithinSamplingError: [DirtyingModel] {
        guard method == DirtyRateMethod.pageSampling.rawValue, !windows.isEmpty else { return [] }
        let q = Self.pageSamplingQuantumBytes
        func bound(high: Bool) -> DirtyingModel? {
            var m = self
            m.windows = byLength.map { g in
                let k = (g.window.bytes * Double(g.count) / q).rounded()
                let root = k.squareRoot(), lowRoot = max(0, root - 1)
                let caught = high ? (k == 0 ? 3 : (root + 1) * (root + 1)) : lowRoot * lowRoot
                return Window(seconds: g.window.seconds, bytesPerSecond: caught * q / Double(g.count) / g.window.seconds)
            }
            return m.model
        }
        return [bound(high: false), bound(high: true)].compactMap { $0 }
    }

    /// The windows to measure: `lengths` in turn, `repeats` times over (interleaved, so a workload
    /// that changes pace touches every length alike).
    public static func schedule(_ lengths: [Int], repeats: Int) -> [Int] {
        Array((0..<max(1, repeats)).map { _ in lengths }.joined())
    }
}
