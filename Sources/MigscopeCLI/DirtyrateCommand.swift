import ArgumentParser
import Foundation
import MigscopeCore
import MigscopeLibvirt

/// `migscope dirtyrate GUEST --on URI`: how fast a guest dirties its memory, measured in place.
struct DirtyrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dirtyrate",
        abstract: "Measure a running guest's dirty rate in place, without migrating it (libvirt's virDomainStartDirtyRateCalc).",
        discussion: """
            Each window is measured in turn; windows of several lengths show how the dirtied set grows (a guest that \
            rewrites the same pages dirties less per second over longer windows), which 'migscope predict' uses. \
            Xen (libxl) has no in-place measurement: libxenguest counts dirty pages only while it migrates.
            """)

    @Argument(help: "Name or UUID of the running domain.") var domain: String
    @Option(name: .customLong("on"), help: ArgumentHelp("libvirt URI of the guest's host (default: LIBVIRT_DEFAULT_URI).", valueName: "uri"))
    var on: String?
    @Option(help: ArgumentHelp("Window lengths, comma-separated, 1 to 60 each, up to 8 windows.", valueName: "s[,s...]"),
            transform: DirtyrateCommand.windows)
    var seconds: [Int] = [1, 2, 4]
    @Option(parsing: .unconditional, help: ArgumentHelp("How many times each window is measured, in turn (1 to 20); the table gives each length's mean.", valueName: "N"),
            transform: DirtyrateCommand.repeats)
    var `repeat`: Int = 1
    @Option(help: ArgumentHelp("page-sampling (QEMU's default), dirty-bitmap or dirty-ring.", valueName: "method"))
    var method: DirtyRateMethod = .pageSampling
    @Flag(help: "Print JSON.") var json = false
    @Flag(name: .customLong("allow-ext-transport"), help: "Accept a URI that makes libvirt run a program or use a socket outside libvirt's folders.")
    var allowExternalTransport = false

    static func windows(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard !parts.isEmpty, parts.count <= 8, values.count == parts.count, values.allSatisfy({ (1...60).contains($0) }) else {
            throw ValidationError("--seconds must be up to 8 whole numbers of seconds from 1 to 60, comma-separated (e.g. 1,2,4), got '\(text)'")
        }
        return values
    }

    static func repeats(_ text: String) throws -> Int {
        guard let n = Int(text.trimmingCharacters(in: .whitespaces)), (1...20).contains(n) else {
            throw ValidationError("--repeat must be a whole number from 1 to 20 (how many times each window is measured), got '\(text)'")
        }
        return n
    }

    var host: (uri: String, named: String)? { DefaultHost.choose(on, flag: "--on") }

    func validate() throws {
        guard let host else { throw ValidationError("--on is missing (and LIBVIRT_DEFAULT_URI is not set): give the guest's host, e.g. qemu:///system") }
        if ["xen", "libxl"].contains(host.uri) || host.uri.hasPrefix("xen:") {
            throw ValidationError("the dirty rate cannot be measured in place on Xen: libxl has no such call, and libxenguest counts dirty pages only while it migrates (each round's dirtied pages are in a recorded run's rounds)")
        }
        if let why = LibvirtURIPolicy.problem(host.uri, allowExternal: allowExternalTransport) { throw ValidationError("\(host.named) \(host.uri): \(why)") }
    }

    func run() async throws {
        let uri = host?.uri ?? ""
        let quiet = json
        let schedule = DirtyRateMeasurement.schedule(seconds, repeats: `repeat`)
        let m = try await LibvirtInventory.measureDirtyRate(domain, on: uri, windows: schedule, method: method) { i, s in
            if !quiet { printNote("measuring window \(i) of \(schedule.count) (\(s) s)") }
        }
        if json { print(try JSONText.encode(DirtyRateText.Output(m))); return }
        print(DirtyRateText.render(m))
    }
}

enum DirtyRateText {
    struct Output: Encodable {
        var measurement: DirtyRateMeasurement
        var model: DirtyingModel?
        init(_ m: DirtyRateMeasurement) {
            measurement = m
            model = m.model
        }
    }

    static func render(_ m: DirtyRateMeasurement) -> String {
        let groups = m.byLength
        let repeated = groups.contains { $0.count > 1 }
        let rows = groups.map { g in
            let w = g.window
            return [Format.seconds(w.seconds)] + (repeated ? ["\(g.count)"] : [])
                + [String(format: "%.0f", w.bytesPerSecond / m.pageBytes), Format.rate(w.bytesPerSecond), Format.bytes(w.bytes)]
        }
        var out = "dirty rate of '\(m.domain)' on \(m.host) (\(m.method)\(repeated ? "; each length's mean" : "")):\n"
        out += TextTable.render(header: ["window"] + (repeated ? ["times"] : []) + ["pages/s", "rate", "dirtied"], rows: rows)
        if let reads = m.readBytesPerSecond { out += "\nthe guest read \(Format.rate(reads)) from its disks meanwhile" }
        if let model = m.model {
            out += "\n" + (model.workingSetBytes.map { "dirtied set: \(Format.rate(model.bytesPerSecond)) at first, saturating at a working set of \(Format.bytes($0))" }
                ?? "dirtied set: grows linearly, \(Format.rate(model.bytesPerSecond))")
            if let fill = model.cacheFill {
                out += "\nthe reads go through the page cache: over longer rounds they dirty \(Format.rate(fill.bytesPerSecond)) until they have cycled through \(Format.bytes(fill.poolBytes)) free or cached"
            }
        }
        return out
    }
}

extension DirtyRateMethod: ExpressibleByArgument {}
