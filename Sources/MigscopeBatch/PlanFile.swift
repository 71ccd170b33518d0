import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLab
import MigscopeLibvirt
import MigscopeLibxl
import Yams

/// One thing wrong with a plan file, at its line and column.
public struct PlanProblem: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "\(line):\(column): \(message)" }
}

/// All that is wrong with a plan, found before anything runs.
public struct PlanErrors: UserFacingError, Sendable {
    public var file: String
    public var problems: [PlanProblem]
    /// Bad input: every problem is reported, one line each, and the command ends with status 2.
    public var exitStatus: Int32 { 2 }
    public var message: String {
        problems.map { $0.line > 0 ? "\(file):\($0)" : "\(file): \($0.message)" }.joined(separator: "\n")
    }
}

/// Reads a YAML plan, checking every key and value and reporting every problem at once.
public enum PlanFile {
    /// `allowExternalTransport`: accept URIs that make libvirt run a program or open a socket
    /// outside its own folders (LibvirtURIPolicy); a plan is data and may not do so by itself.
    public static func load(path: String, allowExternalTransport: Bool = false) throws -> Plan {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PlanErrors(file: path, problems: [PlanProblem(line: 0, column: 0, message: "cannot read the plan file; give the path of a YAML plan (see plans in Sources/MigscopeBatch/Plans)")])
        }
        return try parse(text, file: path, allowExternalTransport: allowExternalTransport)
    }

    public static func parse(_ text: String, file: String = "plan", allowExternalTransport: Bool = false) throws -> Plan {
        var reader = Reader()
        reader.allowExternalTransport = allowExternalTransport
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            // Yams says where: "2:1: error: parser: ..."; keep its words, on one line.
            let message = "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            let (line, col, rest) = splitMark(message)
            throw PlanErrors(file: file, problems: [PlanProblem(line: line, column: col, message: "not valid YAML: \(rest)")])
        }
        guard let root, let map = root.mapping else {
            throw PlanErrors(file: file, problems: [PlanProblem(line: 1, column: 1, message: "a plan is a mapping of keys (name, hosts, workload, matrix, ...)")])
        }
        let plan = reader.plan(map, fileName: (file as NSString).lastPathComponent)
        if !reader.problems.isEmpty || plan == nil {
            throw PlanErrors(file: file, problems: reader.problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return plan!
    }

    /// Real hosts must answer and the domain must exist on one of them: checked before anything
    /// runs, each failure at the line that names the host.
    public static func checkHosts(_ plan: Plan, file: String, reach: (String) async -> String?, findDomain: (String, String) async -> Bool) async throws {
        guard case .uris(let source, let destination, let domain) = plan.hosts else { return }
        var problems: [PlanProblem] = []
        func at(_ key: String) -> (Int, Int) { plan.locations[key].map { ($0.line, $0.column) } ?? (0, 0) }
        var reachable: [String] = []
        for (key, uri) in [("source", source), ("destination", destination)] {
            if let why = await reach(uri) {
                let (l, c) = at(key)
                problems.append(PlanProblem(line: l, column: c, message: "\(key) \(uri) cannot be reached: \(why)"))
            } else { reachable.append(uri) }
        }
        if reachable.count == 2 {
            let onSource = await findDomain(domain, source)
            let onDestination = onSource ? false : await findDomain(domain, destination)
            if !onSource && !onDestination {
                let (l, c) = at("domain")
                problems.append(PlanProblem(line: l, column: c, message: "no running domain '\(domain)' on \(source) or \(destination)"))
            }
        }
        if !problems.isEmpty { throw PlanErrors(file: file, problems: problems) }
    }

    static func splitMark(_ s: String) -> (Int, Int, String) {
        let parts = s.split(separator: ":", maxSplits: 2)
        if parts.count == 3, let l = Int(parts[0]), let c = Int(parts[1]) {
            return (l, c, parts[2].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "error: ", with: ""))
        }
        return (1, 1, s)
    }
}

/// Walks the YAML tree, collecting problems instead of stopping at the first.
struct Reader {
    var problems: [PlanProblem] = []
    var allowExternalTransport = false
    var locations: [String: PlanLocation] = [:]

    mutating func problem(_ node: Node?, _ message: String) {
        problems.append(PlanProblem(line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, message: message))
    }

