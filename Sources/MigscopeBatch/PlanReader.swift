import Foundation
import MigscopeCore
import MigscopeExperiment
import MigscopeLab
import MigscopeLibvirt
import MigscopeLibxl
import Yams

/// Walks the YAML tree, collecting problems instead of stopping at the first.
struct Reader {
    typealias Entries = [String: (key: Node, value: Node)]
    var problems: [PlanProblem] = []
    var allowExternalTransport = false
    var locations: [String: PlanLocation] = [:]
    /// The matrix's `exclude:`, applied when the drain's axes have been added.
    var exclude: (key: Node, value: Node)?

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

    // MARK: the plan, section by section

    mutating func plan(_ map: Node.Mapping, fileName: String) -> Plan? {
        let top = entries(map, allowed: ["name", "hosts", "guest", "workload", "matrix", "repetitions", "baseline_s", "tail_s",
                                         "tail_until_workload_done", "max_tail_s", "p2p", "persistent", "undefine_source", "poll_interval_ms", "reset", "stall", "predict", "drain"], in: "the plan")
        let name = string(top, "name") ?? (fileName as NSString).deletingPathExtension
        let guest = self.guest(top)
        let hosts = self.hosts(top, first: map.first?.key, lab: .lab(guestMemoryMiB: guest.memoryMiB, diskSizeMiB: guest.diskMiB, accelerator: guest.accelerator))
        let (workload, readByRate) = self.workload(top)
        var matrix = self.matrix(top, first: map.first?.key)
        if let hosts, let matrix { check(matrix, on: hosts, top: top) }

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
        let reset = self.reset(top)
        let stall = self.stall(top)
        if let matrix, !readByRate.isEmpty {
            let missing = matrix.bandwidths.filter { readByRate[$0] == nil }
            if !missing.isEmpty {
                problem(top["workload"]?.key, "workload read_mib names no amount for \(missing.map(\.description).joined(separator: ", ")); give one for every link_rate in the matrix")
            }
        }
        if untilDone && workload.amountMiB == 0 {
            problem(top["tail_until_workload_done"]?.value, "tail_until_workload_done needs a workload that ends: set workload read_mib")
        }
        if untilDone && (workload.mode == .idle || matrix?.readModes.contains(.idle) == true) {
            problem(top["tail_until_workload_done"]?.value, "tail_until_workload_done cannot wait for an idle guest (it reads nothing): drop it or the idle reader")
        }
        checkWorkload(workload, top: top)
        if case .lab? = hosts { checkLab(guest: guest, workload: workload, matrix: matrix, top: top) }
        var drain: Plan.DrainSetup? = nil
        if var m = matrix, let hosts, let d = self.drain(top, hosts: hosts, matrix: &m) {
            drain = d
            matrix = m
        }
        if let ex = exclude, matrix != nil { exclusions(ex, into: &matrix!) }
        guard let hosts, let matrix, let repetitions, problems.isEmpty else { return nil }
        var plan = Plan(name: name, hosts: hosts, workload: workload, matrix: matrix, repetitions: repetitions, baselineSeconds: baseline,
                        tailSeconds: tail, untilWorkloadDone: untilDone, maxTailSeconds: maxTail, peerToPeer: p2p, pollIntervalMs: poll, reset: reset)
        plan.locations = locations
        plan.readMiBByLinkRate = readByRate
        plan.persistent = persistent
        plan.undefineSource = undefineSource
        plan.stall = stall
        plan.drain = drain
        if let p = predict(top) { (plan.predict, plan.predictSetupSeconds, plan.predictSwitchoverMs, plan.predictSwitchoverBytes) = p }
        return plan
    }

    struct Guest {
        var memoryMiB = 1024, diskMiB = 4096, accelerator = "auto"
        var nodes: Entries = [:]
    }

    /// The lab guest's settings (checked against the lab's own ranges in `checkLab`).
    mutating func guest(_ top: Entries) -> Guest {
        var g = Guest()
        guard let node = top["guest"] else { return g }
        guard let gm = node.value.mapping else { problem(node.value, "'guest' must be a mapping (memory_mib, disk_mib, accelerator)"); return g }
        g.nodes = entries(gm, allowed: ["memory_mib", "disk_mib", "accelerator"], in: "guest")
        g.memoryMiB = int(g.nodes, "memory_mib", range: Int.min...Int.max, unit: "MiB") ?? g.memoryMiB
        g.diskMiB = int(g.nodes, "disk_mib", range: Int.min...Int.max, unit: "MiB") ?? g.diskMiB
        if let a = string(g.nodes, "accelerator") {
            if AcceleratorChoice(rawValue: a) != nil { g.accelerator = a } else { problem(g.nodes["accelerator"]?.value, "'accelerator' must be auto, tcg or kvm, got '\(a)'") }
        }
        return g
    }

