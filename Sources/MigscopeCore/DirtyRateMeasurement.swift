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

    public init(domain: String, host: String, method: String, pageBytes: Double = 4096, windows: [Window]) {
        self.domain = domain
        self.host = host
        self.method = method
        self.pageBytes = pageBytes
        self.windows = windows
    }

    /// The method of a dirty rate the user gave rather than measured (`--dirty-rate`).
    public static let given = "given"

    /// How the dirtied set grows with the window: what a prediction of pre-copy takes.
    /// When at least half the windows found nothing dirtied, the guest dirties less than the method
    /// resolves (page sampling counts 2 MiB per sampled page of a 128 MiB guest, and QEMU reports
    /// whole MiB/s): the odd window that caught a page is noise, and fitting it would make an idle
    /// guest look busy (seen in the lab: 0, 2, 0 MiB/s fitted as 0.7 MiB/s against a 1.2 MiB/s
    /// stream at 10 Mbit/s, and 2, 0 MiB/s from an idle guest in CI).
    ///
    /// Tried and undone (2026-12-03): a straight line wherever the windows could not resolve a
    /// working set. It fitted a buffered reader at 10 Mbit/s better, but gave a direct reader the
    /// long windows' low slope, and that reader, which rewrites one buffer as fast as the stream
    /// runs, was predicted to converge and did not.
    public var model: DirtyingModel? {
        guard !windows.isEmpty else { return nil }
        if windows.filter({ $0.bytesPerSecond == 0 }).count * 2 >= windows.count { return DirtyingModel.none }
        return DirtyingModel.fit(windows.map { .init(seconds: $0.seconds, bytes: $0.bytes) })
    }
}
