import Foundation
import Libvirt
import MigscopeCore

/// The lab's guest: Debian's kernel and a busybox initramfs whose /init reads the iSCSI disk.
enum LabGuest {
    static var initramfs: String { LabLayout.guestDirectory + "/initramfs.cpio" }
    static var kernel: String { LabLayout.kernelDirectory + "/vmlinuz" }

    static func kernelVersion() throws -> String {
        guard let v = try? String(contentsOfFile: LabLayout.kernelDirectory + "/version", encoding: .utf8),
              FileManager.default.fileExists(atPath: kernel)
        else { throw LabError("no guest kernel in \(LabLayout.kernelDirectory); run scripts/install-deps.sh") }
        return v.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Builds the initramfs: static busybox, the virtio modules, and /init.
    static func buildInitramfs(into path: String) throws {
        let fm = FileManager.default
        let root = (path as NSString).deletingLastPathComponent + "/initramfs-root"
        try? fm.removeItem(atPath: root)
        for d in ["bin", "modules", "proc", "sys", "dev", "tmp"] {
            try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        guard let busybox = ["/bin/busybox", "/usr/bin/busybox"].first(where: fm.fileExists) else {
            throw LabError("busybox is not installed; run scripts/install-deps.sh (package busybox-static)")
        }
        try fm.copyItem(atPath: busybox, toPath: root + "/bin/busybox")
        let modules = LabLayout.kernelDirectory + "/modules"
        for m in (try? fm.contentsOfDirectory(atPath: modules)) ?? [] {
            try fm.copyItem(atPath: modules + "/" + m, toPath: root + "/modules/" + m)
        }
        try GuestInit.script.write(toFile: root + "/init", atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root + "/init")
        let list = try Command.run(["find", ".", "-mindepth", "1"], in: root).stdout
        try? fm.removeItem(atPath: path)
        try Command.run(["cpio", "--quiet", "-o", "-H", "newc", "-O", path], input: Data(list.utf8), in: root)
        try? fm.removeItem(atPath: root)
    }

    static func commandLine(_ w: Workload, bus: DiskBus = .virtioBlk, probe: Bool = false, trigger: Bool = false) -> String {
        var parts = ["console=ttyS0", "panic=-1", "quiet", "migscope.mode=\(w.mode.rawValue)",
                     "migscope.bs_kib=\(w.blockSizeKiB)", "migscope.amount_mib=\(w.amountMiB)", "migscope.disk=\(bus.guestDevice)"]
        if probe { parts.append("migscope.probe=1") }
        if trigger { parts.append("migscope.trigger=1") }
        return parts.joined(separator: " ")
    }

    /// Whether KVM really runs a guest here: boots the guest kernel under KVM with a probe flag and
    /// waits for its line. /dev/kvm existing is not enough (a para-virtualised KVM opens, then fails).
    static func chooseAccelerator(_ choice: AcceleratorChoice, progress: (String) -> Void) throws -> (String, String) {
        if choice == .tcg { return ("tcg", "chosen with --accel tcg") }
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
            if choice == .kvm { throw LabError("--accel kvm: this machine has no /dev/kvm; use --accel tcg") }
            return ("tcg", "no /dev/kvm")
        }
        let (works, why) = try kvmProbe(progress: progress)
        if works { return ("kvm", why) }
        if choice == .kvm { throw LabError("--accel kvm: KVM cannot run a guest here (\(why)); use --accel tcg") }
        return ("tcg", "KVM probe failed: \(why)")
    }

    /// Boots the guest kernel under KVM once per boot of this machine (the answer is kept in /run,
    /// with the QEMU and kernel it was found with): a KVM that opens but hangs costs its timeout.
    static func kvmProbe(progress: (String) -> Void) throws -> (works: Bool, why: String) {
        let qemu = Command.resolve("qemu-system-x86_64") ?? "qemu-system-x86_64"
        let stamp = [qemu, kernel].map { path in
            let a = try? FileManager.default.attributesOfItem(atPath: path)
            return "\(path):\((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0):\(a?[.size] as? Int ?? 0)"
        }.joined(separator: ";")
        let cache = "/run/migscope/kvm-probe"
        if let kept = try? String(contentsOfFile: cache, encoding: .utf8) {
            let lines = kept.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.count >= 3, lines[0] == stamp, ["kvm", "tcg"].contains(lines[1]) {
                return (lines[1] == "kvm", lines[2] + " (probed earlier since this machine booted)")
            }
        }
        progress("probing whether KVM runs a guest here")
        let argv = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "128", "-display", "none", "-serial", "stdio",
                    "-monitor", "none", "-no-reboot", "-kernel", kernel, "-initrd", initramfs,
                    "-append", commandLine(Workload(), probe: true)]
        let answer: (works: Bool, why: String)
        do {
            let probe = try Command.run(argv, check: false, timeout: 30)
            if probe.stdout.contains("MIGSCOPE probe ok") {
                answer = (true, "KVM probe booted a guest")
            } else {
                answer = (false, String((probe.stderr.split(separator: "\n").first.map(String.init) ?? "guest did not boot").prefix(120)))
            }
        } catch let e as LabError where e.message.contains("did not finish within") {
            answer = (false, "a guest under KVM did not boot within 30 s")
        }
        try? FileManager.default.createDirectory(atPath: "/run/migscope", withIntermediateDirectories: true)
        try? "\(stamp)\n\(answer.works ? "kvm" : "tcg")\n\(answer.why)\n".write(toFile: cache, atomically: true, encoding: .utf8)
        return answer
    }