    /// The workload against the lab guest's rules (the guest that runs it), whatever the hosts.
    mutating func checkWorkload(_ workload: Workload, top: Entries) {
        for p in LabSettings(workload: workload).problems() where p.setting == .blockSize || p.setting == .readAmount {
            let key = p.setting == .blockSize ? "block_size_kib" : "read_mib"
            let node = top["workload"]?.value.mapping?.first { $0.key.scalar?.string == key }?.value
            problem(node ?? top["workload"]?.key, "\(key): \(p.message)")
        }
    }

    /// The lab's own check of what a plan asks of it, each problem at the key that set the value.
    mutating func checkLab(guest: Guest, workload: Workload, matrix: Plan.Matrix?, top: Entries) {
        let settings = LabSettings(guestMemoryMiB: guest.memoryMiB, workload: workload, diskSizeMiB: guest.diskMiB,
                                   accelerator: AcceleratorChoice(rawValue: guest.accelerator) ?? .auto)
        for p in settings.problems() {
            switch p.setting {
            case .guestMemory: problem(guest.nodes["memory_mib"]?.value, "memory_mib: \(p.message)")
            case .diskSize: problem(guest.nodes["disk_mib"]?.value, "disk_mib: \(p.message)")
            case .blockSize, .readAmount, .guestCPUs, .linkRate, .guests: continue  // the workload's and the matrix's, below and in checkWorkload; plans start one guest
            }
        }
        for rate in matrix?.bandwidths ?? [] {
            var s = settings
            s.bandwidth = rate
            for p in s.problems() where p.setting == .linkRate { problem(top["matrix"]?.key, "link_rate \(rate): \(p.message)") }
        }
    }

    /// What each kind of hosts mapping takes: its keys and what to say when one is missing.
    private static let hostKeys: [(backend: Bool, keys: [String], missing: [String: String])] = [
        (false, ["source", "destination", "domain"],
         ["source": "a libvirt URI", "destination": "a libvirt URI", "domain": "the running domain to migrate"]),
        (true, ["backend", "destination", "domain"],
         ["destination": "localhost, HOST:PORT of a 'migscope xen-receive', or ssh://HOST", "domain": "the running Xen domain to migrate"]),
    ]

    /// "lab", real hosts by libvirt URI, or a backend that migrates from this host.
    mutating func hosts(_ top: Entries, first: Node?, lab: Plan.Hosts) -> Plan.Hosts? {
        guard let (_, v) = top["hosts"] else {
            problem(first, "missing 'hosts': 'lab' for the embedded lab, or a mapping with source, destination and domain")
            return nil
        }
        if v.scalar?.string == "lab" { return lab }
        guard let hm = v.mapping else {
            problem(v, "'hosts' must be 'lab' or a mapping with source, destination and domain")
            return nil
        }
        if top["guest"] != nil { problem(top["guest"]?.key, "'guest' applies to the embedded lab only (hosts: lab)") }
        let named = hm.contains { $0.key.scalar?.string == "backend" }
        let form = Self.hostKeys.first { $0.backend == named }!
        if named, hm.contains(where: { $0.key.scalar?.string == "source" }) { problem(v, "hosts: libxl migrates from the dom0 migscope runs in; leave out 'source'") }
        let he = entries(hm, allowed: form.keys, in: "hosts")
        var value: [String: String] = [:]
        for key in form.keys {
            value[key] = string(he, key)
            if let m = he[key]?.value.mark, key != "backend" { locations[key] = PlanLocation(line: m.line, column: m.column) }
            if let what = form.missing[key], value[key] == nil, he[key] == nil, !(key == "domain" && top["drain"] != nil) { problem(v, "hosts: missing '\(key)' (\(what))") }
        }
        guard let d = value["destination"] else { return nil }
        if named {
            let backend = value["backend"].flatMap(BackendChoice.init(rawValue:))
            if let b = value["backend"], backend == nil {
                problem(he["backend"]?.value, "hosts: backend must be libvirt or libxl, got '\(b)'")
            } else if backend == .libvirt {
                problem(he["backend"]?.value, "hosts: backend libvirt is the default; leave it out and give source, destination and domain")
            }
            do { _ = try XenDestination(parsing: d) } catch { problem(he["destination"]?.value, "hosts: \(error.message)") }
            guard backend == .libxl, let dom = value["domain"] else { return nil }
            return .fromThisHost(backend: BackendChoice.libxl.rawValue, destination: d, domain: dom)
        }
        guard let s = value["source"] else { return nil }
        if HostURI.sameHost(s, d) { problem(he["destination"]?.value, "hosts: destination '\(d)' is the source itself") }
        for (key, uri) in [("source", s), ("destination", d)] {
            if let why = LibvirtURIPolicy.problem(uri, allowExternal: allowExternalTransport) { problem(he[key]?.value, "hosts: \(key): \(why)") }
        }
        // A drain names its domains itself; the hosts' domain is then the drain's first.
        guard let dom = value["domain"] ?? (top["drain"] != nil ? "" : nil) else { return nil }
        return .uris(source: s, destination: d, domain: dom)
    }


