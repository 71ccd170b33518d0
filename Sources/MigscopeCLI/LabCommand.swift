import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeLab

/// `migscope lab ...`: the embedded one-machine lab.
struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Build, inspect and remove the embedded lab (hosts A, B and an iSCSI target on this machine; needs root).",
        subcommands: [LabUp.self, LabStatusCommand.self, LabSet.self, LabStartGuest.self, LabStopGuest.self, LabDown.self])
}

extension LinkRate: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
extension LinkModel: ExpressibleByArgument {}
extension Workload.ReadMode: ExpressibleByArgument {}

/// A comma-separated list of read modes: one per lab guest.
struct ReadModeList: ExpressibleByArgument {
    var modes: [Workload.ReadMode]
    init(modes: [Workload.ReadMode]) { self.modes = modes }
    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty, parts.count <= LabGuestSlot.maximum else { return nil }
        let modes = parts.compactMap(Workload.ReadMode.init(rawValue:))
        guard modes.count == parts.count else { return nil }
        self.modes = modes
    }
    var defaultValueDescription: String { modes.map(\.rawValue).joined(separator: ",") }
    static var allValueStrings: [String] { Workload.ReadMode.allCases.map(\.rawValue) }
}
extension AcceleratorChoice: ExpressibleByArgument {}
extension DiskBus: ExpressibleByArgument {}

struct LabUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "up", abstract: "Build the lab and start the guest on host A.")

    @Option(name: .customLong("link-rate"), help: ArgumentHelp("Link rate, e.g. 100mbit, 10mbit, or none for unshaped.", valueName: "rate"))
    var linkRate: LinkRate = .mbit(100)

    @OptionGroup var renamed: RenamedBandwidthOption

    @Option(help: ArgumentHelp("full-duplex (each direction its own rate) or shared (both directions share it, the paper's contention).", valueName: "model"))
    var link: LinkModel = .shared

    @Option(name: .customLong("guest-memory"), help: ArgumentHelp("Guest memory.", valueName: "MiB"),
            transform: ArgumentValue.count("--guest-memory", unit: "MiB", in: LabSettings.guestMemoryRange))
    var guestMemory: Int = 1024

    @Option(help: ArgumentHelp("buffered (through the page cache), direct (O_DIRECT) or idle (reads nothing); with --guests, one for all or a list, one per guest (direct,buffered,idle).", valueName: "mode[,mode...]"))
    var workload: ReadModeList = ReadModeList(modes: [.buffered])

    @Option(help: ArgumentHelp("How many guests to start on host A (1 to \(LabGuestSlot.maximum)), each with its own disk on the iSCSI target; checked against this machine's free memory.", valueName: "N"),
            transform: ArgumentValue.count("--guests", unit: "guests", in: 1...LabGuestSlot.maximum))
    var guests: Int = 1

    @Option(name: .customLong("block-size"), help: ArgumentHelp("Read block size.", valueName: "KiB"),
            transform: ArgumentValue.count("--block-size", unit: "KiB", in: LabSettings.blockSizeRange))
    var blockSize: Int = 1024

    @Option(name: .customLong("read-amount"), help: ArgumentHelp("How much the guest reads; 0 reads forever.", valueName: "MiB"),
            transform: ArgumentValue.count("--read-amount", unit: "MiB", in: LabSettings.readAmountRange))
    var readAmount: Int = 0

    @Option(name: .customLong("disk-size"), help: ArgumentHelp("Size of the iSCSI disk (random data, cached per size).", valueName: "MiB"),
            transform: ArgumentValue.count("--disk-size", unit: "MiB", in: LabSettings.diskSizeRange))
    var diskSize: Int = 4096

    @Option(help: ArgumentHelp("auto (KVM where it really runs a guest), tcg or kvm.", valueName: "accel"))
    var accel: AcceleratorChoice = .auto

    @Flag(name: .customLong("no-guest"), help: "Do not start the guest.")
    var noGuest = false

    @Option(name: .customLong("disk-bus"), help: ArgumentHelp("virtio-scsi, or virtio-blk (whose O_DIRECT readers QEMU 7.2 under TCG crashes in live migrations here).", valueName: "bus"))
    var diskBus: DiskBus = .virtioSCSI

    @Flag(name: .customLong("storage-priority"), help: "Serve iSCSI traffic (TCP 3260) first on each shaped link; everything else gets what it leaves (both may use the whole rate).")
    var storagePriority = false

    @Flag(help: "Print the lab's status as JSON (as 'lab status --json').") var json = false
    @Flag(name: .shortAndLong, help: "Print only the result and errors, not each step.") var quiet = false

    var settings: LabSettings {
        let workloads = workload.modes.map { Workload(mode: $0, blockSizeKiB: blockSize, amountMiB: readAmount) }
        var s = LabSettings(
            bandwidth: linkRate, link: link, guestMemoryMiB: guestMemory,
            workload: workloads[0],
            diskSizeMiB: diskSize, accelerator: accel, startGuest: !noGuest, storagePriority: storagePriority, diskBus: diskBus)
        s.guests = guests
        if workloads.count > 1 { s.guestWorkloads = workloads }
        return s
    }

    func validate() throws {
        try renamed.refuse()
        if workload.modes.count > 1, workload.modes.count != guests {
            throw ValidationError("--workload: \(workload.modes.count) modes for \(guests) guest(s); give one for all, or one per guest (--guests \(workload.modes.count))")
        }
        if let p = settings.problems().first { throw ValidationError(p.message) }
    }

    func run() async throws {
        do {
            let settings = self.settings
            let built = await Interrupts.cancellingOnCtrlC {
                do { return Result<LabStatus, Error>.success(try await Lab.up(settings) { if !quiet { printNote($0) } }) } catch { return .failure(error) }
            } onFirst: {
                printNote("interrupted: stopping 'lab up' and removing what it built")
            }
            let status: LabStatus
            do { status = try built.get() } catch is CancellationError {
                throw CLIFailure("lab up interrupted; what it had built is removed", exitStatus: 130)
            }
            print(json ? try JSONText.encode(status) : LabStatusText.render(status))
        } catch let e as LabAlreadyUp {
            printNote(e.description)
            print(json ? try JSONText.encode(e.status) : LabStatusText.render(e.status))
        } catch let e as LabError {
            throw CLIFailure(e.message)
        }
    }
}

