import Foundation
import MigscopeCore

/// What `migscope lab up` builds: link, guest and disk settings, saved with the running lab.
public struct LabSettings: Sendable, Equatable, Codable {
    public var bandwidth: LinkRate
    public var link: LinkModel
    public var guestMemoryMiB: Int
    public var guestCPUs: Int
    public var workload: Workload
    /// Size of the iSCSI disk; a read at 100 Mbit/s of the default outlasts any migration here.
    public var diskSizeMiB: Int
    public var accelerator: AcceleratorChoice
    /// Start the guest on host A as part of `up`.
    public var startGuest: Bool

    public init(
        bandwidth: LinkRate = .mbit(100), link: LinkModel = .shared, guestMemoryMiB: Int = 1024,
        guestCPUs: Int = 1, workload: Workload = Workload(), diskSizeMiB: Int = 4096,
        accelerator: AcceleratorChoice = .auto, startGuest: Bool = true
    ) {
        self.bandwidth = bandwidth
        self.link = link
        self.guestMemoryMiB = guestMemoryMiB
        self.guestCPUs = guestCPUs
        self.workload = workload
        self.diskSizeMiB = diskSizeMiB
        self.accelerator = accelerator
        self.startGuest = startGuest
    }

    // The ranges, written once: the CLI's parsers and the plan reader use them too.
    public static let guestMemoryRange = 64...16384
    public static let diskSizeRange = 64...1_048_576
    public static let blockSizeRange = 4...65536
    public static let readAmountRange = 0...10_000_000
    /// Bits/s that HTB shapes reliably here.
    public static let linkRateRange: ClosedRange<UInt64> = 100_000...10_000_000_000

    /// Every problem with the settings, found before anything is built.
    public func problems() -> [String] {
        var p: [String] = []
        if !Self.guestMemoryRange.contains(guestMemoryMiB) { p.append("guest memory must be 64 to 16384 MiB, got \(guestMemoryMiB)") }
        if guestCPUs < 1 || guestCPUs > 4 { p.append("guest CPUs must be 1 to 4, got \(guestCPUs)") }
        if !Self.diskSizeRange.contains(diskSizeMiB) { p.append("disk size must be 64 to 1048576 MiB, got \(diskSizeMiB)") }
        if workload.blockSizeKiB < 4 || workload.blockSizeKiB > 65536 || workload.blockSizeKiB & (workload.blockSizeKiB - 1) != 0 {
            p.append("block size must be a power of two from 4 to 65536 KiB, got \(workload.blockSizeKiB)")
        }
        if !Self.readAmountRange.contains(workload.amountMiB) { p.append("read amount must be 0 (forever) or a positive number of MiB, got \(workload.amountMiB)") }
        if let b = bandwidth.bitsPerSecond, !Self.linkRateRange.contains(b) {
            p.append("link rate \(bandwidth) is beyond what HTB shapes reliably here; use 100kbit to 10gbit")
        }
        return p
    }
}

/// Which CPU accelerator the guest uses.
public enum AcceleratorChoice: String, Sendable, Codable, CaseIterable {
    /// KVM where it really runs a guest, else TCG.
    case auto
    /// Software emulation: slower, works everywhere.
    case tcg
    /// Hardware virtualisation; refused when it cannot run a guest here.
    case kvm
}

/// The state of a lab that is up, kept in the lab's state folder.
public struct LabState: Sendable, Equatable, Codable {
    public var settings: LabSettings
    /// "kvm" or "tcg": what the guest really runs with.
    public var accelerator: String
    /// Why that accelerator (e.g. "KVM probe failed: guest did not boot").
    public var acceleratorReason: String
    public var createdAt: Date
    public var kernelVersion: String
    /// False while `lab up` builds it: a state left so is a half-built lab, not a lab.
    /// (Optional so that states written before this field read as complete labs.)
    public var complete: Bool?

    public init(settings: LabSettings, accelerator: String, acceleratorReason: String, createdAt: Date, kernelVersion: String, complete: Bool? = true) {
        self.settings = settings
        self.accelerator = accelerator
        self.acceleratorReason = acceleratorReason
        self.createdAt = createdAt
        self.kernelVersion = kernelVersion
        self.complete = complete
    }

    static func load() -> LabState? {
        guard let data = FileManager.default.contents(atPath: LabLayout.stateFile) else { return nil }
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return try? d.decode(LabState.self, from: data)
    }

    func save() throws {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try e.encode(self).write(to: URL(fileURLWithPath: LabLayout.stateFile), options: .atomic)
    }
}