    /// What the guest reads: mode, block size, and an amount (one, or one per link rate).
    mutating func workload(_ top: Entries) -> (Workload, [LinkRate: Int]) {
        var workload = Workload()
        var readByRate: [LinkRate: Int] = [:]
        if let w = top["workload"] {
            if let wm = w.value.mapping {
                let we = entries(wm, allowed: ["mode", "block_size_kib", "read_mib"], in: "workload")
                if let m = string(we, "mode") {
                    if let mode = Workload.ReadMode(rawValue: m) { workload.mode = mode } else { problem(we["mode"]?.value, "workload mode must be buffered, direct or idle, got '\(m)'") }
                }
                // Checked with the lab's own rule (checkWorkload).
                workload.blockSizeKiB = int(we, "block_size_kib", range: Int.min...Int.max, unit: "KiB") ?? workload.blockSizeKiB
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
                    workload.amountMiB = int(we, "read_mib", range: LabSettings.readAmountRange, unit: "MiB (0 reads forever)") ?? workload.amountMiB
                }
            } else { problem(w.value, "'workload' must be a mapping (mode, block_size_kib, read_mib)") }
        }

        return (workload, readByRate)
    }

    /// The knobs a plan varies; every combination is a cell.
    mutating func matrix(_ top: Entries, first: Node?) -> Plan.Matrix? {
        var matrix: Plan.Matrix? = nil
        if let m = top["matrix"] {
            if let mm = m.value.mapping {
                let me = entries(mm, allowed: ["mode", "link_rate", "bandwidth", "link", "max_downtime_ms", "bandwidth_cap_mibps", "timeout_s", "pause_after_rounds",
                                                 "mitigation", "read_mode", "block_size_kib", "exclude"], in: "matrix")
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
                var readersOf: [Mitigation: [Workload.ReadMode]] = [:]
                let mitigations = list(me, "mitigation") { r, n -> Mitigation?? in
                    // An item is a mitigation's words, or {use: WORDS, read_mode: [..]} to run it with some readers only.
                    var words = n.scalar?.string
                    var only: [Workload.ReadMode]? = nil
                    if let map = n.mapping {
                        let e = r.entries(map, allowed: ["use", "read_mode"], in: "a mitigation item")
                        words = r.string(e, "use")
                        only = r.list(e, "read_mode") { r, n -> Workload.ReadMode? in
                            if let s = n.scalar?.string, let x = Workload.ReadMode(rawValue: s) { return x }
                            r.problem(n, "read_mode must be buffered, direct or idle, got '\(n.scalar?.string ?? "?")'"); return nil
                        }
                        if words == nil { r.problem(n, "a mitigation item needs 'use:' (e.g. use: stop:xen)"); return nil }
                    }
                    guard let s = words else { r.problem(n, "mitigation values are words like none, cap:50% or io-floor:50"); return nil }
                    do throws(TuningSyntaxError) {
                        let m = try Mitigation(parsing: s)
                        if let only { readersOf[m] = only }
                        return .some(m == .none ? nil : m)
                    } catch { r.problem(n, "mitigation: \(error.message)"); return nil }
                }
                let readModes = list(me, "read_mode") { r, n -> Workload.ReadMode?? in
                    if let s = n.scalar?.string, let x = Workload.ReadMode(rawValue: s) { return .some(x) }
                    r.problem(n, "read_mode must be buffered, direct or idle, got '\(n.scalar?.string ?? "?")'"); return nil
                }
                let blockSizes = list(me, "block_size_kib") { r, n -> Int?? in
                    let range = LabSettings.blockSizeRange
                    if let s = n.scalar?.string, let v = Int(s), range.contains(v), v & (v - 1) == 0 { return .some(v) }
                    r.problem(n, "block_size_kib must be a power of two of KiB from \(range.lowerBound) to \(range.upperBound), got '\(n.scalar?.string ?? "?")'"); return nil
                }
                if me["mode"] == nil { problem(m.key, "matrix: missing 'mode' (live, non-live)") }
                if me["link_rate"] == nil && me["bandwidth"] == nil { problem(m.key, "matrix: missing 'link_rate' (e.g. [100mbit, 10mbit])") }
                if let modes, let rates {
                    matrix = Plan.Matrix(
                        modes: modes, bandwidths: rates, links: links ?? [.shared], maxDowntimeMs: downtimes ?? [nil],
                        bandwidthCapMiBps: caps ?? [nil], timeoutSeconds: timeouts ?? [nil], pauseAfterRounds: roundLimits ?? [nil])
                    matrix?.mitigations = mitigations ?? [nil]
                    matrix?.readModes = readModes ?? [nil]
                    matrix?.blockSizesKiB = blockSizes ?? [nil]
                    matrix?.mitigationReaders = readersOf
                    // Checked once every axis is known (a drain's come later): see plan(_:fileName:).
                    exclude = me["exclude"]
                }
            } else { problem(m.value, "'matrix' must be a mapping of knobs to lists of values") }
        } else {
            problem(first, "missing 'matrix': the knobs to vary (mode, link_rate, link, ...)")
        }
        return matrix
    }

    /// `exclude: [{mode: non-live, link_rate: 10mbit}, ...]`: combinations of the matrix left out.
    /// Each entry names matrix keys and values; one that leaves out nothing is a mistake.
    mutating func exclusions(_ e: (key: Node, value: Node), into matrix: inout Plan.Matrix) {
        guard let items = e.value.sequence else { problem(e.value, "exclude must be a list of mappings, e.g. [{mode: non-live, link_rate: 10mbit}]"); return }
        for item in items {
            guard let map = item.mapping, !map.isEmpty else { problem(item, "each exclude entry is a mapping of matrix keys to values, e.g. {mode: non-live, link_rate: 10mbit}"); continue }
            var entry: [String: String] = [:]
            for (k, v) in map {
                guard let key = k.scalar?.string, PlanCell.excludableKeys.contains(key) else {
                    problem(k, "exclude can name \(PlanCell.excludableKeys.joined(separator: ", ")), not '\(k.scalar?.string ?? "?")'"); continue
                }
                guard let raw = v.scalar?.string else { problem(v, "exclude: \(key) takes one value"); continue }
                // Rates are compared as the cells write them (10Mbit and 10mbit are one rate).
                entry[key] = key == "link_rate" ? (LinkRate(raw)?.description ?? raw) : raw
            }
            let before = matrix.exclusions
            matrix.exclusions.append(entry)
            var all = matrix
            all.exclusions = before
            if !all.cells.contains(where: { c in entry.allSatisfy { c.value(ofPlanKey: $0.key) == $0.value } }) {
                problem(item, "this exclude entry leaves out no cell of the matrix: check its values against the matrix's")
            }
        }
        if matrix.cells.isEmpty {
            problem(e.key, "exclude leaves out every cell of the matrix")
        }
    }

    /// What the hosts cannot do with this matrix: shaping outside the lab, and the features the
    /// backend declares it lacks.
    mutating func check(_ matrix: Plan.Matrix, on hosts: Plan.Hosts, top: Entries) {
        if case .lab = hosts { return }
        if matrix.mitigations.contains(where: { $0?.storagePriority == true }) {
            problem(top["matrix"]?.key, "matrix: mitigation storage-priority shapes the embedded lab's links only; on real hosts apply the README's tc recipe to the NIC and leave it out")
        }
        if matrix.readModes.contains(where: { $0 != nil }) || matrix.blockSizesKiB.contains(where: { $0 != nil }) {
            problem(top["matrix"]?.key, "matrix: read_mode and block_size_kib set the lab guest's reader; a real domain runs its own workload, so leave them out")
        }
        if matrix.bandwidths.contains(where: { $0.bitsPerSecond != nil }) || matrix.links.count > 1 {
            problem(top["matrix"]?.key, "matrix: link_rate and link are shaped only in the embedded lab; with real hosts use link_rate: [none] (or bandwidth_cap_mibps to cap the migration)")
        }
        if case .fromThisHost(let backend, _, _) = hosts {
            let capabilities = BackendChoice(rawValue: backend)?.capabilities ?? LibxlBackend.capabilities
            for f in matrix.features where !capabilities.supports(f) {
                problem(top["matrix"]?.key, "matrix: \(f.planKey): \(capabilities.unsupported[f] ?? "")")
            }
        }
    }

    /// `predict: true`, or the hosts' fixed costs that say so as well:
    /// `predict: {setup_s: 2.3, switchover_ms: 240, switchover_mib: 1.3}`.
    mutating func predict(_ top: Entries) -> (Bool, Double, Double, Double)? {
        guard let p = top["predict"] else { return nil }
        guard let pm = p.value.mapping else { return bool(top, "predict").map { ($0, 0, 0, 0) } }
        let pe = entries(pm, allowed: ["setup_s", "switchover_ms", "switchover_mib"], in: "predict")
        let setup = number(pe, "setup_s", range: 0...600, unit: "seconds") ?? 0
        let switchover = number(pe, "switchover_ms", range: 0...600_000, unit: "milliseconds") ?? 0
        let mib = number(pe, "switchover_mib", range: 0...1_048_576, unit: "MiB") ?? 0
        return (true, setup, switchover, mib * 1_048_576)
    }

    /// Stall detection for every run: `stall: {progress_timeout_s: 60, completion_timeout_per_gib_s: 800, action: abort}`.
    mutating func stall(_ top: Entries) -> StallLimits? {
        guard let s = top["stall"] else { return nil }
        guard let sm = s.value.mapping else { problem(s.value, "'stall' must be a mapping (progress_timeout_s, completion_timeout_per_gib_s, action)"); return nil }
        let se = entries(sm, allowed: ["progress_timeout_s", "completion_timeout_per_gib_s", "action"], in: "stall")
        let progress = number(se, "progress_timeout_s", range: StallLimits.range, unit: "seconds")
        let completion = number(se, "completion_timeout_per_gib_s", range: StallLimits.range, unit: "seconds")
        var action = StallLimits.Action.abort
        if let a = string(se, "action") {
            if let parsed = StallLimits.Action(rawValue: a) { action = parsed } else { problem(se["action"]?.value, "stall action must be abort or pause, got '\(a)'") }
        }
        if se["progress_timeout_s"] == nil && se["completion_timeout_per_gib_s"] == nil {
            problem(s.key, "stall needs progress_timeout_s or completion_timeout_per_gib_s")
        }
        guard progress != nil || completion != nil else { return nil }
        return StallLimits(progressTimeoutSeconds: progress, completionSecondsPerGiB: completion, action: action)
    }

    /// `drain: {domains: 4 | [a, b], workloads: [buffered, direct, ...], concurrency: [1, 2], order: [as-listed, ...]}`:
    /// every cell drains the domains; concurrency and order are matrix axes.
    mutating func drain(_ top: Entries, hosts: Plan.Hosts, matrix: inout Plan.Matrix) -> Plan.DrainSetup? {
        guard let d = top["drain"] else { return nil }
        guard let dm = d.value.mapping else { problem(d.value, "'drain' must be a mapping (domains, workloads, concurrency, order)"); return nil }
        let de = entries(dm, allowed: ["domains", "workloads", "concurrency", "order"], in: "drain")
        var domains: [String]? = nil
        switch hosts {
        case .fromThisHost:
            problem(d.key, "drain: a drain runs through libvirt; a libxl plan migrates one domain (leave out 'drain' or use libvirt hosts)")
            return nil
        case .lab:
            if let n = de["domains"]?.value.scalar.flatMap({ Int($0.string) }) {
                if (2...LabGuestSlot.maximum).contains(n) { domains = LabGuestSlot.upTo(n).map(\.name) } else {
                    problem(de["domains"]?.value, "drain: domains must be 2 to \(LabGuestSlot.maximum) lab guests, got \(n)")
                }
            } else {
                domains = list(de, "domains") { r, n -> String? in
                    if let s = n.scalar?.string, LabGuestSlot(name: s) != nil { return s }
                    r.problem(n, "drain: domains in the lab are a number of guests (e.g. 4) or their names (migscope-guest, migscope-guest-2, ...), got '\(n.scalar?.string ?? "a list or mapping")'"); return nil
                }
            }
        case .uris:
            domains = list(de, "domains") { r, n -> String? in
                if let s = n.scalar?.string, !s.isEmpty, s.count <= 256, !s.contains(where: { $0.isNewline || $0 == "," }) { return s }
                r.problem(n, "drain: each domain is a name or UUID, got '\(n.scalar?.string ?? "a list or mapping")'"); return nil
            }
            if top["hosts"]?.value.mapping?.contains(where: { $0.key.scalar?.string == "domain" }) == true {
                problem(de["domains"]?.key ?? d.key, "drain: hosts names a domain and drain names the domains; give them in drain only")
            }
        }
        if de["domains"] == nil { problem(d.key, "drain: missing 'domains' (the lab: a number of guests; real hosts: their names)") }
        if let names = domains {
            if Set(names).count != names.count { problem(de["domains"]?.value, "drain: domains names one twice; give each once") }
            if names.count < 2 { problem(de["domains"]?.value, "drain: a drain moves at least 2 domains; for one, leave out 'drain'") }
        }
        var readModes: [Workload.ReadMode]? = nil
        if let w = de["workloads"] {
            if case .lab = hosts {} else { problem(w.key, "drain: workloads set the lab guests' readers; a real domain runs its own workload, so leave it out") }
            readModes = list(de, "workloads") { r, n -> Workload.ReadMode? in
                if let s = n.scalar?.string, let x = Workload.ReadMode(rawValue: s) { return x }
                r.problem(n, "drain: workloads are buffered, direct or idle, got '\(n.scalar?.string ?? "?")'"); return nil
            }
            if let modes = readModes, let names = domains, modes.count != names.count {
                problem(w.value, "drain: workloads gives \(modes.count) reader(s) for \(names.count) domains; give one per domain")
            }
            if matrix.readModes.contains(where: { $0 != nil }) { problem(w.key, "drain: workloads and the matrix's read_mode both set the readers; give one") }
        }
        let concurrency = list(de, "concurrency") { r, n -> Int? in
            if let s = n.scalar?.string, let k = Int(s), (1...16).contains(k) { return k }
            r.problem(n, "drain: concurrency must be a whole number of migrations at once from 1 to 16, got '\(n.scalar?.string ?? "?")'"); return nil
        }
        let orders = list(de, "order") { r, n -> DrainOrder? in
            if let s = n.scalar?.string, let o = DrainOrder(rawValue: s) { return o }
            r.problem(n, "drain: order must be \(DrainOrder.allCases.map(\.rawValue).joined(separator: ", ")), got '\(n.scalar?.string ?? "?")'"); return nil
        }
        if let names = domains, let k = concurrency?.max(), k > names.count {
            problem(de["concurrency"]?.value, "drain: concurrency \(k) is more than the \(names.count) domains; at most \(names.count) can move at once")
        }
        guard let names = domains else { return nil }
        matrix.drainConcurrency = concurrency ?? [1]
        matrix.drainOrders = orders ?? [.asListed]
        return Plan.DrainSetup(domains: names, readModes: readModes)
    }

    /// What is reset between runs.
    mutating func reset(_ top: Entries) -> Plan.Reset {
        var reset = Plan.Reset()
        if let r = top["reset"] {
            if let rm = r.value.mapping {
                let re = entries(rm, allowed: ["restart_guest", "drop_caches", "reshape"], in: "reset")
                reset.restartGuest = bool(re, "restart_guest") ?? true
                reset.dropCaches = bool(re, "drop_caches") ?? true
                reset.reshape = bool(re, "reshape") ?? true
            } else { problem(r.value, "'reset' must be a mapping (restart_guest, drop_caches, reshape)") }
        }
        return reset
    }
}
