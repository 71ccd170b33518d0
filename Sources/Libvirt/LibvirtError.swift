import CLibvirt

/// A libvirt failure, with the code, domain and message libvirt gave.
///
/// Read right after the failing call: libvirt's last error is thread-local, so it must never be
/// read after an `await` or on another thread.
public struct LibvirtError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libvirt's `virErrorNumber` (e.g. 42 = VIR_ERR_NO_DOMAIN).
    public var code: Int32
    /// libvirt's `virErrorDomain`: which part of libvirt failed (e.g. 10 = VIR_FROM_QEMU).
    public var domain: Int32
    public var message: String
    /// What the wrapper was doing, e.g. "open qemu:///system".
    public var operation: String

    public init(code: Int32, domain: Int32, message: String, operation: String) {
        self.code = code
        self.domain = domain
        self.message = message
        self.operation = operation
    }

    public var description: String { message.isEmpty ? "\(operation) failed" : message }

    /// The calling thread's last libvirt error, cleared afterwards.
    ///
    /// `operation` is evaluated only after the error is copied: describing the operation may call
    /// libvirt again (a domain's name, say), and every libvirt call resets the last error.
    static func last(_ operation: @autoclosure () -> String) -> LibvirtError {
        guard let err = virGetLastError() else {
            let op = operation()
            return LibvirtError(code: -1, domain: 0, message: "\(op) failed (libvirt gave no reason)", operation: op)
        }
        let code = Int32(err.pointee.code)
        let domain = Int32(err.pointee.domain)
        let message = err.pointee.message.map { String(cString: $0) } ?? ""
        virResetLastError()
        return LibvirtError(code: code, domain: domain, message: message, operation: operation())
    }

    // Codes the rest of migscope reacts to. The corresponding C constants are in virterror.h.
    public static let noDomain = Int32(VIR_ERR_NO_DOMAIN.rawValue)
    public static let noConnect = Int32(VIR_ERR_NO_CONNECT.rawValue)
    public static let systemError = Int32(VIR_ERR_SYSTEM_ERROR.rawValue)
    public static let operationInvalid = Int32(VIR_ERR_OPERATION_INVALID.rawValue)
    public static let operationAborted = Int32(VIR_ERR_OPERATION_ABORTED.rawValue)
    public static let noSupport = Int32(VIR_ERR_NO_SUPPORT.rawValue)
    public static let invalidArgument = Int32(VIR_ERR_INVALID_ARG.rawValue)
    public static let authFailed = Int32(VIR_ERR_AUTH_FAILED.rawValue)

    public var isNoDomain: Bool { code == Self.noDomain }
    public var isConnectionFailure: Bool { code == Self.noConnect || code == Self.systemError || code == Self.authFailed }
    public var isAborted: Bool { code == Self.operationAborted }
}

/// Throws the last libvirt error when `result` is negative.
@inline(__always)
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(LibvirtError) {
    if result < 0 { throw LibvirtError.last(operation()) }
}
