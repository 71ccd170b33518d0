import ArgumentParser
import Foundation
import MigscopeBatch
import MigscopeCore

/// `migscope reproduce`: the paper in one command.
struct ReproduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Reproduce the paper in the embedded lab: live and non-live, 100 and 10 Mbit/s, with its figures and a table of its numbers next to ours.",
        discussion: "Resumable: run it again to continue where it stopped. --quick runs a small version in a few minutes.")
    @Flag(help: "The faithful miniature (96 MiB guest, reads sized per link rate): about 20 minutes, not hours.") var quick = false
    @Option(help: ArgumentHelp("shared (the paper's contention, default) or full-duplex.", valueName: "model")) var link: LinkModel = .shared
    @OptionGroup var database: DatabaseOption
    @Option(help: ArgumentHelp("Where the report goes (default: results/PLAN-report).", valueName: "dir")) var out: UserPath?
    @Flag(name: .customLong("force-mix"), help: "Continue with runs made under other settings of the plan (an older migscope's), mixing them.")
    var forceMix = false

    func run() async throws {
        var plan = try PlanFile.load(path: BuiltinPlans.path(quick ? "paper-quick" : "paper"))
        plan.matrix.links = [link]
        if link != .shared { plan.name += "-" + link.rawValue }
        try await BatchDriver.run(plan, store: try database.openForWriting(), resume: true, forceMix: forceMix, out: (out ?? BatchDriver.defaultReport(plan)).path, paper: true)
    }
}
