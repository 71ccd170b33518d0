import Libxl
import MigscopeCore

/// What a migration needs from one Xen host's toolstack. `LibxlToolstack` is the real one; tests
/// of the handshake use a fake that writes a made-up stream.
public protocol XenToolstack: AnyObject, Sendable {
    func domainID(named name: String) throws -> DomainID
    func domainExists(_ id: DomainID) -> Bool
    /// Runs: neither paused nor suspended, shut down or dying.
    func isRunning(_ id: DomainID) -> Bool
    func configurationJSON(of id: DomainID) throws -> String
    func rename(_ id: DomainID, to name: String) throws
    /// Writes the domain to `fd` (blocks until the stream ends); the domain is left suspended.
    func suspend(_ id: DomainID, to fd: Int32, live: Bool) throws
    func resume(_ id: DomainID) throws
    func destroy(_ id: DomainID) throws
    /// Builds a paused domain named `name` from the stream on `fd`.
    func restore(configurationJSON: String, name: String, from fd: Int32) throws -> DomainID
    func unpause(_ id: DomainID) throws
}

/// The conversation both ends hold, on top of libxl's stream (over TCP, XenAuthentication runs
/// first, and nothing below is sent to a peer that has not proven the shared key):
///
///     sender                                     receiver
///     migscope-xen 1 MODE BYTES NAME  ------->
///     <configuration JSON, BYTES long> ------->   parses it
///                                      <-------   ready | error TEXT
///     <libxl stream>                   ------->   restores NAME--incoming, paused
///                                      <-------   restored ID | error TEXT
///     go                               ------->   renames it NAME, unpauses it
///                                      <-------   running ID | error TEXT
///     destroys the source
///
/// The source is renamed NAME--migratedaway while the stream runs (so a localhost migration has
/// room for both), and destroyed only after the destination says it runs; on any failure before
/// "go" it is resumed under its name.
public enum XenMigrationProtocol {
    public static let banner = "migscope-xen 1"
    public static let incomingSuffix = "--incoming"
    public static let migratedAwaySuffix = "--migratedaway"

    public struct Header: Sendable, Equatable {
        public var live: Bool
        public var name: String
        public var configurationBytes: Int

        public var line: String { "\(banner) \(live ? "live" : "non-live") \(configurationBytes) \(name)" }

        public init(live: Bool, name: String, configurationBytes: Int) {
            self.live = live
            self.name = name
            self.configurationBytes = configurationBytes
        }

        /// Parses the first line; nil when it is not migscope's.
        public init?(line: String) {
            let parts = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
            guard parts.count == 5, "\(parts[0]) \(parts[1])" == banner, ["live", "non-live"].contains(parts[2]),
                  let n = Int(parts[3]), n > 0, n < 16 << 20, !parts[4].isEmpty else { return nil }
            live = parts[2] == "live"
            configurationBytes = n
            name = String(parts[4])
        }
    }

    /// A reply line: the word and what follows it.
    static func split(_ line: String) -> (word: String, rest: String) {
        let parts = line.split(separator: " ", maxSplits: 1)
        return (parts.first.map(String.init) ?? "", parts.count > 1 ? String(parts[1]) : "")
    }
}

/// What happened, step by step, on either end; the CLI shows these as progress.
public enum XenMigrationStep: Sendable, Equatable {
    case configurationSent(bytes: Int)
    /// The receiver read a header for domain `name` (it restores it as NAME--incoming).
    case receiving(name: String)
    /// The source was renamed NAME--migratedaway: from here on it must be put back on failure.
    case sourceRenamed(id: DomainID)
    /// "go" is about to be sent: from here on the destination may run the domain.
    case goSent
    case streamStarted
    case streamEnded
    case restored(id: DomainID)
    case running(id: DomainID)
    case sourceDestroyed(id: DomainID)
    case sourceResumed(id: DomainID)
}

/// One end of a migration, sending or receiving: this host's toolstack, the connection, and who
/// hears of each step.
public struct XenMigrationEnd: Sendable {
    public var toolstack: any XenToolstack
    public var wire: XenWire
    public var onStep: @Sendable (XenMigrationStep) -> Void
    /// The shared key both ends prove before anything else (TCP); nil where the transport
    /// authenticates already (ssh) or is a child of this process (localhost).
    public var key: XenPeerKey?
    /// Asked just before "go": false (an abort came) puts the source back instead. Once it says
    /// true, nothing may resume the source while the destination might be starting its copy.
    public var mayCommit: @Sendable () -> Bool

