import Foundation

/// The plans shipped with migscope (Plans/*.yaml, copied into the build as resources).
///
/// Found without `Bundle.module`, whose accessor stops the process when its folder is missing:
/// beside the executable as it really is (an installed copy is run through a link), else in the
/// source tree this migscope was built from. A missing plan is a one-line error.
public enum BuiltinPlans {
    static let resourceFolder = "migscope_MigscopeBatch.resources/Plans"

    public static func path(_ name: String) throws -> String {
        for folder in folders {
            let file = folder + "/" + name + ".yaml"
            if FileManager.default.isReadableFile(atPath: file) { return file }
        }
        throw BatchError("the built-in plan '\(name)' is not in this installation (looked in \(folders.joined(separator: ", "))); reinstall with scripts/install.sh or run from the build folder")
    }

    static var folders: [String] {
        var out: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            out.append((exe as NSString).deletingLastPathComponent + "/" + resourceFolder)
        }
        out.append(((#filePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("Plans"))
        return out
    }
}
