import Foundation

/// The iSCSI target: tgtd in the storage namespace, one LUN per lab guest, all backed by the same
/// file of real data (the guests only read it).
enum StorageTarget {
    static func diskImage(sizeMiB: Int) -> String { LabLayout.cacheDirectory + "/disk-\(sizeMiB)MiB.img" }

    /// Makes the disk image once per size: random data, because zeros (or a sparse file) read too
    /// fast to be honest and compress; kept in the cache across labs since it is slow to make.
    static func ensureDiskImage(sizeMiB: Int, progress: (String) -> Void) throws -> String {
        let path = diskImage(sizeMiB: sizeMiB)
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attrs?[.size] as? UInt64, size == UInt64(sizeMiB) << 20 { return path }
        try checkRoom(sizeMiB: sizeMiB)
        progress("writing a \(sizeMiB) MiB disk image of random data (once per size) to \(path)")
        let partial = path + ".partial"
        do {
            try Command.run(["dd", "if=/dev/urandom", "of=\(partial)", "bs=1M", "count=\(sizeMiB)", "status=none"], timeout: 1800)
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        return path
    }

    /// A disk image that is not made yet must fit in the cache's file system: checked before
    /// anything of a lab is built, so a disk too large fails in one line with nothing half-made.
    static func checkRoom(sizeMiB: Int) throws {
        let path = diskImage(sizeMiB: sizeMiB)
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? UInt64, size == UInt64(sizeMiB) << 20 { return }
        try FileManager.default.createDirectory(atPath: LabLayout.cacheDirectory, withIntermediateDirectories: true)
        if let free = (try? FileManager.default.attributesOfFileSystem(forPath: LabLayout.cacheDirectory))?[.systemFreeSize] as? UInt64,
           UInt64(sizeMiB) << 20 > free {
            throw LabError("a \(sizeMiB) MiB disk does not fit in \(LabLayout.cacheDirectory) (\(free >> 20) MiB free); give a smaller --disk-size (disk_mib) or free space")
        }
    }

    static func tgtadm(_ args: [String], check: Bool = true) throws -> Command.Output {
        try Command.run(LabNetwork.inNamespace(LabMachine.storage.namespace, ["tgtadm", "--lld", "iscsi"] + args), check: check)
    }

    static func start(image: String, guests: Int = 1) throws {
        let log = LabMachine.storage.directory + "/tgtd.log"
        try FileManager.default.createDirectory(atPath: LabMachine.storage.directory, withIntermediateDirectories: true)
        // tgtd stays in the foreground here so it cannot escape our process accounting.
        _ = try Command.spawnDetached(LabNetwork.inNamespace(LabMachine.storage.namespace, ["tgtd", "-f"]), logTo: log)
        // Its control socket appears when it is ready.
        var ready = false
        for _ in 0..<50 {
            if let r = try? tgtadm(["--mode", "target", "--op", "show"], check: false), r.status == 0 { ready = true; break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard ready else { throw LabError("the iSCSI target (tgtd) did not start; see \(log)") }
        _ = try tgtadm(["--mode", "target", "--op", "new", "--tid", "1", "--targetname", LabLayout.targetIQN])
        for slot in LabGuestSlot.upTo(guests) {
            _ = try tgtadm(["--mode", "logicalunit", "--op", "new", "--tid", "1", "--lun", "\(slot.lun)", "--backing-store", image])
        }
        _ = try tgtadm(["--mode", "target", "--op", "bind", "--tid", "1", "--initiator-address", "ALL"])
    }

    /// tgtd ignores SIGTERM: delete the target, take the system offline, then ask it to exit.
    static func stop() {
        _ = try? tgtadm(["--mode", "target", "--op", "delete", "--force", "--tid", "1"], check: false)
        _ = try? tgtadm(["--mode", "system", "--op", "update", "--name", "State", "-v", "offline"], check: false)
        _ = try? tgtadm(["--mode", "system", "--op", "delete"], check: false)
    }
}