    public init(toolstack: any XenToolstack, wire: XenWire, key: XenPeerKey? = nil, mayCommit: @escaping @Sendable () -> Bool = { true },
                onStep: @escaping @Sendable (XenMigrationStep) -> Void = { _ in }) {
        self.toolstack = toolstack
        self.wire = wire
        self.key = key
        self.mayCommit = mayCommit
        self.onStep = onStep
    }
}

/// The sending end: migrates domain `name` of `toolstack` over `wire`.
extension XenMigrationEnd {
    /// Returns the domain's id on the destination. Throws a `MigrationError` that says where the
    /// domain is.
    public func send(domain name: String, live: Bool) throws -> DomainID {
        let id: DomainID
        do { id = try toolstack.domainID(named: name) } catch {
            throw MigrationError(.noSuchDomain, "no domain '\(name)' on this Xen host (\(error)); 'xl list' shows the running ones")
        }
        let config: [UInt8]
        do { config = Array(try toolstack.configurationJSON(of: id).utf8) } catch {
            throw MigrationError(.notMigratable, "cannot read domain '\(name)''s configuration: \(error)")
        }
        let header = XenMigrationProtocol.Header(live: live, name: name, configurationBytes: config.count)
        if let key {
            wire.setDeadline(seconds: XenWire.handshakeDeadline)
            do { try XenAuthentication.prove(asSender: key, over: wire) } catch {
                throw MigrationError(error.kind, "\(error.message); domain '\(name)' still runs here, untouched")
            }
        }
        wire.setDeadline(seconds: XenWire.streamDeadline)
        do {
            try wire.send(line: header.line)
            try wire.send(bytes: config)
            onStep(.configurationSent(bytes: config.count))
            try expect("ready", "accept the domain's configuration")
        } catch let e as MigrationError {
            throw MigrationError(e.kind, "\(e.message); domain '\(name)' still runs here, untouched")
        } catch {
            throw MigrationError(.unreachable, "the receiver did not take the migration: \(error); domain '\(name)' still runs here, untouched")
        }

        // From here on the source is changed; every failure path puts it back.
        let awayName = name + XenMigrationProtocol.migratedAwaySuffix
        do { try toolstack.rename(id, to: awayName) } catch {
            throw MigrationError(.failed, "cannot rename domain '\(name)' for the migration: \(error); it still runs here, untouched")
        }
        onStep(.sourceRenamed(id: id))
        do {
            onStep(.streamStarted)
            try toolstack.suspend(id, to: wire.output.rawValue, live: live)
            onStep(.streamEnded)
            let restored = try expect("restored", "restore the domain")
            onStep(.restored(id: DomainID(restored) ?? .controlDomain))
        } catch {
            throw recover(id, name: name, because: "\(error)")
        }
        // Until here the receiver destroys its copy when "go" does not come: an abort is still safe.
        guard mayCommit() else {
            wire.shutdownQuietly()
            throw recover(id, name: name, because: "aborted before the go-ahead (the destination destroys its copy)")
        }
        onStep(.goSent)
        do {
            try wire.send(line: "go")
        } catch {
            // The line may have left before the failure: the destination may be starting its copy.
            throw kept(id, name: name, because: "sending the go-ahead failed (\(error))")
        }
        let answer: String
        do { answer = try wire.receiveLine() } catch {
            throw kept(id, name: name, because: "no word from the receiver after the go-ahead (\(error))")
        }
        let (word, rest) = XenMigrationProtocol.split(answer)
        if word == "error" {
            // The receiver's own words: it could not start the domain and destroyed its copy.
            throw recover(id, name: name, because: "the receiver could not start the domain: \(rest)")
        }
        guard word == "running", let destinationID = DomainID(rest) else {
            // Anything else proves nothing about the destination: running both would corrupt
            // shared disks, so the source stays suspended for a person to decide.
            throw kept(id, name: name, because: "the receiver answered '\(answer.prefix(80))' to the go-ahead")
        }
        onStep(.running(id: destinationID))
        do {
            try toolstack.destroy(id)
            onStep(.sourceDestroyed(id: id))
        } catch {
            throw MigrationError(.failed, "domain '\(name)' runs on the destination (id \(destinationID)) but the suspended source copy '\(awayName)' could not be destroyed: \(error); 'xl destroy \(awayName)'")
        }
        return destinationID
    }

    /// Reads the receiver's next line; returns what follows `word`, or throws its error.
    @discardableResult
    func expect(_ word: String, _ what: String) throws -> String {
        let line = try wire.receiveLine()
        let (w, rest) = XenMigrationProtocol.split(line)
        if w == word { return rest }
        if w == "error" { throw MigrationError(.failed, "the receiver could not \(what): \(rest)") }
        throw MigrationError(.failed, "the receiver answered '\(line.prefix(80))' where '\(word)' was due; is it the same migscope version?")
    }

