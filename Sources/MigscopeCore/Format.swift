import Foundation

/// How migscope writes quantities for people: binary byte units, seconds with sensible precision.
public enum Format {
    public static func bytes(_ n: UInt64) -> String { bytes(Double(n)) }

    public static func bytes(_ n: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = n
        var i = 0
        while abs(v) >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(Int(v)) B" : String(format: "%.1f %@", v, units[i])
    }

    public static func rate(_ bytesPerSecond: Double) -> String { bytes(bytesPerSecond) + "/s" }

    public static func seconds(_ s: Double) -> String {
        if s < 10 { return String(format: "%.2f s", s) }
        if s < 100 { return String(format: "%.1f s", s) }
        return String(format: "%.0f s", s)
    }

    public static func milliseconds(_ ms: UInt64) -> String { "\(ms) ms" }
}
