import ArgumentParser
import MigscopeCore

/// Stall detection, as KubeVirt has it: a migration whose memory remaining reaches no new low for
/// a while, or that runs longer than its share per GiB of memory, is aborted or finished by pausing.
struct StallOptions: ParsableArguments {
    @Option(name: .customLong("progress-timeout"), parsing: .unconditional,
            help: ArgumentHelp("Stalled when the memory remaining reaches no new low for this long.", valueName: "s"),
            transform: ArgumentValue.seconds("--progress-timeout", in: StallLimits.range))
    var progressTimeout: Double?

    @Option(name: .customLong("completion-timeout-per-gib"), parsing: .unconditional,
            help: ArgumentHelp("Stalled when the migration runs longer than this per GiB of guest memory (at least one GiB's worth).", valueName: "s"),
            transform: ArgumentValue.seconds("--completion-timeout-per-gib", in: StallLimits.range))
    var completionTimeoutPerGiB: Double?

    @Option(name: .customLong("on-stall"), help: ArgumentHelp("What a stall does: abort (the guest stays on the source) or pause (the guest is paused so the migration completes).", valueName: "abort|pause"))
    var onStall: StallLimits.Action?

    var limits: StallLimits? {
        guard progressTimeout != nil || completionTimeoutPerGiB != nil || onStall != nil else { return nil }
        return StallLimits(progressTimeoutSeconds: progressTimeout, completionSecondsPerGiB: completionTimeoutPerGiB, action: onStall ?? .abort)
    }
}

extension StallLimits.Action: ExpressibleByArgument {}
