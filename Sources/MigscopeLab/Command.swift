import Foundation

/// Runs programs by argument vector (never a string through a shell) and waits for them.
enum Command {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `argv`; with `check`, a non-zero exit becomes a LabError quoting stderr's last line.
    @discardableResult
    static func run(_ argv: [String], check: Bool = true, input: Data? = nil, in directory: String? = nil, timeout: Double = 120) throws -> Output {
        guard let exe = resolve(argv[0]) else {
            throw LabError("'\(argv[0])' is not installed; run scripts/install-deps.sh (package \(Tools.package(of: argv[0])))")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = Array(argv.dropFirst())
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let inPipe = input.map { _ in Pipe() }
        p.standardInput = inPipe ?? FileHandle.nullDevice
        try p.run()
        if let inPipe, let input {
            inPipe.fileHandleForWriting.write(input)
            try? inPipe.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so neither fills up and blocks the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var o = Data()
        nonisolated(unsafe) var e = Data()
        group.enter()
        DispatchQueue.global().async { o = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { e = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            kill(p.processIdentifier, SIGKILL)
            throw LabError("'\(argv.joined(separator: " "))' did not finish within \(Int(timeout)) s")
        }
        p.waitUntilExit()
        let result = Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
        if check && result.status != 0 {
            let why = result.stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(result.status)"
            throw LabError("'\(argv.joined(separator: " "))' failed: \(why)")
        }
        return result
    }

    /// Starts `argv` detached from us: it keeps running after migscope exits (daemons, tail readers).
    static func spawnDetached(_ argv: [String], logTo log: String) throws -> Int32 {
        guard let exe = resolve(argv[0]) else {
            throw LabError("'\(argv[0])' is not installed; run scripts/install-deps.sh (package \(Tools.package(of: argv[0])))")
        }
        guard FileManager.default.createFile(atPath: log, contents: nil) else {
            throw LabError("cannot create the log file \(log) for \(argv[0]); is its folder writable?")
        }
        let p = Process()
        // A session of its own: a Ctrl-C meant for migscope must not reach the lab's daemons.
        p.executableURL = URL(fileURLWithPath: resolve("setsid") ?? "/usr/bin/setsid")
        p.arguments = [exe] + Array(argv.dropFirst())
        let h = FileHandle(forWritingAtPath: log)
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p.processIdentifier
    }

    static func resolve(_ name: String) -> String? {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let path = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// The programs the lab runs, and the Debian package of each.
enum Tools {
    static let packages: [String: String] = [
        "ip": "iproute2", "tc": "iproute2", "nsenter": "util-linux", "unshare": "util-linux",
        "mount": "mount", "umount": "mount", "libvirtd": "libvirt-daemon",
        "qemu-system-x86_64": "qemu-system-x86", "tgtd": "tgt", "tgtadm": "tgt",
        "busybox": "busybox-static", "cpio": "cpio", "iperf3": "iperf3", "dd": "coreutils",
    ]

    static func package(of tool: String) -> String {
        packages[(tool as NSString).lastPathComponent] ?? "the package providing \(tool)"
    }

    /// Fails with one line naming the first missing tool and its package.
    static func require(_ names: [String]) throws {
        for n in names where Command.resolve(n) == nil {
            throw LabError("'\(n)' is not installed; run scripts/install-deps.sh (package \(package(of: n)))")
        }
    }
}