    /// The mapping's entries by key, with unknown keys reported.
    mutating func entries(_ map: Node.Mapping, allowed: [String], in context: String) -> [String: (key: Node, value: Node)] {
        var out: [String: (Node, Node)] = [:]
        for (k, v) in map {
            guard let name = k.scalar?.string else { problem(k, "\(context): keys are plain words"); continue }
            if !allowed.contains(name) {
                let near = allowed.first { $0.hasPrefix(String(name.prefix(3))) }.map { " (did you mean '\($0)'?)" } ?? ""
                problem(k, "unknown key '\(name)' in \(context)\(near); expected one of: \(allowed.joined(separator: ", "))")
                continue
            }
            if out[name] != nil { problem(k, "'\(name)' is given twice in \(context)") }
            out[name] = (k, v)
        }
        return out
    }

    mutating func string(_ e: [String: (key: Node, value: Node)], _ key: String) -> String? {
        guard let (k, v) = e[key] else { return nil }
        guard let s = v.scalar?.string, !s.isEmpty else { problem(v.mark == nil ? k : v, "'\(key)' must be a text value"); return nil }
        return s
    }

    mutating func int(_ e: [String: (key: Node, value: Node)], _ key: String, range: ClosedRange<Int>, unit: String) -> Int? {
        guard let (_, v) = e[key] else { return nil }
        guard let s = v.scalar?.string, let n = Int(s) else { problem(v, "'\(key)' must be a whole number of \(unit), got '\(v.scalar?.string ?? "a list or mapping")'"); return nil }
        guard range.contains(n) else { problem(v, "'\(key)' must be \(range.lowerBound) to \(range.upperBound) \(unit), got \(n)"); return nil }
        return n
    }

    mutating func number(_ e: [String: (key: Node, value: Node)], _ key: String, range: ClosedRange<Double>, unit: String) -> Double? {
        guard let (_, v) = e[key] else { return nil }
        guard let s = v.scalar?.string, let n = Double(s), n.isFinite else { problem(v, "'\(key)' must be a number of \(unit), got '\(v.scalar?.string ?? "a list or mapping")'"); return nil }
        guard range.contains(n) else { problem(v, "'\(key)' must be \(Int(range.lowerBound)) to \(Int(range.upperBound)) \(unit), got \(s)"); return nil }
        return n
    }