    /// After "go": the source stays suspended, and the error says what runs where and what to check.
    func kept(_ id: DomainID, name: String, because reason: String) -> MigrationError {
        let awayName = name + XenMigrationProtocol.migratedAwaySuffix
        return MigrationError(.failed, "\(reason); domain '\(name)' may run on the destination, so the source copy is kept suspended here as '\(awayName)' (id \(id)); check 'xl list' on the destination: if it runs there, 'xl destroy \(awayName)' here; if not, 'migscope xen-recover \(name) --resume'")
    }

    /// Puts the source back (resume, original name) and says where the domain is.
    func recover(_ id: DomainID, name: String, because reason: String) -> MigrationError {
        var problems: [String] = []
        // A failure during pre-copy leaves the guest running (it was never suspended) and libxl
        // then refuses to resume it: only a guest that does not run needs resuming.
        if !toolstack.isRunning(id) {
            do { try toolstack.resume(id) } catch {
                if !toolstack.isRunning(id) { problems.append("resume failed: \(error)") }
            }
        }
        do { try toolstack.rename(id, to: name) } catch { problems.append("rename back failed: \(error)") }
        if problems.isEmpty {
            onStep(.sourceResumed(id: id))
            return MigrationError(.failed, "migration failed: \(reason); the source was resumed: domain '\(name)' runs on this host (id \(id))")
        }
        return MigrationError(.failed, "migration failed: \(reason); putting the source back also failed (\(problems.joined(separator: "; "))): domain id \(id) is on this host, see 'xl list'")
    }
}

/// The receiving end: takes one migration from `wire` and starts the domain here.
extension XenMigrationEnd {
    /// Returns the running domain's name and id. On failure the half-made domain is destroyed,
    /// the sender is told why, and the error is thrown.
    public func receive() throws -> (name: String, id: DomainID) {
        // A stranger (or a stalled peer) gets a short deadline and nothing of this host.
        wire.setDeadline(seconds: XenWire.handshakeDeadline)
        if let key { try XenAuthentication.prove(asReceiver: key, over: wire) }
        let first = try wire.receiveLine()
        guard let header = XenMigrationProtocol.Header(line: first) else {
            let reason = "not a migscope Xen migration (first line '\(first.prefix(60))')"
            try? wire.send(line: "error \(reason)")
            throw MigrationError(.failed, reason)
        }
        let config = String(decoding: try wire.receive(count: header.configurationBytes), as: UTF8.self)
        onStep(.receiving(name: header.name))
        let incoming = header.name + XenMigrationProtocol.incomingSuffix
        if let clash = try? toolstack.domainID(named: incoming) {
            let reason = "a domain '\(incoming)' (id \(clash)) already exists here, left by an earlier failed migration; 'xl destroy \(incoming)'"
            try? wire.send(line: "error \(reason)")
            throw MigrationError(.failed, reason)
        }
        try wire.send(line: "ready")
        wire.setDeadline(seconds: XenWire.streamDeadline)

        let id: DomainID
        do {
            id = try toolstack.restore(configurationJSON: config, name: incoming, from: wire.input.rawValue)
        } catch {
            try? wire.send(line: "error \(oneLine(error))")
            // Let the sender finish its stream, so it reads why rather than a broken pipe.
            wire.drain()
            throw MigrationError(.failed, "restoring '\(header.name)' failed: \(oneLine(error))")
        }
        onStep(.restored(id: id))
        do {
            try wire.send(line: "restored \(id)")
            let go = try wire.receiveLine()
            guard go == "go" else { throw XenWire.Closed(detail: "the sender said '\(go.prefix(60))' instead of go") }
        } catch {
            // The sender resumes its copy when it does not get here; this one must go.
            try? toolstack.destroy(id)
            throw MigrationError(.failed, "the sender went away before the go-ahead (\(error)); the restored copy was destroyed, the source keeps the domain")
        }
        do {
            try toolstack.rename(id, to: header.name)
            try toolstack.unpause(id)
        } catch {
            try? toolstack.destroy(id)
            try? wire.send(line: "error \(oneLine(error))")
            throw MigrationError(.failed, "starting '\(header.name)' here failed: \(oneLine(error)); the copy was destroyed, the sender resumes its own")
        }
        onStep(.running(id: id))
        try? wire.send(line: "running \(id)")
        return (header.name, id)
    }

    func oneLine(_ error: any Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: "; ")
    }
}
