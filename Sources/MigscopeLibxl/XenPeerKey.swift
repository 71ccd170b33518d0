import CLibcrypto
import Foundation
import SystemPackage
import Glibc
import MigscopeCore

/// The secret a Xen sender and a `xen-receive --listen` share: both prove they hold it before a
/// header, a configuration or a byte of memory crosses the network. A receiver restores, as root,
/// whatever configuration it is sent (a libxl configuration names dom0 paths and scripts), and a
/// sender destroys its copy when the receiver says "running": neither may take a stranger's word.
public struct XenPeerKey: Sendable {
    public static let defaultPath = "/etc/migscope/xen-migration.key"
    private let bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Reads a key file: 64 hex digits, readable by its owner (this user) only.
    public static func load(from path: String) throws(MigrationError) -> XenPeerKey {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw MigrationError(.unsupported, "no migration key at \(path); make one with 'migscope xen-receive --init-key' and copy it to the sender (mode 0600)")
        }
        guard st.st_uid == getuid(), st.st_mode & 0o077 == 0 else {
            throw MigrationError(.unsupported, "the migration key \(path) must belong to this user and be readable by it alone (chmod 600 \(path))")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let bytes = Self.hexBytes(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw MigrationError(.unsupported, "the migration key \(path) is not 64 hex digits; make a new one with 'migscope xen-receive --init-key'")
        }
        return XenPeerKey(bytes: bytes)
    }

    /// Writes a new random key to `path` (mode 0600), refusing to replace one.
    public static func create(at path: String) throws(MigrationError) {
        let folder = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw MigrationError(.failed, "cannot create \(folder): \(error.localizedDescription)")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw MigrationError(.failed, errno == EEXIST ? "a key exists at \(path) already; remove it first to make a new one" : "cannot create \(path): \(Errno(rawValue: errno))")
        }
        defer { close(fd) }
        let text = Self.hex(try Self.random(32)) + "\n"
        guard text.withCString({ write(fd, $0, strlen($0)) }) == text.utf8.count else {
            throw MigrationError(.failed, "cannot write \(path): \(Errno(rawValue: errno))")
        }
    }

    /// HMAC-SHA256 of the role's label and both nonces, under the key (libcrypto's one-shot HMAC).
    func proof(_ role: String, _ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
        Self.hmacSHA256(key: bytes, message: Array("migscope-xen \(role)\n".utf8) + first + second)
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let done = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &mac, &length) != nil
            }
        }
        // HMAC fails only without memory; an empty proof then matches nothing.
        return done ? Array(mac.prefix(Int(length))) : []
    }

    /// Whether `mac` is the role's proof, compared in constant time.
    func matches(_ mac: [UInt8], _ role: String, _ first: [UInt8], _ second: [UInt8]) -> Bool {
        let expected = proof(role, first, second)
        guard !expected.isEmpty, mac.count == expected.count else { return false }
        return CRYPTO_memcmp(mac, expected, mac.count) == 0
    }

    /// `count` bytes from libcrypto's CSPRNG.
    static func random(_ count: Int) throws(MigrationError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&out, Int32(count)) == 1 else { throw MigrationError(.failed, "the system's random generator (libcrypto RAND_bytes) failed") }
        return out
    }

    static func nonce() throws(MigrationError) -> [UInt8] { try random(32) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func hexBytes(_ text: String) -> [UInt8]? {
        guard text.count % 2 == 0, text.count <= 256 else { return nil }
        var out: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: 2)
            guard let b = UInt8(text[i..<j], radix: 16) else { return nil }
            out.append(b)
            i = j
        }
        return out
    }
}

/// The challenge-response both ends run first over a TCP connection, each proving the key to the
/// other (HMAC-SHA256 over both ends' fresh nonces, a different label for each direction):
///
///     receiver                                         sender
///              migscope-xen-auth 1 NONCE_R  ------->
///              <-------  auth NONCE_S HMAC("sender", NONCE_R, NONCE_S)
///     checks;  auth HMAC("receiver", NONCE_S, NONCE_R)  ------->  checks
public enum XenAuthentication {
    static let banner = "migscope-xen-auth 1"

    /// The receiver's half; throws (having told the peer) when the peer does not hold the key.
    public static func prove(asReceiver key: XenPeerKey, over wire: XenWire) throws(MigrationError) {
        let mine = try XenPeerKey.nonce()
        do {
            try wire.send(line: "\(banner) \(XenPeerKey.hex(mine))")
            let answer = try wire.receiveLine(limit: 256).split(separator: " ")
            guard answer.count == 3, answer[0] == "auth", let theirs = XenPeerKey.hexBytes(String(answer[1])), theirs.count == 32,
                  let mac = XenPeerKey.hexBytes(String(answer[2])), key.matches(mac, "sender", mine, theirs) else {
                try? wire.send(line: "error not authenticated")
                throw MigrationError(.failed, "a peer without the migration key was refused; nothing was read from it")
            }
            try wire.send(line: "auth \(XenPeerKey.hex(key.proof("receiver", theirs, mine)))")
        } catch {
            throw unfinished(error, .failed, "authentication did not finish")
        }
    }

    /// The sender's half; throws when the receiver does not prove the key (nothing was sent then).
    public static func prove(asSender key: XenPeerKey, over wire: XenWire) throws(MigrationError) {
        do {
            let challenge = try wire.receiveLine(limit: 256)
            guard challenge.hasPrefix(banner + " "), let theirs = XenPeerKey.hexBytes(String(challenge.dropFirst(banner.count + 1))), theirs.count == 32 else {
                throw MigrationError(.unreachable, "the receiver did not ask for the migration key (it said '\(challenge.prefix(60))'); is it 'migscope xen-receive --listen' of this version?")
            }
            let mine = try XenPeerKey.nonce()
            try wire.send(line: "auth \(XenPeerKey.hex(mine)) \(XenPeerKey.hex(key.proof("sender", theirs, mine)))")
            let answer = try wire.receiveLine(limit: 256).split(separator: " ")
            guard answer.count == 2, answer[0] == "auth", let mac = XenPeerKey.hexBytes(String(answer[1])), key.matches(mac, "receiver", mine, theirs) else {
                throw MigrationError(.unreachable, answer.first == "error"
                    ? "the receiver refused this host's migration key; copy the receiver's key file to this host"
                    : "the receiver did not prove it holds the migration key; nothing was sent to it")
            }
        } catch {
            throw unfinished(error, .unreachable, "authentication with the receiver did not finish")
        }
    }

    /// A refusal stays as it was said; a broken or silent connection becomes `what` with its reason.
    static func unfinished(_ error: any Error, _ kind: MigrationError.Kind, _ what: String) -> MigrationError {
        if let e = error as? MigrationError { return e }
        return MigrationError(kind, "\(what): \((error as? XenWire.Closed)?.detail ?? "\(error)")")
    }
}
