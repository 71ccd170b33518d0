import Foundation
import MigscopeCore
import MigscopeLibvirt

/// Finds out what software migscope runs with: its libvirt library, this machine's QEMU, kernel and
/// Xen, and each named host's daemon and hypervisor.
public enum SoftwareSurvey {
    /// Hosts that do not answer within `timeout` are reported as such (`unreachable`), not fatal.
    public static func versions(migscope: String = MigscopeVersion.current, hosts: [String], timeout: Double = 10) async -> (SoftwareVersions, unreachable: [String: String]) {
        var found: [HostSoftware] = []
        var unreachable: [String: String] = [:]
        for uri in hosts {
            do {
                var host = try await LibvirtInventory.software(on: uri, timeout: timeout)
                if HostURI.isThisMachine(uri) { host.kernel = kernel() }
                found.append(host)
            } catch { unreachable[HostURI.redacted(uri)] = "\(error)" }
        }
        let v = SoftwareVersions(migscope: migscope, libvirtLibrary: LibvirtInventory.libraryVersion, localQEMU: qemu(), localXen: xen(),
                                 localKernel: kernel(), hosts: found)
        return (v, unreachable)
    }

    /// `qemu-system-x86_64 --version`'s first line, shortened to "QEMU 7.2.19 (Debian ...)".
    static func qemu() -> String? {
        let candidates = ["/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64"]
        guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["--version"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let first = String(decoding: data.prefix(400), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return first.replacingOccurrences(of: "QEMU emulator version ", with: "QEMU ")
    }

    /// Xen's version from /sys/hypervisor, when this machine runs under Xen.
    static func xen() -> String? {
        func read(_ p: String) -> String? {
            (try? String(contentsOfFile: "/sys/hypervisor/" + p, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard read("type") == "xen", let major = read("version/major"), let minor = read("version/minor") else { return nil }
        return "\(major).\(minor)\(read("version/extra") ?? "")"
    }

    static func kernel() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
