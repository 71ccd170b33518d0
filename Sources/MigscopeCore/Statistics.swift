import Foundation

/// The statistics migscope reports, written once: means, spreads, percentiles and Student's t.
public enum Statistics {
    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Sample standard deviation (n - 1); nil below two values.
    public static func standardDeviation(_ values: [Double]) -> Double? {
        guard values.count > 1, let m = mean(values) else { return nil }
        return (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
    }

    /// The value at fraction `p` (0...1) of the sorted values, nearest rank.
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        percentile(sorted: values.sorted(), p)
    }

    /// As `percentile`, for values already sorted (a caller taking several percentiles sorts once).
    public static func percentile(sorted s: [Double], _ p: Double) -> Double? {
        guard !s.isEmpty else { return nil }
        return s[min(s.count - 1, max(0, Int((Double(s.count - 1) * p).rounded())))]
    }

    public static func median(_ values: [Double]) -> Double? { percentile(values, 0.5) }

    /// Student's t distribution's quantile: the t with P(T <= t) = `p`, for `degrees` degrees of
    /// freedom (any, not only a table's). Found by bisection on the distribution function.
    public static func studentTQuantile(_ p: Double, degrees: Int) -> Double {
        precondition(p > 0 && p < 1 && degrees >= 1)
        if p == 0.5 { return 0 }
        if p < 0.5 { return -studentTQuantile(1 - p, degrees: degrees) }
        var low = 0.0, high = 1.0
        while studentTDistribution(high, degrees: degrees) < p { low = high; high *= 2 }
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if studentTDistribution(mid, degrees: degrees) < p { low = mid } else { high = mid }
            if high - low < 1e-12 * max(1, high) { break }
        }
        return (low + high) / 2
    }

    /// P(T <= t) for Student's t with `degrees` degrees of freedom.
    public static func studentTDistribution(_ t: Double, degrees: Int) -> Double {
        let v = Double(degrees)
        let tail = 0.5 * regularizedIncompleteBeta(v / (v + t * t), a: v / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// I_x(a, b), by its continued fraction (modified Lentz), using the symmetry
    /// I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a) + lgamma(b) - lgamma(a + b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let logFront = logPowers - logBeta
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
        let tiny = 1e-300
        var c = 1.0
        var d: Double = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...500 {
            let m = Double(m)
            // Even step, then odd step of the fraction.
            let evenDenominator: Double = (a + 2 * m - 1) * (a + 2 * m)
            var num: Double = m * (b - m) * x / evenDenominator
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            let oddDenominator: Double = (a + 2 * m) * (a + 2 * m + 1)
            num = -(a + m) * (a + b + m) * x / oddDenominator
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            f *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return exp(logFront) * f / a
    }
}

/// Mean, standard deviation and 95 % confidence interval of one measure over a cell's runs.
public struct MeasureStats: Sendable, Equatable, Codable {
    public var n: Int
    public var mean: Double
    public var sd: Double?
    /// Half-width of the 95 % confidence interval of the mean (Student's t); nil for one run.
    public var ci95: Double?

    public init?(_ values: [Double]) {
        guard let m = Statistics.mean(values) else { return nil }
        n = values.count
        mean = m
        sd = Statistics.standardDeviation(values)
        ci95 = sd.map { Statistics.studentTQuantile(0.975, degrees: n - 1) * $0 / Double(n).squareRoot() }
    }
}