struct LabStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the lab's hosts, links, daemon URIs and where the guest runs.")
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let s = await Lab.status()
        print(json ? try JSONText.encode(s) : LabStatusText.render(s))
    }
}

struct LabSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Change the links' rate or model without rebuilding the lab.")
    @Option(name: .customLong("link-rate"), help: ArgumentHelp("Link rate, e.g. 100mbit, 10mbit, none.", valueName: "rate")) var linkRate: LinkRate?
    @Option(help: ArgumentHelp("full-duplex or shared.", valueName: "model")) var link: LinkModel?
    @Option(name: .customLong("storage-priority"), help: ArgumentHelp("on: serve iSCSI traffic first on each shaped link; off: one class for all.", valueName: "on|off"),
            transform: LabSet.onOff) var storagePriority: Bool?
    @OptionGroup var renamed: RenamedBandwidthOption

    static let onOff: @Sendable (String) throws -> Bool = { text in
        switch text.lowercased() {
        case "on", "true", "yes": return true
        case "off", "false", "no": return false
        default: throw ValidationError("--storage-priority takes on or off, got '\(text)'")
        }
    }

    func validate() throws {
        try renamed.refuse()
        if linkRate == nil && link == nil && storagePriority == nil {
            throw ValidationError("nothing to set: give --link-rate, --link and/or --storage-priority on|off")
        }
        if let b = linkRate?.bitsPerSecond, !LabSettings.linkRateRange.contains(b) {
            throw ValidationError("--link-rate \(linkRate!): beyond what HTB shapes reliably here; use 100kbit to 10gbit")
        }
    }

    func run() async throws {
        do {
            let l = try Lab.set(bandwidth: linkRate, link: link, storagePriority: storagePriority)
            print("links: \(l.bandwidth), \(l.model)\(l.storagePriority == true ? ", storage first" : "")")
        }
    }
}

struct LabStartGuest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start-guest", abstract: "(Re)start the guest, on host A unless told otherwise.")
    @Option(help: ArgumentHelp("hostA or hostB.", valueName: "host")) var on: String = "hostA"
    @Option(help: ArgumentHelp("Which guest of a lab with --guests (default the first, \(LabLayout.guestName)).", valueName: "name"),
            transform: LabGuestOption.parse) var guest: LabGuestSlot = .first
    @Option(name: .customLong("guest-memory"), help: ArgumentHelp("Guest memory.", valueName: "MiB"),
            transform: ArgumentValue.count("--guest-memory", unit: "MiB", in: LabSettings.guestMemoryRange)) var guestMemory: Int?
    @Option(help: ArgumentHelp("buffered, direct or idle (reads nothing).", valueName: "mode")) var workload: Workload.ReadMode?
    @Option(name: .customLong("block-size"), help: ArgumentHelp("Read block size.", valueName: "KiB"),
            transform: ArgumentValue.count("--block-size", unit: "KiB", in: LabSettings.blockSizeRange)) var blockSize: Int?
    @Option(name: .customLong("read-amount"), help: ArgumentHelp("How much to read; 0 forever.", valueName: "MiB"),
            transform: ArgumentValue.count("--read-amount", unit: "MiB", in: LabSettings.readAmountRange)) var readAmount: Int?

    func validate() throws {
        guard LabMachine(rawValue: on).map(LabMachine.hypervisors.contains) == true else {
            throw ValidationError("--on must be hostA or hostB, got '\(on)'")
        }
    }

    func run() async throws {
        do {
            var w: Workload? = nil
            if workload != nil || blockSize != nil || readAmount != nil {
                let current = await Lab.status().guests?.first { $0.name == guest.name }?.workload ?? Workload()
                w = Workload(mode: workload ?? current.mode, blockSizeKiB: blockSize ?? current.blockSizeKiB, amountMiB: readAmount ?? current.amountMiB)
            }
            try await Lab.startGuest(on: LabMachine(rawValue: on)!, slot: guest, memoryMiB: guestMemory, workload: w)
            print(LabStatusText.render(await Lab.status()))
        }
    }
}

