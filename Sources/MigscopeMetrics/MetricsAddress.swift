/// Where `--metrics-listen` serves: `HOST:PORT` with an IPv4 address, `[IPv6]:PORT`, or
/// `localhost:PORT`. Parsed strictly: it comes from the command line.
public struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Host: Sendable, Equatable {
        case ipv4(String)
        case ipv6(String)
    }
    public var host: Host
    public var port: UInt16

    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String {
        switch host {
        case .ipv4(let a): "\(a):\(port)"
        case .ipv6(let a): "[\(a)]:\(port)"
        }
    }

    /// The address `text` names, or why it names none (one line, with the form expected).
    public static func parse(_ text: String) -> Result<MetricsAddress, AddressProblem> {
        let form = "expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464"
        guard text.count <= 64, let colon = text.lastIndex(of: ":") else { return .failure(AddressProblem("'\(text.prefix(64))' is not an address; \(form)")) }
        var hostPart = String(text[..<colon])
        let portPart = text[text.index(after: colon)...]
        guard let port = UInt16(portPart), port > 0 else {
            return .failure(AddressProblem("'\(portPart)' is not a port in '\(text)'; a port is 1 to 65535 (\(form))"))
        }
        if hostPart == "localhost" { hostPart = "127.0.0.1" }
        if hostPart.hasPrefix("["), hostPart.hasSuffix("]") {
            let inner = String(hostPart.dropFirst().dropLast())
            guard isIPv6(inner) else { return .failure(AddressProblem("'\(inner)' is not an IPv6 address in '\(text)'; \(form)")) }
            return .success(MetricsAddress(host: .ipv6(inner), port: port))
        }
        guard isIPv4(hostPart) else {
            return .failure(AddressProblem("'\(hostPart)' is not an IPv4 address in '\(text)' (names other than localhost are not looked up; IPv6 goes in brackets); \(form)"))
        }
        return .success(MetricsAddress(host: .ipv4(hostPart), port: port))
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCII) && p.allSatisfy(\.isNumber) && (Int(p) ?? 256) <= 255
        }
    }

    static func isIPv6(_ s: String) -> Bool {
        // The socket layer checks it properly; this keeps anything that is not hex digits and colons out.
        !s.isEmpty && s.count <= 45 && s.contains(":") && s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

public struct AddressProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