    static func domainXML(_ s: LabSettings, slot: LabGuestSlot = .first, accelerator: String, trigger: Bool = false) -> String {
        let cpu = accelerator == "kvm" ? "<cpu mode='host-passthrough'/>" : ""
        return """
        <domain type='\(accelerator == "kvm" ? "kvm" : "qemu")'>
          <name>\(slot.name)</name>
          <memory unit='MiB'>\(s.guestMemoryMiB)</memory>
          <vcpu>\(s.guestCPUs)</vcpu>
          <os>
            <type arch='x86_64' machine='pc'>hvm</type>
            <kernel>\(kernel)</kernel>
            <initrd>\(initramfs)</initrd>
            <cmdline>\(commandLine(s.workload(of: slot), bus: s.bus, trigger: trigger))</cmdline>
          </os>
          \(cpu)
          <on_poweroff>destroy</on_poweroff>
          <on_reboot>destroy</on_reboot>
          <on_crash>destroy</on_crash>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            \(s.bus == .virtioSCSI ? "<controller type='scsi' index='0' model='virtio-scsi'/>" : "")
            <disk type='network' device='disk'>
              <driver name='qemu' type='raw' cache='none'/>
              <source protocol='iscsi' name='\(LabLayout.targetIQN)/\(slot.lun)'>
                <host name='\(LabMachine.storage.address)' port='3260'/>
              </source>
              \(s.bus == .virtioSCSI ? "<target dev='sda' bus='scsi'/>" : "<target dev='vda' bus='virtio'/>")
            </disk>
            <serial type='file'>
              <source path='\(slot.consoleLog)' append='on'/>
              <target port='0'/>
            </serial>
            <console type='file'>
              <source path='\(slot.reportLog)' append='on'/>
              <target type='virtio' port='1'/>
            </console>
            <console type='pipe'>
              <source path='\(slot.controlPipe)'/>
              <target type='virtio' port='2'/>
            </console>
            <memballoon model='none'/>
          </devices>
        </domain>
        """
    }

