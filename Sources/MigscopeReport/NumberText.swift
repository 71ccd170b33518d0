/// Fixed-point text for numbers, without Foundation's `String(format:)`, which dominated the time
/// of exporting long runs (millions of cells).
enum NumberText {
    static let powers: [Double] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]

    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "NaN" : (x > 0 ? "inf" : "-inf") }
        let scale = powers[min(max(digits, 0), powers.count - 1)]
        let scaled = (abs(x) * scale).rounded()
        guard scaled < 9e15 else { return String(Int64(x.rounded())) }
        let v = Int64(scaled)
        let negative = x < 0 && v != 0
        guard digits > 0 else { return (negative ? "-" : "") + String(v) }
        let s = Int64(scale)
        var frac = String(v % s)
        if frac.count < digits { frac = String(repeating: "0", count: digits - frac.count) + frac }
        return (negative ? "-" : "") + String(v / s) + "." + frac
    }
}
