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
            With --listen, waits for senders on a TCP address ('migscope migrate DOM --backend libxl --to HOST:PORT'); \
            both ends prove a shared key (--init-key makes one; copy it to the sender) before anything is read. \
            With --stdio, takes one migration on standard input and output, as 'migrate --to localhost' and \
            '--to ssh://HOST' start it.
            """)

    @Option(help: ArgumentHelp("This host's address and port to wait on, e.g. 198.18.0.2:\(XenDestination.defaultPort).", valueName: "addr:port"))
    var listen: String?

    @Flag(help: "Take one migration on stdin/stdout.")
    var stdio = false

    @Flag(help: "With --listen: exit after one migration.")
    var once = false

    @Option(help: ArgumentHelp("The key senders must prove (--listen).", valueName: "file"))
    var key: UserPath = UserPath(XenPeerKey.defaultPath)

    @Flag(name: .customLong("init-key"), help: "Make a new random key in the --key file (mode 0600) and exit.")
    var initKey = false

    func validate() throws {
        if initKey { return }
        if (listen == nil) == !stdio { throw ValidationError("give either --listen ADDR:PORT or --stdio") }
        if once && stdio { throw ValidationError("--once goes with --listen (--stdio always takes one migration)") }
        if let listen {
            // An explicit address: a receiver restores domains as root, and where it listens is a choice.
            guard let colon = listen.lastIndex(of: ":"), !listen[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).isEmpty else {
                throw ValidationError("--listen \(listen): give this host's address and a port, e.g. 198.18.0.2:\(XenDestination.defaultPort)")
            }
            do { _ = try XenPeerKey.load(from: key.path) } catch {
                throw ValidationError("--listen needs the migration key (--key \(key.path)): \(error.message)")
            }
        }
    }

    func run() throws {
        if initKey {
            do { try XenPeerKey.create(at: key.path) } catch { throw CLIFailure(error.message) }
            print("made \(key.path); copy it to each sender (same path, mode 0600, owned by root)")
            return
        }
        let context: Context
        do { context = try Context() } catch { throw CLIFailure("\(error)") }
        let toolstack = LibxlToolstack(context: context)
        ReceiverSignals.install(toolstack)
        if stdio {
            try receive(toolstack, XenWire(readFD: 0, writeFD: 1), key: nil, from: "the sender")
            return
        }
        let peerKey: XenPeerKey
        do { peerKey = try XenPeerKey.load(from: key.path) } catch { throw CLIFailure(error.message) }
        let listener: XenListener
        do { listener = try XenListener(address: listen ?? "") } catch { throw CLIFailure("\(error)") }
        printNote("xen-receive: waiting for migrations on \(listener.address)")
        while true {
            let connection: XenConnection, peer: String
            do { (connection, peer) = try listener.accept() } catch {
                // A failed accept (a peer gone before we took it, no descriptors left for a
                // moment) ends that connection only, never the listening.
                printError("\(error.message)")
                usleep(100_000)
                continue
            }
            do { try receive(toolstack, connection.wire, key: peerKey, from: peer) } catch { printError("\(error)") }
            _ = connection.close()
            if once { return }
        }
    }

    private func receive(_ toolstack: LibxlToolstack, _ wire: XenWire, key: XenPeerKey?, from peer: String) throws {
        let receiver = XenMigrationEnd(toolstack: toolstack, wire: wire, key: key, onStep: { step in
            switch step {
            case .receiving(let name):
                ReceiverSignals.incoming(name: name + XenMigrationProtocol.incomingSuffix)
            case .restored(let id):
                ReceiverSignals.incoming(id)
                printNote("xen-receive: restored domain id \(id) from \(peer), paused")
            case .running(let id):
                ReceiverSignals.incoming(nil)
                printNote("xen-receive: domain id \(id) runs")
            default: break
            }
        })
        defer { ReceiverSignals.incoming(nil) }
        do {
            let (name, id) = try receiver.receive()
            printNote("xen-receive: '\(name)' (id \(id)) migrated in from \(peer) and runs here")
        } catch let e as MigrationError {
            throw CLIFailure("xen-receive: \(e.message)")
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP in a receiver: a paused incoming copy that was never told "go" is
/// destroyed (the sender resumes its own when the connection drops), then the receiver exits.
enum ReceiverSignals {
    nonisolated(unsafe) private static var toolstack: LibxlToolstack?
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let lock = NSLock()
    nonisolated(unsafe) private static var current: DomainID?
    nonisolated(unsafe) private static var currentName: String?

    static func incoming(_ id: DomainID?) { lock.withLock { current = id; if id == nil { currentName = nil } } }
    static func incoming(name: String) { lock.withLock { currentName = name } }

    static func install(_ t: LibxlToolstack) {
        toolstack = t
        for number in Interrupts.signals {
            signal(number, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: number, queue: .global())
            s.setEventHandler {
                let (known, name) = lock.withLock { (current, currentName) }
                // While restoring, the copy exists under its incoming name before its id is told.
                if let id = known ?? name.flatMap({ try? toolstack?.domainID(named: $0) }) {
                    try? toolstack?.destroy(id)
                    printNote("xen-receive: stopped; the incoming copy (id \(id)) was destroyed, the sender keeps the domain")
                } else {
                    printNote("xen-receive: stopped")
                }
                exit(130)
            }
            s.resume()
            sources.append(s)
        }
    }
}
