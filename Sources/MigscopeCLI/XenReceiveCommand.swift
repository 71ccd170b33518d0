import ArgumentParser
import Foundation
import Libxl
import MigscopeCore
import MigscopeLibxl

/// `migscope xen-receive`: the destination half of a libxl migration, in a Xen host's dom0.
struct XenReceiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xen-receive",
        abstract: "Receive Xen domains migrated with 'migscope migrate --backend libxl' (run in the destination's dom0).",
        discussion: """
            With --listen, waits for senders on a TCP address ('migscope migrate DOM --backend libxl --to HOST:PORT'). \
            With --stdio, takes one migration on standard input and output, as 'migrate --to localhost' and \
            '--to ssh://HOST' start it.
            """)

    @Option(help: ArgumentHelp("Address and port to wait on, e.g. 0.0.0.0:\(XenDestination.defaultPort).", valueName: "addr:port"))
    var listen: String?

    @Flag(help: "Take one migration on stdin/stdout.")
    var stdio = false

    @Flag(help: "With --listen: exit after one migration.")
    var once = false

    func validate() throws {
        if (listen == nil) == !stdio { throw ValidationError("give either --listen ADDR:PORT or --stdio") }
        if once && stdio { throw ValidationError("--once goes with --listen (--stdio always takes one migration)") }
    }

    func run() throws {
        let context: Context
        do { context = try Context() } catch { throw CLIFailure("\(error)") }
        let toolstack = LibxlToolstack(context: context)
        if stdio {
            try receive(toolstack, XenWire(readFD: 0, writeFD: 1), from: "the sender")
            return
        }
        let listener: XenListener
        do { listener = try XenListener(address: listen ?? "") } catch { throw CLIFailure("\(error)") }
        printNote("xen-receive: waiting for migrations on \(listener.address)")
        while true {
            let (connection, peer) = try listener.accept()
            do { try receive(toolstack, connection.wire, from: peer) } catch { printError("\(error)") }
            _ = connection.close()
            if once { return }
        }
    }

    private func receive(_ toolstack: LibxlToolstack, _ wire: XenWire, from peer: String) throws {
        let receiver = XenMigrationEnd(toolstack: toolstack, wire: wire) { step in
            switch step {
            case .restored(let id): printNote("xen-receive: restored domain id \(id) from \(peer), paused")
            case .running(let id): printNote("xen-receive: domain id \(id) runs")
            default: break
            }
        }
        do {
            let (name, id) = try receiver.receive()
            printNote("xen-receive: '\(name)' (id \(id)) migrated in from \(peer) and runs here")
        } catch let e as MigrationError {
            throw CLIFailure("xen-receive: \(e.message)")
        }
    }
}
