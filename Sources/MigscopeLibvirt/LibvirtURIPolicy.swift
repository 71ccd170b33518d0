import Foundation

/// Which libvirt URIs migscope opens without being told to: a URI is data (from a plan file, a
/// script), and libvirt runs programs for some of them (the `ext` transport's `command=`, the ssh
/// transport's remote `netcat=`) or talks to any socket named in `socket=`. Those are refused
/// unless the user allows them explicitly (`--allow-ext-transport`).
public enum LibvirtURIPolicy {
    /// Folders whose sockets are libvirt's own (and the embedded lab's daemons').
    public static let trustedSocketFolders = ["/run/libvirt/", "/var/run/libvirt/", "/run/migscope-lab/"]
    /// Parameters whose value libvirt runs as a program.
    static let programParameters: Set<String> = ["command", "netcat"]

    /// Why `uri` is refused, or nil when migscope may open it.
    public static func problem(_ uri: String, allowExternal: Bool) -> String? {
        if let bad = syntaxProblem(uri) { return bad }
        guard !allowExternal else { return nil }
        guard let c = URLComponents(string: uri.trimmingCharacters(in: .whitespaces)) else { return nil }
        if let scheme = c.scheme?.lowercased(), scheme.hasSuffix("+ext") {
            return "'\(scheme)' makes libvirt run a program; refused unless --allow-ext-transport is given"
        }
        for item in c.queryItems ?? [] {
            let name = item.name.lowercased()
            if programParameters.contains(name) {
                return "the URI parameter '\(item.name)' names a program for libvirt to run; refused unless --allow-ext-transport is given"
            }
            if name == "socket" {
                let path = ((item.value ?? "") as NSString).standardizingPath
                if !trustedSocketFolders.contains(where: { path.hasPrefix($0) }) {
                    return "the socket \(item.value ?? "") is outside libvirt's own folders (\(trustedSocketFolders.joined(separator: ", "))); refused unless --allow-ext-transport is given"
                }
            }
        }
        return nil
    }

    /// What makes `uri` no URI libvirt could open: checked before any connection, so a typo is a
    /// usage error, not a host that does not answer.
    static func syntaxProblem(_ uri: String) -> String? {
        let example = "give one like qemu:///system or qemu+ssh://host/system"
        if uri.isEmpty { return "is empty; \(example)" }
        if uri.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " }) {
            return "contains spaces or control characters; \(example)"
        }
        guard let c = URLComponents(string: uri), let scheme = c.scheme, !scheme.isEmpty, uri.contains(":") else {
            return "is not a URI; \(example)"
        }
        if let port = c.port, !(1...65535).contains(port) { return "port \(port) is not from 1 to 65535" }
        return nil
    }
}
