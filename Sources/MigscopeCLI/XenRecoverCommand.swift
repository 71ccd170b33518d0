import ArgumentParser
import Foundation
import Libxl
import MigscopeCore
import MigscopeLibxl

/// `migscope xen-recover [DOMAIN]`: puts right what a migscope that died during a Xen migration
/// left behind, from its journal and the host's own state, deciding nothing it cannot know.
struct XenRecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xen-recover",
        abstract: "Bring back a Xen domain left renamed or suspended by a migscope that died mid-migration (run in the source's dom0).",
        discussion: """
            Before the go-ahead reached the destination, the source copy is resumed under its name. After it, \
            the destination may run the domain: migscope says what to check and resumes the source only with --resume.
            """)

    @Argument(help: "The domain; without it, every interrupted migration in the journal.")
    var domain: String?

    @Flag(help: "After the go-ahead: the destination was checked and does not run the domain; resume the source copy.")
    var resume = false

    func run() throws {
        let journal = XenJournal()
        let entries = domain.map { d in journal.entry(d).map { [$0] } ?? [] } ?? journal.entries()
        if entries.isEmpty {
            print(domain.map { "no interrupted migration of '\($0)' in \(journal.folder)" } ?? "no interrupted migrations in \(journal.folder)")
            return
        }
        let context: Context
        do { context = try Context() } catch { throw CLIFailure("\(error)") }
        let toolstack = LibxlToolstack(context: context)
        var unresolved = 0
        for e in entries {
            switch XenRecovery.resolve(e, toolstack: toolstack, resumeAfterGo: resume) {
            case .success(.resumed(let id)):
                journal.remove(e.domain)
                print("'\(e.domain)': resumed on this host (id \(id))")
            case .success(.runsHere(let id)):
                journal.remove(e.domain)
                print("'\(e.domain)': runs on this host (id \(id)); nothing to do")
            case .success(.gone):
                journal.remove(e.domain)
                print("'\(e.domain)': no copy is left on this host; the migration to \(e.destination) had finished, the domain runs there")
            case .success(.undecided(let why)):
                unresolved += 1
                print("'\(e.domain)': \(why)")
            case .success(.inProgress(let pid)):
                unresolved += 1
                print("'\(e.domain)': migscope (pid \(pid)) is still migrating it; nothing touched")
            case .failure(let error):
                unresolved += 1
                printError("'\(e.domain)': \(error.message)")
            }
        }
        if unresolved > 0 { throw ExitCode(1) }
    }
}
