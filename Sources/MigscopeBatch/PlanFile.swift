import Foundation
import MigscopeCore
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
