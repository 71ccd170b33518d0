import Foundation
import MigscopeStore

/// A lab batch makes a run again when its guest failed after the migration by QEMU's own defect
/// under TCG (the README's "The guest's disk is on virtio-scsi"): its kernel crashed, or its read or
/// console went silent on the destination. A lab test that counts runs counts the complete ones,
/// and accepts a failed one only for these reasons, so the defect never passes for migscope's.
enum RemadeRuns {
    /// The start of the error a failed run is recorded with in each case (see Recorder).
    static let reasons = ["the guest stopped running", "the guest's read stalled on the destination"]

    /// A failed run's error says the batch made it again for the guest's failure.
    static func explains(_ error: String?) -> Bool {
        guard let error else { return false }
        return reasons.contains { error.contains($0) }
    }

    /// What is wrong with `runs` beside their complete ones, or nil: a run neither complete nor
    /// failed for the guest's failure after its migration.
    static func otherThanComplete(_ runs: [RunListing]) -> String? {
        let wrong = runs.filter { $0.status != .completed && !($0.status == .failed && explains($0.error)) }
        if wrong.isEmpty { return nil }
        return "runs neither complete nor made again for the lab guest's failure: " + wrong.map { "run \($0.id) \($0.domain) \($0.status) \($0.error ?? "")" }.joined(separator: "; ")
    }

    /// Prints the runs made again, so a CI log shows how often the defect struck.
    static func tell(_ runs: [RunListing], in test: String) {
        for r in runs where r.status == .failed { print("\(test): run \(r.id) (\(r.domain)) was made again: \(r.error ?? "")") }
    }
}
