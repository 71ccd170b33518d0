import ArgumentParser
import Foundation
import MigscopeBatch
import MigscopeCore
import MigscopeLab
import MigscopeLibvirt
import MigscopeReport
import MigscopeStore

/// `migscope batch PLAN.yaml`: every run of a plan, recorded, resumable.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run a YAML plan (mode x bandwidth x link x options x repetitions), recording every run; resumable.")
    @Argument(help: "The plan file.", completion: .file(extensions: ["yaml", "yml"])) var plan: UserPath
    @OptionGroup var database: DatabaseOption
    @Flag(help: "Skip the runs already complete in the database.") var resume = false
    @Flag(name: .customLong("force-mix"), help: "Resume a plan whose settings changed since its runs were made, mixing old and new runs.")
    var forceMix = false
    @Flag(name: .customLong("allow-ext-transport"), help: "Accept host URIs that make libvirt run a program (qemu+ext, command=, netcat=) or use a socket outside libvirt's folders.")
    var allowExternalTransport = false
    @Option(help: ArgumentHelp("Where the plan's report goes (default: results/PLAN-report).", valueName: "dir")) var out: UserPath?
    @OptionGroup var failures: BatchFailureOptions
    @OptionGroup(title: "Live metrics") var metrics: MetricsOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @Flag(help: "Print the result (runs, cells' statistics, tables, report) as JSON on stdout.") var json = false

    func run() async throws {
        // Checked before anything starts; every problem is reported at once (exit status 2).
        let p: Plan
        do {
            p = try PlanFile.load(path: plan.path, allowExternalTransport: allowExternalTransport)
            try await PlanFile.checkHosts(p, file: plan.path, reach: { uri -> String? in
                do { _ = try await LibvirtInventory.domains(on: uri, timeout: 10); return nil } catch { return "\(error)" }
            }, findDomain: { domain, uri in
                (try? await LibvirtInventory.domain(domain, on: uri, timeout: 10))?.state == "running"
            })
        }
        try await BatchDriver.run(p, store: try database.openForWriting(), resume: resume, forceMix: forceMix, out: (out ?? BatchDriver.defaultReport(p)).path, paper: false,
                                  policy: failures.policy, metrics: metrics, json: json, output: output.resolved)
    }
}

/// What a failed run does to a batch (`batch`, `reproduce`).
struct BatchFailureOptions: ParsableArguments {
    @Flag(name: .customLong("keep-going"), help: "Record a failed run with its reason and go on with the next (exit status 1 at the end); without it the first failure stops the batch.")
    var keepGoing = false
    @Option(help: ArgumentHelp("Try a run that failed before its migration started (a host not answering) this many more times, 10 s apart.", valueName: "N"),
            transform: ArgumentValue.count("--retries", unit: "tries", in: BatchRunner.FailurePolicy.retriesRange))
    var retries: Int = 0

    var policy: BatchRunner.FailurePolicy { .init(keepGoing: keepGoing, retries: retries) }
}

enum BatchDriver {
    /// Where a plan's report goes unless `--out` says otherwise.
    static func defaultReport(_ plan: Plan) -> UserPath { UserPath(BatchReport.defaultFolder(for: plan)) }