struct LabStopGuest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop-guest", abstract: "Stop the guest wherever it runs (every guest, unless one is named).")
    @Option(help: ArgumentHelp("Only this guest of a lab with --guests.", valueName: "name"), transform: LabGuestOption.parse) var guest: LabGuestSlot?
    func run() async throws { Lab.stopGuest(slot: guest) }
}

/// A lab guest named on the command line: migscope-guest, migscope-guest-2 ... (or its number).
enum LabGuestOption {
    static func parse(_ text: String) throws -> LabGuestSlot {
        if let slot = LabGuestSlot(name: text) { return slot }
        if let n = Int(text), (1...LabGuestSlot.maximum).contains(n) { return LabGuestSlot(n) }
        throw ValidationError("--guest: '\(text.prefix(80))' is not a lab guest; give \(LabLayout.guestName), \(LabLayout.guestName)-2 ... -\(LabGuestSlot.maximum), or a number 1 to \(LabGuestSlot.maximum)")
    }
}

struct LabDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "down", abstract: "Remove everything the lab made (safe to run twice).")
    @Flag(help: "Print nothing unless something is left behind.") var quiet = false

    func run() async throws {
        let t = Lab.down { if !quiet { printNote($0) } }
        if !t.leftovers.isEmpty {
            throw CLIFailure("lab down left behind: \(t.leftovers.joined(separator: "; "))")
        }
        if !quiet { print(t.removed.isEmpty ? "no lab was up" : "lab removed") }
    }
}

enum LabStatusText {
    static func render(_ s: LabStatus) -> String {
        guard s.up, let link = s.link else {
            return s.up ? "lab: partly built (no state file); 'migscope lab down' cleans it up" : "lab: down"
        }
        var lines: [String] = []
        lines.append("lab: up since \(s.since.map { ISO8601DateFormatter().string(from: $0) } ?? "?")")
        lines.append("accelerator: \(s.accelerator ?? "?") (\(s.acceleratorReason ?? ""))")
        lines.append("links: \(link.bandwidth), \(link.model)\(link.storagePriority == true ? ", storage first" : "")")
        for h in s.hosts {
            lines.append("  \(h.name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(h.address.padding(toLength: 12, withPad: " ", startingAt: 0)) \(h.daemon)")
            if let uri = h.uri { lines.append("           uri: \(uri)") }
        }
        if let t = s.iscsiTarget { lines.append("iSCSI target: \(t), \(s.diskSizeMiB ?? 0) MiB") }
        for g in s.guests ?? s.guest.map({ [$0] }) ?? [] {
            let w = g.workload
            lines.append("guest: \(g.name) \(g.state)\(g.host.map { " on \($0)" } ?? ""), \(g.memoryMiB) MiB, reads \(w.mode.rawValue) in \(w.blockSizeKiB) KiB blocks, \(w.amountMiB == 0 ? "forever" : "\(w.amountMiB) MiB")\(g.diskBus.map { ", disk on \($0)" } ?? "")")
            lines.append("       reports: \(g.reportLog)  (boot console: \(g.consoleLog))")
        }
        return lines.joined(separator: "\n")
    }
}

/// The lab's link rate was once `--bandwidth`, which `migrate` uses for a cap on the migration
/// stream; the old spelling is refused with the new one.
struct RenamedBandwidthOption: ParsableArguments {
    @Option(name: .customLong("bandwidth"), help: .hidden) var bandwidth: String?

    func refuse() throws {
        if let bandwidth {
            throw ValidationError("--bandwidth is now --link-rate for the lab's links (--link-rate \(bandwidth)); in 'migrate', --bandwidth caps the migration stream")
        }
    }
}