    /// Starts the guest on `host` and waits until its /init reports that it booted (and, unless
    /// `trigger`, began reading; with `trigger` it reads once `triggerWorkload()` says go).
    static func start(on host: LabMachine, settings: LabSettings, slot: LabGuestSlot = .first, accelerator: String, trigger: Bool = false) async throws {
        try FileManager.default.createDirectory(atPath: slot.directory, withIntermediateDirectories: true)
        try makeControlPipes(slot)
        let conn = try Connection(uri: host.libvirtURI)
        if let old = try? conn.domain(named: slot.name), old.isActive { try? old.destroy() }
        let startedAt = consoleSize(slot)
        let reportsAt = reportSize(slot)
        let who = slot == .first ? "the guest" : slot.name
        do {
            _ = try conn.createDomain(xml: domainXML(settings, slot: slot, accelerator: accelerator, trigger: trigger))
        } catch {
            throw LabError("\(who) did not start on \(host.rawValue): \(error.message)")
        }
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if let reports = text(of: slot.reportLog, from: reportsAt), reports.contains("MIGSCOPE booted") { return }
            if let text = text(of: slot.consoleLog, from: startedAt) {
                if text.contains("MIGSCOPE error") || text.contains("Kernel panic") {
                    let line = text.split(whereSeparator: \.isNewline).first { $0.contains("MIGSCOPE error") || $0.contains("Kernel panic") } ?? ""
                    throw LabError("\(who) failed to boot: \(line); see \(slot.consoleLog)")
                }
            }
            // A guest that dies before its kernel prints (libvirt's on_crash destroys it) is gone
            // from its host: say so now rather than at the deadline.
            if (try? conn.domain(named: slot.name))?.isActive != true {
                throw LabError("\(who) stopped on \(host.rawValue) as it booted, before printing a line (\(settings.guestMemoryMiB) MiB of memory; see \(slot.consoleLog) and \(host.rawValue)'s QEMU log)")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw LabError("\(who) did not report within 90 s; see \(slot.consoleLog)")
    }

    /// QEMU's pipe console opens PATH.in and PATH.out read-write; FIFOs, so nothing is stored.
    static func makeControlPipes(_ slot: LabGuestSlot = .first) throws {
        for suffix in [".in", ".out"] where !FileManager.default.fileExists(atPath: slot.controlPipe + suffix) {
            guard mkfifo(slot.controlPipe + suffix, 0o600) == 0 else {
                throw LabError("cannot make the guest's control pipe \(slot.controlPipe + suffix): errno \(errno)")
            }
        }
    }

    /// Tells a guest started with `trigger` to begin its read. The FIFO is open in QEMU, so
    /// writing never blocks; a guest that is not waiting ignores it.
    static func triggerWorkload(_ slot: LabGuestSlot = .first) throws {
        let fd = open(slot.controlPipe + ".in", O_WRONLY | O_NONBLOCK)
        guard fd >= 0 else { throw LabError("cannot reach the guest's control pipe (is the guest running?): errno \(errno)") }
        defer { close(fd) }
        let go = Array("go\n".utf8)
        guard write(fd, go, go.count) == go.count else { throw LabError("writing to the guest's control pipe failed: errno \(errno)") }
    }

    /// Which host runs the guest now, and in what state.
    static func locate(_ slot: LabGuestSlot = .first) -> (host: LabMachine, state: String)? {
        for h in LabMachine.hypervisors {
            guard let conn = try? Connection(uri: h.libvirtURI), let d = try? conn.domain(named: slot.name),
                  d.isActive, let st = try? d.state().state
            else { continue }
            return (h, st.description)
        }
        return nil
    }

    /// Destroys the guests in `slots` (every slot a lab can have, by default) on both hosts.
    static func destroyEverywhere(_ slots: [LabGuestSlot] = LabGuestSlot.upTo(LabGuestSlot.maximum)) {
        for h in LabMachine.hypervisors {
            guard let conn = try? Connection(uri: h.libvirtURI) else { continue }
            for slot in slots {
                if let d = try? conn.domain(named: slot.name), d.isActive { try? d.destroy() }
            }
        }
    }

    static func size(of path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? UInt64) ?? 0
    }
    static func consoleSize(_ slot: LabGuestSlot = .first) -> UInt64 { size(of: slot.consoleLog) }
    static func reportSize(_ slot: LabGuestSlot = .first) -> UInt64 { size(of: slot.reportLog) }
    static func consoleText(from offset: UInt64, slot: LabGuestSlot = .first) -> String? { text(of: slot.consoleLog, from: offset) }

    static func text(of path: String, from offset: UInt64) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard (try? h.seek(toOffset: offset)) != nil else { return nil }
        let d = h.readDataToEndOfFile()
        return d.isEmpty ? nil : String(decoding: d, as: UTF8.self)
    }
}
