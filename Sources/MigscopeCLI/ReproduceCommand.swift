import ArgumentParser
import Foundation
import MigscopeBatch
import MigscopeCore

/// `migscope reproduce`: the paper in one command.
struct ReproduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Reproduce the paper in the embedded lab: live and non-live, 100 and 10 Mbit/s, with its figures and a table of its numbers next to ours.",
        discussion: """
            Resumable: run it again to continue where it stopped. --quick runs a small version in a few minutes. \
            --mitigations answers the paper's second question instead: every known way to keep the guest's I/O up \
            (caps, storage priority, the I/O-floor pacer, auto-converge, post-copy, a Xen-like stop, downtime steps) \
            on the shared 100 Mbit/s link with a direct and a buffered reader, each run's efficiency against the \
            link's physical limit, and a trade-off figure.
            """)
    @Flag(help: "The faithful miniature (96 MiB guest, reads sized per link rate): about 17 minutes, not hours.") var quick = false
    @Flag(help: "The mitigations plan instead of the paper's (with --quick: its six-cell miniature, about 8 minutes).") var mitigations = false
    @Flag(name: .customLong("dirty-io"), help: "The paper's first question instead: how much of what pre-copy re-sends the guest's reads dirty (buffered vs direct reader, two block sizes, two link rates; 24 runs; with --quick 100 Mbit/s only, 4 runs, about 7 minutes).")
    var dirtyIO = false
    @Flag(help: "Operators' question instead: draining host A of four guests, 1, 2 or 4 migrations at once, in two orders, on the shared link (12 drains; with --quick 1 and 4 at once, as listed, 2 drains: about 6 minutes by the full plan's cells, not timed on its own). Needs a lab with four guests: it builds one if none is up.")
    var drain = false
    @Option(help: ArgumentHelp("shared (the paper's contention, the default) or full-duplex (the default of --dirty-io, whose reads and stream then do not compete).", valueName: "model")) var link: LinkModel?
    @OptionGroup var database: DatabaseOption
    @Option(help: ArgumentHelp("Where the report goes (default: results/PLAN-report).", valueName: "dir")) var out: UserPath?
    @Flag(name: .customLong("force-mix"), help: "Continue with runs made under other settings of the plan (an older migscope's), mixing them.")
    var forceMix = false
    @OptionGroup var failures: BatchFailureOptions
    @OptionGroup(title: "Live metrics") var metrics: MetricsOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @Flag(help: "Print the result (runs, cells' statistics, the paper's table, report) as JSON on stdout.") var json = false

    func validate() throws {
        if [mitigations, dirtyIO, drain].filter({ $0 }).count > 1 { throw ValidationError("--mitigations, --dirty-io and --drain are different plans; give one") }
    }

    func run() async throws {
        let name = (dirtyIO ? "dirty-io" : mitigations ? "mitigations" : drain ? "drain" : "paper") + (quick ? "-quick" : "")
        var plan = try PlanFile.load(path: BuiltinPlans.path(name))
        // A link other than the plan's own makes another plan (its runs are not mixed with the plan's).
        if let link, plan.matrix.links != [link] {
            plan.matrix.links = [link]
            plan.name += "-" + link.rawValue
        }
        try await BatchDriver.run(plan, store: try database.openForWriting(), resume: true, forceMix: forceMix, out: (out ?? BatchDriver.defaultReport(plan)).path,
                                  paper: !mitigations && !dirtyIO && !drain, policy: failures.policy, metrics: metrics,
                                  json: json, output: output.resolved)
    }
}