    mutating func bool(_ e: [String: (key: Node, value: Node)], _ key: String) -> Bool? {
        guard let (_, v) = e[key] else { return nil }
        switch v.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: problem(v, "'\(key)' must be true or false, got '\(v.scalar?.string ?? "a list or mapping")'"); return nil
        }
    }

    /// A list (or one value) whose items `parse` turns into values; an empty list is a problem.
    mutating func list<T>(_ e: [String: (key: Node, value: Node)], _ key: String, _ parse: (inout Reader, Node) -> T?) -> [T]? {
        guard let (k, v) = e[key] else { return nil }
        let items: [Node] = v.sequence.map { Array($0) } ?? [v]
        if items.isEmpty { problem(k, "'\(key)' is an empty list; give at least one value or leave the key out"); return nil }
        var out: [T] = []
        var ok = true
        for item in items {
            if let x = parse(&self, item) { out.append(x) } else { ok = false }
        }
        return ok ? out : nil
    }

    mutating func plan(_ map: Node.Mapping, fileName: String) -> Plan? {
        let top = entries(map, allowed: ["name", "hosts", "guest", "workload", "matrix", "repetitions", "baseline_s", "tail_s",
                                         "tail_until_workload_done", "max_tail_s", "p2p", "persistent", "undefine_source", "poll_interval_ms", "reset"], in: "the plan")
        let name = string(top, "name") ?? (fileName as NSString).deletingPathExtension

        // Hosts: "lab", or source/destination URIs and a domain.
        var hosts: Plan.Hosts? = nil
        var guestMemory = 1024, disk = 4096, accel = "auto"
        if let g = top["guest"] {
            if let gm = g.value.mapping {
                let ge = entries(gm, allowed: ["memory_mib", "disk_mib", "accelerator"], in: "guest")
                guestMemory = int(ge, "memory_mib", range: LabSettings.guestMemoryRange, unit: "MiB") ?? guestMemory
                disk = int(ge, "disk_mib", range: LabSettings.diskSizeRange, unit: "MiB") ?? disk
                if let a = string(ge, "accelerator") {
                    if ["auto", "tcg", "kvm"].contains(a) { accel = a } else { problem(ge["accelerator"]?.value, "'accelerator' must be auto, tcg or kvm, got '\(a)'") }
                }
            } else { problem(g.value, "'guest' must be a mapping (memory_mib, disk_mib, accelerator)") }
        }
        switch top["hosts"] {
        case nil:
            problem(map.first?.key, "missing 'hosts': 'lab' for the embedded lab, or a mapping with source, destination and domain")
        case let (_, v)? where v.scalar?.string == "lab":
            hosts = .lab(guestMemoryMiB: guestMemory, diskSizeMiB: disk, accelerator: accel)
        case let (_, v)?:
            if let hm = v.mapping, hm.contains(where: { $0.key.scalar?.string == "backend" }) {
                let he = entries(hm, allowed: ["backend", "destination", "domain"], in: "hosts")
                let backend = string(he, "backend"), d = string(he, "destination"), dom = string(he, "domain")
                if let backend, backend != "libxl", backend != "libvirt" {
                    problem(he["backend"]?.value, "hosts: backend must be libvirt or libxl, got '\(backend)'")
                } else if backend == "libvirt" {
                    problem(he["backend"]?.value, "hosts: backend libvirt is the default; leave it out and give source, destination and domain")
                }
                if hm.contains(where: { $0.key.scalar?.string == "source" }) { problem(v, "hosts: libxl migrates from the dom0 migscope runs in; leave out 'source'") }
                if d == nil && he["destination"] == nil { problem(v, "hosts: missing 'destination' (localhost, HOST:PORT of a 'migscope xen-receive', or ssh://HOST)") }
                if dom == nil && he["domain"] == nil { problem(v, "hosts: missing 'domain' (the running Xen domain to migrate)") }
                if let d {
                    do { _ = try XenDestination(parsing: d) } catch { problem(he["destination"]?.value, "hosts: \(error.message)") }
                }
                if backend == "libxl", let d, let dom { hosts = .fromThisHost(backend: "libxl", destination: d, domain: dom) }
                for key in ["destination", "domain"] {
                    if let m = he[key]?.value.mark { locations[key] = PlanLocation(line: m.line, column: m.column) }
                }
                if top["guest"] != nil { problem(top["guest"]?.key, "'guest' applies to the embedded lab only (hosts: lab)") }
            } else if let hm = v.mapping {
                let he = entries(hm, allowed: ["source", "destination", "domain"], in: "hosts")
                let s = string(he, "source"), d = string(he, "destination"), dom = string(he, "domain")
                if s == nil && he["source"] == nil { problem(v, "hosts: missing 'source' (a libvirt URI)") }
                if d == nil && he["destination"] == nil { problem(v, "hosts: missing 'destination' (a libvirt URI)") }
                if dom == nil && he["domain"] == nil { problem(v, "hosts: missing 'domain' (the running domain to migrate)") }
                if let s, let d, HostURI.sameHost(s, d) { problem(he["destination"]?.value, "hosts: destination '\(d)' is the source itself") }
                for (key, uri) in [("source", s), ("destination", d)] {
                    if let uri, let why = LibvirtURIPolicy.problem(uri, allowExternal: allowExternalTransport) { problem(he[key]?.value, "hosts: \(key): \(why)") }
                }
                if let s, let d, let dom { hosts = .uris(source: s, destination: d, domain: dom) }
                for key in ["source", "destination", "domain"] {
                    if let m = he[key]?.value.mark { locations[key] = PlanLocation(line: m.line, column: m.column) }
                }
                if top["guest"] != nil { problem(top["guest"]?.key, "'guest' applies to the embedded lab only (hosts: lab)") }
            } else {
                problem(v, "'hosts' must be 'lab' or a mapping with source, destination and domain")
            }
        }

        var workload = Workload()
        var readByRate: [LinkRate: Int] = [:]
        if let w = top["workload"] {
            if let wm = w.value.mapping {
                let we = entries(wm, allowed: ["mode", "block_size_kib", "read_mib"], in: "workload")
                if let m = string(we, "mode") {
                    if let mode = Workload.ReadMode(rawValue: m) { workload.mode = mode } else { problem(we["mode"]?.value, "workload mode must be buffered or direct, got '\(m)'") }
                }
                if let bs = int(we, "block_size_kib", range: 4...65536, unit: "KiB") {
                    if bs & (bs - 1) == 0 { workload.blockSizeKiB = bs } else { problem(we["block_size_kib"]?.value, "block_size_kib must be a power of two, got \(bs)") }
                }
                if let byRate = we["read_mib"]?.value.mapping {
                    // Sized per link rate: {100mbit: 320, 10mbit: 64}.
                    for (k, v) in byRate {
                        guard let text = k.scalar?.string, let rate = LinkRate(text) else {
                            problem(k, "read_mib: '\(k.scalar?.string ?? "?")' is not a link rate (e.g. 100mbit)"); continue
                        }
                        guard let s = v.scalar?.string, let n = Int(s), (1...10_000_000).contains(n) else {
                            problem(v, "read_mib for \(rate) must be a whole number of MiB from 1 to 10000000, got '\(v.scalar?.string ?? "?")'"); continue
                        }
                        readByRate[rate] = n
                    }
                    workload.amountMiB = readByRate.values.max() ?? 0
                } else {
                    workload.amountMiB = int(we, "read_mib", range: 0...10_000_000, unit: "MiB (0 reads forever)") ?? workload.amountMiB
                }
            } else { problem(w.value, "'workload' must be a mapping (mode, block_size_kib, read_mib)") }
        }

        var matrix: Plan.Matrix? = nil
        if let m = top["matrix"] {
            if let mm = m.value.mapping {
                let me = entries(mm, allowed: ["mode", "link_rate", "bandwidth", "link", "max_downtime_ms", "bandwidth_cap_mibps", "timeout_s", "pause_after_rounds"], in: "matrix")
                let modes = list(me, "mode") { r, n -> MigrationRequest.Mode? in
                    if let s = n.scalar?.string, let x = MigrationRequest.Mode(rawValue: s) { return x }
                    r.problem(n, "mode must be live or non-live, got '\(n.scalar?.string ?? "?")'"); return nil
                }
                if let old = me["bandwidth"] {
                    problem(old.key, "matrix: 'bandwidth' is now 'link_rate' (the links' rate; bandwidth_cap_mibps caps the migration stream); rename the key")
                }
                let rates = list(me, "link_rate") { r, n -> LinkRate? in
                    guard let s = n.scalar?.string, let rate = LinkRate(s) else {
                        r.problem(n, "link_rate must be a rate like 100mbit or 10mbit, or none, got '\(n.scalar?.string ?? "?")'"); return nil
                    }
                    if let b = rate.bitsPerSecond, !LabSettings.linkRateRange.contains(b) {
                        r.problem(n, "link_rate \(rate) cannot be shaped by the lab reliably; use 100kbit to 10gbit"); return nil
                    }
                    return rate
                }
                let links = list(me, "link") { r, n -> LinkModel? in
                    if let s = n.scalar?.string, let x = LinkModel(rawValue: s) { return x }
                    r.problem(n, "link must be shared or full-duplex, got '\(n.scalar?.string ?? "?")'"); return nil
                }
                let optionalInRange: (String, String, ClosedRange<UInt64>) -> (inout Reader, Node) -> UInt64?? = { key, unit, range in
                    { r, n in
                        guard let s = n.scalar?.string else { r.problem(n, "\(key) values are numbers or none"); return nil }
                        if s == "none" { return .some(nil) }
                        guard let v = UInt64(s), range.contains(v) else { r.problem(n, "\(key) must be a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound) or none, got '\(s)'"); return nil }
                        return .some(v)
                    }
                }
                let downtimes = list(me, "max_downtime_ms", optionalInRange("max_downtime_ms", "milliseconds", RequestLimits.maxDowntimeMs))
                let caps = list(me, "bandwidth_cap_mibps", optionalInRange("bandwidth_cap_mibps", "MiB/s", RequestLimits.streamCapMiBps))
                let timeouts = list(me, "timeout_s") { r, n -> Double?? in
                    guard let s = n.scalar?.string else { r.problem(n, "timeout_s values are numbers or none"); return nil }
                    if s == "none" { return .some(nil) }
                    guard let v = Double(s), RequestLimits.seconds.contains(v) else { r.problem(n, "timeout_s must be a positive number of seconds up to \(Int(RequestLimits.seconds.upperBound)) or none, got '\(s)'"); return nil }
                    return .some(v)
                }
                let roundLimits = list(me, "pause_after_rounds") { r, n -> Int?? in
                    guard let s = n.scalar?.string else { r.problem(n, "pause_after_rounds values are numbers or none"); return nil }
                    if s == "none" { return .some(nil) }
                    guard let v = Int(s), RequestLimits.rounds.contains(v) else { r.problem(n, "pause_after_rounds must be a whole number of rounds from 1 to 1000 or none, got '\(s)'"); return nil }
                    return .some(v)
                }
                if me["mode"] == nil { problem(m.key, "matrix: missing 'mode' (live, non-live)") }
                if me["link_rate"] == nil && me["bandwidth"] == nil { problem(m.key, "matrix: missing 'link_rate' (e.g. [100mbit, 10mbit])") }
                if let modes, let rates {
                    matrix = Plan.Matrix(
                        modes: modes, bandwidths: rates, links: links ?? [.shared], maxDowntimeMs: downtimes ?? [nil],
                        bandwidthCapMiBps: caps ?? [nil], timeoutSeconds: timeouts ?? [nil], pauseAfterRounds: roundLimits ?? [nil])
                }
            } else { problem(m.value, "'matrix' must be a mapping of knobs to lists of values") }
        } else {
            problem(map.first?.key, "missing 'matrix': the knobs to vary (mode, link_rate, link, ...)")
        }
        if let hosts, hosts != .lab(guestMemoryMiB: guestMemory, diskSizeMiB: disk, accelerator: accel), let matrix,
           matrix.bandwidths.contains(where: { $0.bitsPerSecond != nil }) || matrix.links.count > 1 {
            problem(top["matrix"]?.key, "matrix: link_rate and link are shaped only in the embedded lab; with real hosts use link_rate: [none] (or bandwidth_cap_mibps to cap the migration)")
        }
        if case .fromThisHost(let backend, _, _)? = hosts, let matrix {
            // What the backend cannot do (its own declaration), said before anything runs.
            let capabilities = BackendChoice(rawValue: backend)?.capabilities ?? LibxlBackend.capabilities
            for f in matrix.features where !capabilities.supports(f) {
                problem(top["matrix"]?.key, "matrix: \(f.planKey): \(capabilities.unsupported[f] ?? "")")
            }
        }

        let repetitions = int(top, "repetitions", range: 1...1000, unit: "repetitions") ?? (top["repetitions"] == nil ? 1 : nil)
        let baseline = number(top, "baseline_s", range: 0...86_400, unit: "seconds") ?? 15
        let tail = number(top, "tail_s", range: 0...86_400, unit: "seconds") ?? 15
        let untilDone = bool(top, "tail_until_workload_done") ?? false
        let maxTail = number(top, "max_tail_s", range: 1...604_800, unit: "seconds") ?? 3600
        let p2p = bool(top, "p2p") ?? true
        let persistent = bool(top, "persistent") ?? false
        let undefineSource = bool(top, "undefine_source") ?? false
        if case .fromThisHost(let backend, _, _)? = hosts, persistent || undefineSource,
           let why = (BackendChoice(rawValue: backend)?.capabilities ?? LibxlBackend.capabilities).unsupported[.definitions] {
            problem(top["persistent"]?.key ?? top["undefine_source"]?.key, "\(MigrationFeature.definitions.planKey): \(why)")
        }
        let poll = int(top, "poll_interval_ms", range: 20...10_000, unit: "milliseconds") ?? 100
        var reset = Plan.Reset()
        if let r = top["reset"] {
            if let rm = r.value.mapping {
                let re = entries(rm, allowed: ["restart_guest", "drop_caches", "reshape"], in: "reset")
                reset.restartGuest = bool(re, "restart_guest") ?? true
                reset.dropCaches = bool(re, "drop_caches") ?? true
                reset.reshape = bool(re, "reshape") ?? true
            } else { problem(r.value, "'reset' must be a mapping (restart_guest, drop_caches, reshape)") }
        }
        if let matrix, !readByRate.isEmpty {
            let missing = matrix.bandwidths.filter { readByRate[$0] == nil }
            if !missing.isEmpty {
                problem(top["workload"]?.key, "workload read_mib names no amount for \(missing.map(\.description).joined(separator: ", ")); give one for every link_rate in the matrix")
            }
        }
        if untilDone && workload.amountMiB == 0 {
            problem(top["tail_until_workload_done"]?.value, "tail_until_workload_done needs a workload that ends: set workload read_mib")
        }
        guard let hosts, let matrix, let repetitions, problems.isEmpty else { return nil }
        var plan = Plan(name: name, hosts: hosts, workload: workload, matrix: matrix, repetitions: repetitions, baselineSeconds: baseline,
                        tailSeconds: tail, untilWorkloadDone: untilDone, maxTailSeconds: maxTail, peerToPeer: p2p, pollIntervalMs: poll, reset: reset)
        plan.locations = locations
        plan.readMiBByLinkRate = readByRate
        plan.persistent = persistent
        plan.undefineSource = undefineSource
        return plan
    }
}
