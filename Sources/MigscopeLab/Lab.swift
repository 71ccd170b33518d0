import Foundation
import Libvirt
import MigscopeCore

/// The embedded lab: hosts A and B and a storage server as network namespaces on this machine,
/// links shaped with tc, an iSCSI target, one libvirt daemon per host, and a guest reading its disk.
public enum Lab {
    /// Builds the lab. On any failure, what was built is torn down again and the error says why.
    @discardableResult
    public static func up(_ settings: LabSettings, progress: @escaping (String) -> Void = { _ in }) async throws -> LabStatus {
        try requireRoot()
        if let p = settings.problems().first { throw LabError(p.message) }
        try StorageTarget.checkRoom(sizeMiB: settings.diskSizeMiB)
        try checkMemory(settings)
        if isUp() {
            guard let state = LabState.load(), state.complete != false else {
                // An interrupted or failed `up` (or a crash in it) left parts behind, not a lab.
                progress("removing a half-built lab left by an interrupted 'lab up'")
                let t = down(progress: progress)
                if isUp() { throw LabError("a half-built lab could not be removed: \(t.leftovers.joined(separator: ", "))") }
                return try await up(settings, progress: progress)
            }
            throw LabAlreadyUp(status: await status())
        }
        try Tools.require(["ip", "tc", "nsenter", "unshare", "mount", "umount", "setsid", "libvirtd", "qemu-system-x86_64", "tgtd", "tgtadm", "busybox", "cpio", "dd"])
        let kernelVersion = try LabGuest.kernelVersion()
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: LabLayout.guestDirectory, withIntermediateDirectories: true)
            try Task.checkCancellation()
            progress("building the guest's initramfs (kernel \(kernelVersion))")
            try LabGuest.buildInitramfs(into: LabGuest.initramfs)
            let (accel, why) = try LabGuest.chooseAccelerator(settings.accelerator, progress: progress)
            progress("guest accelerator: \(accel) (\(why))")
            let image = try StorageTarget.ensureDiskImage(sizeMiB: settings.diskSizeMiB, progress: progress)
            // Saved now so that `down` finds what to remove; marked complete only at the end.
            var state = LabState(settings: settings, accelerator: accel, acceleratorReason: why, createdAt: Date(), kernelVersion: kernelVersion, complete: false)
            try state.save()
            try Task.checkCancellation()
            progress("creating namespaces \(LabNetwork.labNamespaces.joined(separator: ", ")) on 198.18.0.0/24")
            try LabNetwork.build()
            progress("shaping links: \(settings.bandwidth), \(settings.link.rawValue)\(settings.prioritisesStorage ? ", storage first" : "")")
            try LabNetwork.shape(rate: settings.bandwidth, model: settings.link, storagePriority: settings.prioritisesStorage)
            try Task.checkCancellation()
            progress("starting the iSCSI target on storage (\(LabMachine.storage.address):3260)")
            try StorageTarget.start(image: image, guests: settings.guestCount)
            try HypervisorDaemon.prepareNamespaceFolder()
            for h in LabMachine.hypervisors {
                progress("starting libvirtd on \(h.rawValue) (\(h.address))")
                try HypervisorDaemon.setUp(h)
                try await HypervisorDaemon.start(h)
                try Task.checkCancellation()
            }
            if settings.startGuest {
                for slot in LabGuestSlot.upTo(settings.guestCount) {
                    let what = settings.guestCount == 1 ? "the guest" : "\(slot.name) (\(settings.workload(of: slot).mode.rawValue))"
                    progress("starting \(what) on hostA (\(settings.guestMemoryMiB) MiB, \(accel))")
                    try await LabGuest.start(on: .hostA, settings: settings, slot: slot, accelerator: accel)
                }
            }
            state.settings = settings
            state.complete = true
            try state.save()
        } catch {
            progress(error is CancellationError ? "interrupted: removing what was built" : "lab up failed; removing what was built")
            _ = down(progress: { _ in })
            throw error
        }
        return await status()
    }

    /// Removes everything the lab made. Safe to run twice, or after a half-built `up`.
    @discardableResult
    public static func down(progress: (String) -> Void = { _ in }) -> LabTeardown {
        var removed: [String] = []
        if Processes.inNamespace(LabMachine.hostA.namespace).isEmpty == false
            || Processes.inNamespace(LabMachine.hostB.namespace).isEmpty == false {
            LabGuest.destroyEverywhere()
        }
        if LabNetwork.existingNamespaces().contains(LabMachine.storage.namespace) { StorageTarget.stop() }
        for ns in LabNetwork.labNamespaces {
            let pids = Processes.inNamespace(ns)
            if !pids.isEmpty {
                progress("stopping \(pids.count) process(es) in \(ns)")
                Processes.end(pids, grace: 2)
                removed.append("\(pids.count) process(es) in \(ns)")
            }
        }
        for h in LabMachine.hypervisors { HypervisorDaemon.releaseNamespaces(h) }
        for m in Mounts.labMounts().sorted(by: { $0.count > $1.count }) {
            _ = try? Command.run(["umount", "-l", m], check: false)
            removed.append("mount \(m)")
        }
        let existing = LabNetwork.existingNamespaces().filter(LabNetwork.labNamespaces.contains)
        if !existing.isEmpty {
            progress("removing namespaces \(existing.joined(separator: ", "))")
            LabNetwork.remove()
            removed += existing.map { "namespace \($0)" }
        }
        if FileManager.default.fileExists(atPath: LabLayout.stateDirectory) {
            try? FileManager.default.removeItem(atPath: LabLayout.stateDirectory)
            removed.append(LabLayout.stateDirectory)
        }
        return LabTeardown(removed: removed, leftovers: leftovers())
    }

    /// What of the lab still exists: nothing, after a clean `down`.
    public static func leftovers() -> [String] {
        var left: [String] = []
        let ns = LabNetwork.existingNamespaces().filter(LabNetwork.labNamespaces.contains)
        left += ns.map { "namespace \($0)" }
        left += Mounts.labMounts().map { "mount \($0)" }
        left += labProcesses().map { "process \($0.pid): \($0.command)" }
        if FileManager.default.fileExists(atPath: LabLayout.stateDirectory) { left.append("folder \(LabLayout.stateDirectory)") }
        return left
    }

    /// Processes that belong to a lab: its daemons and guests, found by their command lines.
    static func labProcesses() -> [(pid: Int32, command: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).compactMap { pid in
            let c = Processes.command(of: pid)
            let ours = c.contains(LabLayout.stateDirectory) || c.contains("guest=\(LabLayout.guestName)")
            return ours && pid != getpid() ? (pid, c) : nil
        }
    }

    public static func isUp() -> Bool {
        FileManager.default.fileExists(atPath: LabLayout.stateFile)
            || !LabNetwork.existingNamespaces().filter(LabNetwork.labNamespaces.contains).isEmpty
    }

    /// Changes the links' rate and model on a running lab, without rebuilding it.
    public static func set(bandwidth: LinkRate?, link: LinkModel?, storagePriority: Bool? = nil) throws -> LabStatus.Link {
        try requireRoot()
        guard var state = LabState.load() else { throw LabError("no lab is up; 'migscope lab up' builds one") }
        if let bandwidth { state.settings.bandwidth = bandwidth }
        if let link { state.settings.link = link }
        if let storagePriority { state.settings.storagePriority = storagePriority }
        if let p = state.settings.problems().first { throw LabError(p.message) }
        try LabNetwork.shape(rate: state.settings.bandwidth, model: state.settings.link, storagePriority: state.settings.prioritisesStorage)
        try state.save()
        return LabStatus.Link(settings: state.settings)
    }

    /// (Re)starts a guest on a host, optionally with another workload or memory size (a workload
    /// given for the first guest of a one-guest lab is the lab's). With `waitForGo`, the guest
    /// boots and reports but reads only after `startWorkload()`. Only that guest is touched.
    public static func startGuest(on host: LabMachine = .hostA, slot: LabGuestSlot = .first, memoryMiB: Int? = nil, workload: Workload? = nil,
                                  waitForGo: Bool = false) async throws {
        try requireRoot()
        guard var state = LabState.load() else { throw LabError("no lab is up; 'migscope lab up' builds one") }
        guard slot.number <= state.settings.guestCount else {
            throw LabError("the lab has \(state.settings.guestCount) guest(s), not \(slot.name); 'migscope lab up --guests N' makes more")
        }
        if let memoryMiB { state.settings.guestMemoryMiB = memoryMiB }
        if let workload {
            if var list = state.settings.guestWorkloads, list.count == state.settings.guestCount {
                list[slot.number - 1] = workload
                state.settings.guestWorkloads = list
            } else if state.settings.guestCount == 1 {
                state.settings.workload = workload
                state.settings.guestWorkloads = nil
            } else {
                var list = LabGuestSlot.upTo(state.settings.guestCount).map(state.settings.workload(of:))
                list[slot.number - 1] = workload
                state.settings.guestWorkloads = list
            }
        }
        if let p = state.settings.problems().first { throw LabError(p.message) }
        LabGuest.destroyEverywhere([slot])
        try await LabGuest.start(on: host, settings: state.settings, slot: slot, accelerator: state.accelerator, trigger: waitForGo)
        try state.save()
    }

    /// Starts the read of a guest started with `waitForGo`.
    public static func startWorkload(slot: LabGuestSlot = .first) throws { try LabGuest.triggerWorkload(slot) }

    public static func stopGuest(slot: LabGuestSlot? = nil) { LabGuest.destroyEverywhere(slot.map { [$0] } ?? LabGuestSlot.upTo(LabGuestSlot.maximum)) }

    /// The host a guest runs on now, if any.
    public static func guestHost(slot: LabGuestSlot = .first) -> LabMachine? { LabGuest.locate(slot)?.host }

    /// What one lab guest costs this machine besides its memory: QEMU under TCG, its code cache.
    static let guestOverheadMiB = 96

    /// Every guest may have a copy on each host while it migrates: twice the guests' memory and
    /// QEMU's own must fit in what the machine has available, checked before anything is built.
    static func checkMemory(_ s: LabSettings) throws {
        guard s.startGuest, let available = availableMemoryMiB() else { return }
        let need = 2 * s.guestCount * (s.guestMemoryMiB + guestOverheadMiB)
        guard need <= available else {
            throw LabError("\(s.guestCount) guest(s) of \(s.guestMemoryMiB) MiB need up to \(need) MiB while they migrate (a copy on each host), and this machine has \(available) MiB available; give fewer --guests or less --guest-memory")
        }
    }

    /// MemAvailable from /proc/meminfo, in MiB.
    static func availableMemoryMiB() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kib / 1024
    }

    /// Empties this machine's page cache, where the iSCSI target's disk image is cached: the next
    /// run's reads then come from the disk again, as the first run's did.
    public static func dropPageCache() {
        sync()
        try? "3\n".write(toFile: "/proc/sys/vm/drop_caches", atomically: false, encoding: .utf8)
    }

    /// The libvirt daemons' process ids (for measuring what a recorder costs them).
    public static func daemonPIDs() -> [Int32] { LabMachine.hypervisors.compactMap(HypervisorDaemon.pid) }

    static func requireRoot() throws {
        if getuid() != 0 { throw LabError("the lab needs root (namespaces, tc, daemons): run migscope as root") }
    }
}

/// `up` found a lab already there.
public struct LabAlreadyUp: Error, CustomStringConvertible {
    public var status: LabStatus
    public var description: String {
        "a lab is already up; 'migscope lab status' shows it, 'migscope lab set' changes its links, 'migscope lab down' removes it"
    }
}

public struct LabTeardown: Sendable {
    public var removed: [String]
    public var leftovers: [String]
}
