import ArgumentParser
import Foundation
import MigscopeLab
import MigscopeLibvirt

/// `--on URI`, repeatable, for the commands that look at what libvirt hosts are busy with; without
/// it, the embedded lab's two hosts when a lab is up.
struct HostsOption: ParsableArguments {
    @Option(name: .customLong("on"), help: ArgumentHelp("libvirt URI of a host to look at (repeatable; default: the lab's hosts when a lab is up).", valueName: "uri"))
    var given: [String] = []

    @Flag(name: .customLong("allow-ext-transport"), help: "Accept URIs that make libvirt run a program or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    func validate() throws {
        for uri in given {
            if let why = LibvirtURIPolicy.problem(uri, allowExternal: allowExternalTransport) { throw ValidationError("--on \(uri): \(why)") }
        }
        if given.isEmpty, let d = DefaultHost.uri, let why = LibvirtURIPolicy.problem(d, allowExternal: allowExternalTransport) {
            throw ValidationError("\(DefaultHost.variable) \(d): \(why)")
        }
    }

    /// The hosts to look at: --on, else LIBVIRT_DEFAULT_URI, else the lab's; refuses, naming the
    /// fix, when there are none.
    func hosts() throws -> [String] {
        if !given.isEmpty { return given }
        if let d = DefaultHost.uri { return [d] }
        guard Lab.isUp() else { throw ValidationError("no host given and no lab is up: name the hosts with --on URI (repeatable) or set LIBVIRT_DEFAULT_URI") }
        return LabMachine.hypervisors.map(\.libvirtURI)
    }
}

/// The host a libvirt command means when none is named, as virsh takes it.
enum DefaultHost {
    static let variable = "LIBVIRT_DEFAULT_URI"
    static var uri: String? {
        guard let v = ProcessInfo.processInfo.environment[variable], !v.isEmpty else { return nil }
        return v
    }

    /// `given` (named by `flag`), else LIBVIRT_DEFAULT_URI; with where it came from.
    static func choose(_ given: String?, flag: String) -> (uri: String, named: String)? {
        if let given { return (given, flag) }
        return uri.map { ($0, variable) }
    }
}
