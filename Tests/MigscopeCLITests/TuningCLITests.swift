import Foundation
import XCTest

/// `migrate`'s tuning options: each wrong value, pair or backend is one line and exit 2, before
/// anything is opened.
extension CLITests {

    func testBadTuningValuesArePrecededByTheirOption() throws {
        for (args, expected) in [
            (["--io-floor", "0"], "--io-floor must be a whole number of percent from 1 to 99"),
            (["--io-floor", "nan"], "got 'nan'"),
            (["--stop-after", "rounds=0"], "--stop-after: rounds must be a whole number from 1 to 1000"),
            (["--stop-after", "turns=3"], "unknown part 'turns'"),
            (["--downtime-steps", "max=500"], "--downtime-steps: steps must be"),
            (["--postcopy-after", "soon"], "--postcopy-after: 'soon' is neither seconds nor round:N"),
            (["--parallel", "1"], "--parallel must be a whole number of connections from 2 to 64"),
            (["--auto-converge-initial", "101"], "percent from 1 to 100"),
            (["--compress", "lz4"], "lz4"),
        ] {
            assertOneLineError(try migscope(["migrate", "g", "--from", "test:///default", "--to", "qemu:///system"] + args), status: 2, contains: expected)
        }
    }

    func testPairsThatSetOneThingTwiceAndLiveOnlyOptionsOnANonLiveMigrationAreRefused() throws {
        for (args, expected) in [
            (["--io-floor", "50", "--bandwidth", "5"], "--io-floor sets the stream's cap itself while it runs; drop --bandwidth"),
            (["--downtime-steps", "max=500,steps=5,delay=2", "--max-downtime", "300"], "drop --max-downtime"),
            (["--postcopy", "--parallel", "4"], "QEMU cannot switch a multi-connection migration to post-copy"),
            (["--non-live", "--auto-converge"], "--auto-converge tunes a live migration's pre-copy"),
            (["--link-rate", "1gbit"], "--link-rate is for recording or predicting: add --record or --predict"),
        ] {
            assertOneLineError(try migscope(["migrate", "g", "--from", "test:///default", "--to", "qemu:///system"] + args), status: 2, contains: expected)
        }
    }

    func testTheLibxlBackendRefusesWhatItCannotDoWithTheReason() throws {
        for (flag, value, expected) in [
            ("--io-floor", "50", "--io-floor: libxl has no speed cap to pace the stream with"),
            ("--postcopy", nil, "--postcopy: libxl migrates by pre-copy only"),
            ("--auto-converge", nil, "--auto-converge: libxl cannot throttle"),
            ("--stop-after", "xen", "--stop-after: libxenguest applies its own stop rule"),
        ] as [(String, String?, String)] {
            let args = ["migrate", "g", "--backend", "libxl", "--to", "localhost", flag] + (value.map { [$0] } ?? [])
            assertOneLineError(try migscope(args), status: 2, contains: expected)
        }
    }
}
