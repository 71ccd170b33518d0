import CLibxl

/// A libxl failure: libxl's error code (`ERROR_*`), what migscope was doing, and what libxl's
/// logger said about it.
public struct LibxlError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int32
    public var operation: String
    public var log: [String]

    public var description: String {
        if operation == "open libxl" && log.contains(where: { $0.contains("privileged command interface") || $0.contains("xencall") }) {
            return "not a Xen dom0: libxl cannot reach the hypervisor here (\(log.last ?? "no privileged command interface")); run on a Xen host's dom0"
        }
        let last = log.last.map { ": \($0)" } ?? ""
        return "\(operation) failed (libxl error \(code))\(last)"
    }

    /// The corresponding C constant is ERROR_FAIL.
    public static let fail = Int32(ERROR_FAIL.rawValue)
}