    static func run(_ plan: Plan, store: ResultsStore, resume: Bool, forceMix: Bool = false, out: String, paper: Bool,
                    policy: BatchRunner.FailurePolicy = .init(), metrics: MetricsOptions, json: Bool = false,
                    output: OutputOptions.Resolved = .init()) async throws {
        let signalled = OnceFlag()
        let printer = ProgressPrinter(domain: "guest", output: output)
        let exporter = try await metrics.start()
        let live = exporter?.metrics
        let runner = BatchRunner(plan: plan, store: store, observer: observers(printer, exporter)) { event in
            switch event {
            case .runStarting(let i, let n, let cell, let rep, let elapsed, let remaining):
                let eta = remaining.map { ", about \(Format.seconds($0)) left" } ?? ""
                printer.emit(["type": "run-starting", "index": i, "of": n, "cell": cell, "repetition": rep, "elapsed_s": elapsed.rounded(),
                              "seconds_left": remaining.map { $0.rounded() } ?? NSNull()])
                // A drain plan's step is a whole drain (a run per domain).
                let step = plan.drain.map { "drain \(i) of \(n) (a run for each of \($0.domains.count) domains)" } ?? "run \(i) of \(n)"
                printer.note("\(step): \(cell), repetition \(rep) (\(Format.seconds(elapsed)) elapsed\(eta))")
                live?.runStarting(plan: plan.name, cell: cell, index: i, of: n, secondsLeft: remaining)
            case .note(let text):
                printer.note(text)
            case .runCouldNotStart(let id, let reason):
                live?.runFinished(failed: true)
                printer.emit(["type": "run-could-not-start", "id": id, "reason": reason])
                printer.note("run \(id) failed before its migration started (\(reason)); going on (--keep-going)")
            case .runFinished(let id, let outcome, let s):
                live?.runFinished(failed: outcome != .completed)
                printer.emit(["type": "run-finished", "id": id, "status": outcome.rawValue, "migration_s": s.migrationSeconds ?? NSNull(),
                              "rounds": s.rounds, "io_during_ratio": s.ioDuringRatio ?? NSNull()])
                let ratio = s.ioDuringRatio.map { String(format: ", I/O during %.0f %% of before", $0 * 100) } ?? ""
                let read = s.workloadSeconds.map { ", read done in \(Format.seconds($0))" } ?? ""
                let window = s.workloadWindow.map { "; " + $0 } ?? ""
                printer.note("run \(id) \(outcome): migration \(s.migrationSeconds.map { Format.seconds($0) } ?? "-"), \(s.rounds) round\(s.rounds == 1 ? "" : "s")\(ratio)\(read)\(window)")
            }
        }
        runner.policy = policy
        let outcome = await Interrupts.cancellingOnCtrlC {
            do { return Result<BatchRunner.Outcome, Error>.success(try await runner.run(resume: resume, forceMix: forceMix)) } catch { return .failure(error) }
        } onFirst: {
            signalled.set()
            printer.note("interrupted: aborting the current migration; finished runs are kept ('--resume' continues)")
        }
        printer.finish()
        if case .success(let r) = outcome, !r.interrupted { live?.batchEnded() }
        await exporter?.stop()
        let result = try outcome.get()
        let stats = try runner.cellStats()
        var summary = BatchResult(plan: plan.name, ran: result.ran, failed: result.failed, skipped: result.skipped, interrupted: result.interrupted,
                                  guestLocation: result.guestLocation, cells: stats)
        var human: [String] = [TextTable.render(header: BatchReport.cellRows(stats)[0], rows: Array(BatchReport.cellRows(stats).dropFirst()))]
        if !stats.isEmpty {
            let drains = try runner.drainStats()
            let report = try BatchReport.write(plan: plan, store: store, stats: stats, drains: drains, to: out, paper: paper)
            summary.report = report.page
            summary.findings = report.findings.isEmpty ? nil : report.findings
            summary.efficiency = report.efficiency.isEmpty ? nil : report.efficiency
            if paper {
                human += ["", TextTable.render(header: report.findings[0], rows: Array(report.findings.dropFirst()))]
            }
            if let header = report.drains.first {
                summary.drains = drains
                human += ["", TextTable.render(header: header, rows: Array(report.drains.dropFirst()))]
            }
            if let header = report.efficiency.first {
                human += ["", TextTable.render(header: header, rows: Array(report.efficiency.dropFirst()))]
            }
            if Gnuplot.executable == nil { printer.note("figures \(Gnuplot.missing)") }
            human.append("report: \(report.page)")
        }
        try ResultOutput.print(summary, json: json, output: output) { human.joined(separator: "\n") }
        if result.interrupted {
            let why = "batch stopped after \(result.ran.count) run(s); the guest is \(result.guestLocation ?? "unknown"); '--resume' continues the plan"
            // Interrupted (Ctrl-C, SIGTERM, SIGHUP) exits 130, as an interrupted migrate does.
            throw signalled.isSet ? CLIFailure("interrupted: " + why, exitStatus: 130) : CLIFailure(why)
        }
        if !result.failed.isEmpty {
            let ids = result.failed.map { "\($0)" }.joined(separator: ", ")
            throw CLIFailure("batch finished with \(result.failed.count) of \(result.ran.count) run(s) failed and passed over (run\(result.failed.count == 1 ? "" : "s") \(ids); 'migscope runs' says why); the report covers the complete ones; '--resume' makes the failed ones again")
        }
    }
}

/// What a batch did, as `--json` prints it.
struct BatchResult: Encodable {
    var plan: String
    var ran: [Int64]
    var failed: [Int64]
    var skipped: Int
    var interrupted: Bool
    var guestLocation: String?
    var cells: [CellStats]
    /// The HTML report, when any run completed.
    var report: String?
    /// The paper's findings next to ours (reproduce), and each cell's efficiency, as the tables print them.
    var findings: [[String]]?
    var efficiency: [[String]]?
    /// A drain plan's cells: drain time, the guests' I/O, bytes sent.
    var drains: [DrainCellStats]?
}

/// Set once, from any thread.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
