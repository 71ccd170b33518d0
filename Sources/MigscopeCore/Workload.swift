/// What the guest does while it is migrated: read its disk sequentially.
public struct Workload: Sendable, Hashable, Codable {
    public enum ReadMode: String, Sendable, Hashable, Codable, CaseIterable {
        /// Through the guest's page cache: dirties guest memory as fast as data arrives.
        case buffered
        /// O_DIRECT: bypasses the page cache, so reading dirties almost no memory.
        case direct
        /// Reads nothing: a guest that only reports its (zero) rate, for dirty rates and drains.
        case idle
    }
    public var mode: ReadMode
    public var blockSizeKiB: Int
    /// How much to read; 0 reads forever (wrapping around the disk).
    public var amountMiB: Int

    public init(mode: ReadMode = .buffered, blockSizeKiB: Int = 1024, amountMiB: Int = 0) {
        self.mode = mode
        self.blockSizeKiB = blockSizeKiB
        self.amountMiB = amountMiB
    }
}
