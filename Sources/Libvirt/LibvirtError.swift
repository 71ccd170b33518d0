import CLibvirt

/// A libvirt failure, with the code, domain and message libvirt gave.
///
/// Read right after the failing call: libvirt's last error is thread-local, so it must never be
/// read after an `await` or on another thread.
public struct LibvirtError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as libvirt numbers it (`virErrorNumber`); pattern-matches its named values.
    public var code: Number
    /// Which part of libvirt failed (`virErrorDomain`), e.g. `.qemu`.
    public var domain: Origin
    public var message: String
    /// What the wrapper was doing, e.g. "open qemu:///system".
    public var operation: String

    /// libvirt's `virErrorNumber`. A struct, not an enum: libvirt adds numbers in every release,
    /// and one this binding does not name is still carried, by its value.
    public struct Number: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ c: virErrorNumber) { rawValue = Int32(c.rawValue) }

        public static let noDomain = Number(VIR_ERR_NO_DOMAIN)
        public static let noConnect = Number(VIR_ERR_NO_CONNECT)
        public static let systemError = Number(VIR_ERR_SYSTEM_ERROR)
        public static let operationInvalid = Number(VIR_ERR_OPERATION_INVALID)
        public static let operationAborted = Number(VIR_ERR_OPERATION_ABORTED)
        public static let noSupport = Number(VIR_ERR_NO_SUPPORT)
        public static let invalidArgument = Number(VIR_ERR_INVALID_ARG)
        public static let authFailed = Number(VIR_ERR_AUTH_FAILED)
        public static let operationTimeout = Number(VIR_ERR_OPERATION_TIMEOUT)
        /// Not libvirt's: the binding failed without an error from libvirt.
        public static let unknown = Number(rawValue: -1)

        public var description: String { "\(rawValue)" }
    }

    /// libvirt's `virErrorDomain`: which driver or part of libvirt reported the error.
    public struct Origin: RawRepresentable, Hashable, Sendable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ c: virErrorDomain) { rawValue = Int32(c.rawValue) }

        public static let none = Origin(VIR_FROM_NONE)
        public static let qemu = Origin(VIR_FROM_QEMU)
        public static let remote = Origin(VIR_FROM_REMOTE)
        public static let test = Origin(VIR_FROM_TEST)
        public static let libxl = Origin(VIR_FROM_LIBXL)
        public static let rpc = Origin(VIR_FROM_RPC)
        public static let domain = Origin(VIR_FROM_DOMAIN)
    }

    public init(code: Number, domain: Origin, message: String, operation: String) {
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
            return LibvirtError(code: .unknown, domain: .none, message: "\(op) failed (libvirt gave no reason)", operation: op)
        }
        let code = Number(rawValue: Int32(err.pointee.code))
        let domain = Origin(rawValue: Int32(err.pointee.domain))
        let message = err.pointee.message.map { String(cString: $0) } ?? ""
        virResetLastError()
        return LibvirtError(code: code, domain: domain, message: message, operation: operation())
    }

    public var isNoDomain: Bool { code == .noDomain }
    public var isConnectionFailure: Bool {
        switch code {
        case .noConnect, .systemError, .authFailed: true
        default: false
        }
    }
    public var isAborted: Bool { code == .operationAborted }
}

/// Throws the last libvirt error when `result` is negative.
@inline(__always)
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(LibvirtError) {
    if result < 0 { throw LibvirtError.last(operation()) }
}
