import CLibvirt

/// libvirt must be initialised once, before any other call (typed-parameter helpers included);
/// parallel first uses crashed in glib's allocator without it. Every public entry point calls
/// `Libvirt.ensureInitialized()`, so users of this module never have to.
public enum Libvirt {
    private static let initialized: Void = {
        if virInitialize() != 0 {
            fatalError("virInitialize failed: libvirt cannot be used in this process")
        }
        // libvirt prints every error to stderr by default; we report errors ourselves.
        virSetErrorFunc(nil, libvirtSilentErrorHandler)
        // An event implementation must exist before the first connection opens, or domain events
        // cannot be registered later; its thread is started here too, so remote keepalives are answered.
        EventLoop.shared.registerAndStart()
    }()

    /// Idempotent, thread-safe (Swift runs a static initialiser exactly once).
    public static func ensureInitialized() {
        _ = initialized
    }

    /// The libvirt library version, e.g. "9.0.0".
    public static var version: String {
        ensureInitialized()
        var v: UInt = 0
        guard virGetVersion(&v, nil, nil) == 0 else { return "unknown" }
        return dotted(v)
    }

    /// libvirt's version numbers: major * 1,000,000 + minor * 1,000 + release.
    static func dotted(_ v: UInt) -> String { "\(v / 1_000_000).\((v / 1000) % 1000).\(v % 1000)" }
}

/// Swallows libvirt's default error printing; errors are read with virGetLastError instead.
private func libvirtSilentErrorHandler(_ userData: UnsafeMutableRawPointer?, _ error: virErrorPtr?) {}

extension String {
    /// A NUL-terminated C buffer's text.
    init(cBuffer: [CChar]) {
        self = String(decoding: cBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
