import Foundation
import Libvirt

/// One libvirt daemon per lab host: in the host's network namespace and in a mount and UTS
/// namespace of its own (private /etc/libvirt, /run/libvirt, ... and its own hostname), so two
/// system-mode daemons coexist on one machine and take each other for different hosts.
enum HypervisorDaemon {
    static func mountNamespace(_ h: LabMachine) -> String { LabLayout.namespaceFiles + "/\(h.rawValue).mnt" }
    static func utsNamespace(_ h: LabMachine) -> String { LabLayout.namespaceFiles + "/\(h.rawValue).uts" }
    static func logFile(_ h: LabMachine) -> String { h.directory + "/libvirtd.log" }

    /// The namespace files must live on a private mount, or binding a namespace to them fails.
    static func prepareNamespaceFolder() throws {
        let dir = LabLayout.namespaceFiles
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if !Mounts.isMountPoint(dir) {
            try Command.run(["mount", "--bind", dir, dir])
            try Command.run(["mount", "--make-private", dir])
        }
    }

    static func setUp(_ h: LabMachine) throws {
        let fm = FileManager.default
        for sub in ["etc", "run", "lib", "cache", "log", "sock"] {
            try fm.createDirectory(atPath: h.directory + "/" + sub, withIntermediateDirectories: true)
        }
        for folder in LabLayout.daemonPrivateFolders {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let mnt = mountNamespace(h)
        let uts = utsNamespace(h)
        // Bind-mount targets for the namespaces unshare keeps.
        for file in [mnt, uts] where !fm.createFile(atPath: file, contents: nil) {
            throw LabError("cannot create \(file) for host \(h.rawValue)'s namespaces")
        }
        try Command.run(["unshare", "--mount=\(mnt)", "--uts=\(uts)", "--propagation", "private", "hostname", h.rawValue])
        let sources = ["etc", "run", "lib", "cache", "log"].map { h.directory + "/" + $0 }
        for (source, target) in zip(sources, LabLayout.daemonPrivateFolders) {
            try Command.run(["nsenter", "--mount=\(mnt)", "mount", "--bind", source, target])
        }
        try daemonConfig(h).write(toFile: h.directory + "/etc/libvirtd.conf", atomically: true, encoding: .utf8)
        try qemuConfig(h).write(toFile: h.directory + "/etc/qemu.conf", atomically: true, encoding: .utf8)
    }

    static func daemonConfig(_ h: LabMachine) -> String {
        """
        # migscope lab: \(h.rawValue). Reached only through its unix socket; no auth (lab only).
        unix_sock_dir = "\(h.socketDirectory)"
        unix_sock_group = "root"
        unix_sock_ro_perms = "0770"
        unix_sock_rw_perms = "0770"
        auth_unix_ro = "none"
        auth_unix_rw = "none"
        listen_tls = 0
        listen_tcp = 0
        host_uuid = "\(h.hostUUID)"
        log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
        keepalive_interval = 5
        keepalive_count = 12
        max_workers = 8

        """
    }

    static func qemuConfig(_ h: LabMachine) -> String {
        """
        # migscope lab: \(h.rawValue). Migration streams go over the host's own lab address.
        security_driver = "none"
        user = "root"
        group = "root"
        dynamic_ownership = 0
        remember_owner = 0
        cgroup_controllers = [ ]
        stdio_handler = "file"
        migration_address = "\(h.address)"
        migration_host = "\(h.address)"
        migration_port_min = 49152
        migration_port_max = 49215

        """
    }

    static func start(_ h: LabMachine) async throws {
        _ = try Command.spawnDetached(
            ["nsenter", "--net=/run/netns/\(h.namespace)", "--mount=\(mountNamespace(h))", "--uts=\(utsNamespace(h))",
             "libvirtd", "--config", "/etc/libvirt/libvirtd.conf", "--pid-file", h.directory + "/libvirtd.pid"],
            logTo: h.directory + "/libvirtd.stderr")
        // Ready when a client can open it.
        let deadline = Date().addingTimeInterval(30)
        var lastError = ""
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: h.socketDirectory + "/libvirt-sock") {
                do {
                    _ = try Connection(uri: h.libvirtURI)
                    return
                } catch { lastError = error.message }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw LabError("libvirtd on \(h.rawValue) did not answer within 30 s (\(lastError)); see \(h.directory)/libvirtd.stderr")
    }

    static func pid(_ h: LabMachine) -> Int32? {
        guard let s = try? String(contentsOfFile: h.directory + "/libvirtd.pid", encoding: .utf8),
              let p = Int32(s.trimmingCharacters(in: .whitespacesAndNewlines)), Processes.isAlive(p)
        else { return nil }
        return p
    }

    static func releaseNamespaces(_ h: LabMachine) {
        for f in [mountNamespace(h), utsNamespace(h)] where Mounts.isMountPoint(f) {
            _ = try? Command.run(["umount", "-l", f], check: false)
        }
    }
}

/// Reading the mount table.
enum Mounts {
    static func mountPoints() -> [String] {
        guard let s = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return s.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            return f.count > 4 ? String(f[4]).replacingOccurrences(of: "\\040", with: " ") : nil
        }
    }

    static func isMountPoint(_ path: String) -> Bool { mountPoints().contains(path) }

    /// Mounts the lab made and has not removed.
    static func labMounts() -> [String] { mountPoints().filter { $0.hasPrefix(LabLayout.stateDirectory) } }
}
