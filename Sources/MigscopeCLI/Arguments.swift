import ArgumentParser

/// Parsers for option values, each failing with a message that names the value and what is expected.
enum ArgumentValue {
    static func positiveInteger(_ what: String, unit: String) -> @Sendable (String) throws -> UInt64 {
        { text in
            guard let v = UInt64(text.trimmingCharacters(in: .whitespaces)), v > 0 else {
                throw ValidationError("\(what) must be a positive whole number of \(unit), got '\(text)'")
            }
            return v
        }
    }

    static func nonNegativeSeconds(_ what: String) -> @Sendable (String) throws -> Double {
        { text in
            guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v >= 0, v.isFinite else {
                throw ValidationError("\(what) must be zero or a positive number of seconds, got '\(text)'")
            }
            return v
        }
    }

    static func positiveSeconds(_ what: String) -> @Sendable (String) throws -> Double {
        { text in
            guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v > 0, v.isFinite else {
                throw ValidationError("\(what) must be a positive number of seconds, got '\(text)'")
            }
            return v
        }
    }
}
