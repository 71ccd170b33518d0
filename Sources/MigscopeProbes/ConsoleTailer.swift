import Foundation
import MigscopeCore

/// Follows console logs (a guest's serial console written by the hypervisor) line by line.
/// A guest writes what it likes: at most `maxReadBytes` are read per file per call, and a line
/// longer than `maxLineBytes` is cut off and counted in `droppedLines` instead of being kept.
public final class ConsoleTailer: GuestReportSource, @unchecked Sendable {
    public let paths: [String]
    public var path: String { paths.joined(separator: " + ") }
    public var description: String { path }
    public static let maxLineBytes = 4096
    public static let maxReadBytes = 1 << 20
    private let lock = NSLock()
    private var offsets: [UInt64]
    private var partials: [Data]
    /// Inside an over-long line: its bytes are skipped up to the next newline.
    private var skipping: [Bool]
    private var dropped = 0

    /// Starts at each file's current end: only what is written from now on is read. A file that
    /// does not exist yet is read from its start when it appears.
    public init(paths: [String]) {
        self.paths = paths
        offsets = paths.map { ((try? FileManager.default.attributesOfItem(atPath: $0))?[.size] as? UInt64) ?? 0 }
        partials = paths.map { _ in Data() }
        skipping = paths.map { _ in false }
    }

    public convenience init(path: String) { self.init(paths: [path]) }

    /// Lines cut off for being longer than `maxLineBytes`.
    public var droppedLines: Int { lock.withLock { dropped } }

    public func newLines() -> [Substring] {
        lock.withLock { paths.indices.flatMap { newLines(at: $0) } }
    }

    private func newLines(at i: Int) -> [Substring] {
        guard let h = FileHandle(forReadingAtPath: paths[i]) else { return [] }
        defer { try? h.close() }
        guard (try? h.seek(toOffset: offsets[i])) != nil, let d = try? h.read(upToCount: Self.maxReadBytes), !d.isEmpty else { return [] }
        offsets[i] += UInt64(d.count)
        var lines: [Substring] = []
        var rest = d[...]
        while let nl = rest.firstIndex(of: UInt8(ascii: "\n")) {
            let piece = rest[rest.startIndex..<nl]
            rest = rest[rest.index(after: nl)...]
            if skipping[i] { skipping[i] = false; continue }  // the end of a line already counted
            partials[i].append(contentsOf: piece)
            if partials[i].count > Self.maxLineBytes {
                dropped += 1
            } else {
                lines.append(contentsOf: String(decoding: partials[i], as: UTF8.self).split(whereSeparator: \.isNewline))
            }
            partials[i].removeAll(keepingCapacity: true)
        }
        if !skipping[i] {
            partials[i].append(contentsOf: rest)
            if partials[i].count > Self.maxLineBytes {
                dropped += 1
                skipping[i] = true
                partials[i] = Data()
            }
        }
        return lines
    }
}
