import Foundation

/// Comparing host URIs the way a user means them: same scheme, host and path, whatever the spelling.
public enum HostURI {
    /// A canonical form: lower-cased scheme and host, default path kept, query kept (it names sockets).
    public static func canonical(_ uri: String) -> String {
        guard let c = URLComponents(string: uri.trimmingCharacters(in: .whitespaces)) else { return uri }
        var parts = (c.scheme ?? "").lowercased() + "://" + (c.host ?? "").lowercased()
        if let port = c.port { parts += ":\(port)" }
        var path = c.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        parts += path
        if let q = c.query, !q.isEmpty { parts += "?" + q }
        return parts
    }

    public static func sameHost(_ a: String, _ b: String) -> Bool {
        canonical(a) == canonical(b)
    }

    /// Whether the URI names a daemon on this machine (no host part: a local socket).
    public static func isThisMachine(_ uri: String) -> Bool {
        guard let c = URLComponents(string: uri.trimmingCharacters(in: .whitespaces)), c.scheme != nil else { return false }
        return (c.host ?? "").isEmpty || c.host == "localhost"
    }

    /// The URI as stored and shown: no user name or password, and no parameter that names a key
    /// file or a program (a results database travels; credentials must not travel with it).
    public static func redacted(_ uri: String) -> String {
        guard var c = URLComponents(string: uri), c.scheme != nil else { return uri }
        c.user = nil
        c.password = nil
        let hidden: Set<String> = ["keyfile", "pkipath", "command", "netcat", "known_hosts", "sshauth", "password"]
        if let items = c.queryItems {
            let kept = items.filter { !hidden.contains($0.name.lowercased()) }
            c.queryItems = kept.isEmpty ? nil : kept
        }
        return c.string ?? uri
    }
}
