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
    /// iSCSI traffic first on each shaped link (Shaping.prioritisedHTB). Optional so that states
    /// saved before it existed decode (as off).
    public var storagePriority: Bool?
    public var prioritisesStorage: Bool { storagePriority == true }
    /// How the guest sees its disk. Optional so that states saved before it existed decode as the
    /// bus those labs were built with.
    public var diskBus: DiskBus?
    public var bus: DiskBus { diskBus ?? .virtioBlk }
    /// How many guests `up` starts on host A (optional: states saved before it existed had one).
    public var guests: Int?
    public var guestCount: Int { guests ?? 1 }
    /// Each guest's workload, in order, when they differ; nil: every guest runs `workload`.
    public var guestWorkloads: [Workload]?

    /// The workload of one guest: its own from the list, else the lab's.
    public func workload(of slot: LabGuestSlot) -> Workload {
        guard let list = guestWorkloads, !list.isEmpty else { return workload }
        return list[min(slot.number, list.count) - 1]
    }

    public init(
        bandwidth: LinkRate = .mbit(100), link: LinkModel = .shared, guestMemoryMiB: Int = 1024,
        guestCPUs: Int = 1, workload: Workload = Workload(), diskSizeMiB: Int = 4096,
        accelerator: AcceleratorChoice = .auto, startGuest: Bool = true, storagePriority: Bool = false,
        diskBus: DiskBus = .virtioSCSI
    ) {
        self.diskBus = diskBus
        self.storagePriority = storagePriority
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
    /// The guest unpacks its kernel and initramfs in its own memory: with 80 MiB it panics
    /// ("Unable to mount root fs"), with 64 it dies before printing a line (measured 2026-12-02).
    public static let guestMemoryRange = 96...16384
    public static let diskSizeRange = 64...1_048_576
    public static let blockSizeRange = 4...65536
    public static let readAmountRange = 0...10_000_000
    /// Bits/s that HTB shapes reliably here.
    public static let linkRateRange: ClosedRange<UInt64> = 100_000...10_000_000_000

    /// One thing wrong with the settings, naming the setting, so the command line can name its
    /// option and a plan its key.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public enum Setting: Sendable, Equatable {
            case guestMemory, guestCPUs, diskSize, blockSize, readAmount, linkRate, guests
        }
        public var setting: Setting
        public var message: String
        public var description: String { message }
    }

    /// Every problem with the settings, found before anything is built. The ranges are this
    /// type's; the command line's parsers and the plan reader ask here rather than repeat them.
    public func problems() -> [Problem] {
        var p: [Problem] = []
        if !Self.guestMemoryRange.contains(guestMemoryMiB) {
            p.append(.init(setting: .guestMemory, message: "guest memory must be \(Self.guestMemoryRange.lowerBound) to \(Self.guestMemoryRange.upperBound) MiB, got \(guestMemoryMiB)"))
        }
        if guestCPUs < 1 || guestCPUs > 4 { p.append(.init(setting: .guestCPUs, message: "guest CPUs must be 1 to 4, got \(guestCPUs)")) }
        if !Self.diskSizeRange.contains(diskSizeMiB) {
            p.append(.init(setting: .diskSize, message: "disk size must be \(Self.diskSizeRange.lowerBound) to \(Self.diskSizeRange.upperBound) MiB, got \(diskSizeMiB)"))
        }
        if !(1...LabGuestSlot.maximum).contains(guestCount) {
            p.append(.init(setting: .guests, message: "guests must be 1 to \(LabGuestSlot.maximum), got \(guestCount)"))
        } else if let list = guestWorkloads, list.count != 1, list.count != guestCount {
            p.append(.init(setting: .guests, message: "\(list.count) workloads for \(guestCount) guests; give one for all, or one per guest"))
        }
        for w in [workload] + (guestWorkloads ?? []) {
            let bs = w.blockSizeKiB
            if !Self.blockSizeRange.contains(bs) || bs & (bs - 1) != 0 {
                p.append(.init(setting: .blockSize, message: "block size must be a power of two from \(Self.blockSizeRange.lowerBound) to \(Self.blockSizeRange.upperBound) KiB, got \(bs)"))
                break
            }
        }
        if !Self.readAmountRange.contains(workload.amountMiB) {
            p.append(.init(setting: .readAmount, message: "read amount must be 0 (forever) or a positive number of MiB up to \(Self.readAmountRange.upperBound), got \(workload.amountMiB)"))
        }
        if let b = bandwidth.bitsPerSecond, !Self.linkRateRange.contains(b) {
            p.append(.init(setting: .linkRate, message: "link rate \(bandwidth) is beyond what HTB shapes reliably here; use 100kbit to 10gbit"))
        }
        return p
    }
}

/// The guest's disk controller.
///
/// virtio-scsi by default: with virtio-blk, QEMU 7.2 under TCG crashed the guest on the destination
/// after most live migrations made while it read with O_DIRECT (a kernel oops in virtblk_done, or
/// list corruption: 9 of 11 tries, 2026-11-30), while virtio-scsi survived every one.
public enum DiskBus: String, Sendable, Codable, CaseIterable {
    case virtioSCSI = "virtio-scsi"
    case virtioBlk = "virtio-blk"

    /// The device the guest reads.
    var guestDevice: String { self == .virtioSCSI ? "sda" : "vda" }
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
