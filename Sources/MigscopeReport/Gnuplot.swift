import Foundation
import MigscopeCore

/// Renders figures with gnuplot (Debian's gnuplot-nox): a script and its data files in, a PNG and
/// an SVG out. The scripts are written next to the images, so a figure can be restyled by hand.
/// gnuplot runs in the figure's folder and every file in a script is named relative to it, so
/// no folder name (relative, with spaces, quotes or anything else) ever becomes gnuplot text.
public enum Gnuplot {
    /// gnuplot, or nil when it is not installed or MIGSCOPE_GNUPLOT=none asks for no figures.
    public static var executable: String? {
        if ProcessInfo.processInfo.environment["MIGSCOPE_GNUPLOT"] == "none" { return nil }
        return ["/usr/bin/gnuplot", "/usr/local/bin/gnuplot", "/bin/gnuplot"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// What a report says where a figure would be, when there is no gnuplot.
    public static let missing = "not drawn: gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox); its data and gnuplot script are beside this page, so it can be drawn later"

    /// Writes `name.gp` and renders `name.png` and `name.svg` in `directory`. `body` is the script
    /// without terminal and output lines.
    /// With `render` false, or without gnuplot, only the script is written (a report without
    /// gnuplot still has its tables and data: a night's batch must not fail at its last step).
    public static func render(_ name: String, body: String, in directory: String, width: Int = 1200, height: Int = 520, render: Bool = true) throws -> (png: String, svg: String) {
        let gnuplot = executable
        precondition(name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }, "figure names are migscope's own")
        let directory = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        let png = directory + "/" + name + ".png", svg = directory + "/" + name + ".svg"
        let script = """
            set terminal pngcairo size \(width),\(height) font "DejaVu Sans,10" noenhanced
            set output '\(name).png'
            \(body)
            set terminal svg size \(width),\(height) dynamic font "DejaVu Sans,10" noenhanced background rgb "white"
            set output '\(name).svg'
            replot
            unset output

            """
        let scriptPath = directory + "/" + name + ".gp"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        guard render, let gnuplot else { return (png, svg) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: gnuplot)
        p.arguments = [name + ".gp"]
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, FileManager.default.fileExists(atPath: png) else {
            let why = String(decoding: e, as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit \(p.terminationStatus)"
            throw ReportError("gnuplot failed on \(scriptPath): \(why)")
        }
        return (png, svg)
    }

    /// Any text as a gnuplot string literal that stays text: single-quoted (gnuplot expands neither
    /// backslashes nor `backquoted commands` there), a quote doubled, line breaks and other control
    /// characters made spaces so the literal cannot end the line.
    static func quote(_ s: String) -> String {
        let flat = String(String.UnicodeScalarView(s.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        return "'" + flat.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

public struct ReportError: UserFacingError, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
