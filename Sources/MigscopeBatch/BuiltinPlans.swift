import Foundation

/// The plans shipped with migscope (Plans/*.yaml, copied into the build as resources).
public enum BuiltinPlans {
    public static func path(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "Plans")
            ?? Bundle.module.url(forResource: name, withExtension: "yaml")
        else { throw BatchError("the built-in plan '\(name)' is missing from this build (\(Bundle.module.bundlePath))") }
        return url.path
    }
}


