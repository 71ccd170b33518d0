// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "migscope",
    products: [
        .executable(name: "migscope", targets: ["migscope"]),
        .library(name: "MigscopeCore", targets: ["MigscopeCore"]),
        .library(name: "Libvirt", targets: ["Libvirt"]),
        .library(name: "MigscopeLibvirt", targets: ["MigscopeLibvirt"]),
        .library(name: "MigscopeLibxl", targets: ["MigscopeLibxl"]),
        .library(name: "MigscopeLab", targets: ["MigscopeLab"]),
        .library(name: "MigscopeStore", targets: ["MigscopeStore"]),
        .library(name: "MigscopeReport", targets: ["MigscopeReport"]),
        .library(name: "MigscopeMetrics", targets: ["MigscopeMetrics"]),
        // A migration (recorded or not) from Swift code, wired as the CLI and batches wire it.
        .library(name: "MigscopeExperiment", targets: ["MigscopeExperiment"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // C libraries: a module map and a shim header each, nothing else.
        .systemLibrary(
            name: "CLibvirt", path: "CLibvirt", pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]),
        .systemLibrary(
            name: "CLibxl", path: "CLibxl", pkgConfig: "xenlight",
            providers: [.apt(["libxen-dev"])]),
        .systemLibrary(
            name: "CLibcrypto", path: "CLibcrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        // The experiment's vocabulary, pure Swift on Foundation: requests, rounds, samples, traces,
        // plans, analysis, statistics. Knows no hypervisor, no C, no files.
        .target(name: "MigscopeCore"),
        // Readers of this machine's files for a recording: /proc/net/dev counters, console logs.
        .target(name: "MigscopeProbes", dependencies: ["MigscopeCore"]),

        // Blocking C calls on threads of their own, off Swift's cooperative pool (both wrappers).
        .target(name: "BlockingCall"),
        // Thin typed Swift over libvirt's C API.
        .target(name: "Libvirt", dependencies: ["CLibvirt", "BlockingCall"]),
        // Thin typed Swift over libxl's C API.
        .target(name: "Libxl", dependencies: ["CLibxl", .product(name: "Logging", package: "swift-log")]),

        // The backends translate each C world into core values. The libvirt backend: any
        // hypervisor libvirt drives, hosts named by libvirt URIs.
        .target(name: "MigscopeLibvirt", dependencies: ["MigscopeCore", "MigscopeProbes", "Libvirt"]),

        // The libxl backend: migscope's own Xen migration protocol over libxl's stream.
        .target(name: "MigscopeLibxl", dependencies: [
            "MigscopeCore", "MigscopeProbes", "Libxl", "BlockingCall", "CLibcrypto",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        // The results database (SQLite through GRDB): runs written as they are recorded.
        .target(name: "MigscopeStore", dependencies: ["MigscopeCore", .product(name: "GRDB", package: "GRDB.swift")]),

        // Exports, tables, gnuplot figures and the HTML report, from core values only.
        .target(name: "MigscopeReport", dependencies: ["MigscopeCore"]),

        // The one place a migration is wired up: backend choice, session, recorder, run facts.
        .target(name: "MigscopeExperiment", dependencies: ["MigscopeCore", "MigscopeProbes", "MigscopeLab", "MigscopeLibvirt", "MigscopeLibxl"]),

        // Batches: YAML plans, their schedule, resuming, and the paper's built-in plans.
        .target(
            name: "MigscopeBatch",
            dependencies: ["MigscopeCore", "MigscopeExperiment", "MigscopeLab", "MigscopeLibvirt", "MigscopeLibxl", "MigscopeStore", "MigscopeReport", "Yams"],
            resources: [.copy("Plans")]),

        // Live metrics in Prometheus' text format (swift-metrics handles on swift-prometheus'
        // registry), served at /metrics (FlyingFox) and/or written to a file for node_exporter.
        .target(name: "MigscopeMetrics", dependencies: [
            "MigscopeCore", .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "FlyingFox", package: "FlyingFox"), .product(name: "FlyingSocks", package: "FlyingFox"),
        ]),

        // The embedded lab: namespaces, tc, iSCSI target, daemons, guest.
        .target(name: "MigscopeLab", dependencies: ["MigscopeCore", "MigscopeProbes", "Libvirt"]),

        // The command line: parsing and printing only.
        .target(
            name: "MigscopeCLI",
            dependencies: [
                "MigscopeCore", "MigscopeExperiment", "MigscopeLibvirt", "MigscopeLibxl", "MigscopeLab", "MigscopeStore", "MigscopeReport", "MigscopeBatch", "MigscopeMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "migscope", dependencies: ["MigscopeCLI"]),
        // Benchmarks that print figures (the recorder's cost and sampling fidelity in the lab).
        .executableTarget(name: "migscope-bench", dependencies: ["MigscopeCore", "MigscopeProbes", "MigscopeLab", "MigscopeLibvirt", "MigscopeExperiment", "MigscopeStore", "MigscopeReport"]),

        .testTarget(name: "MigscopeCoreTests", dependencies: ["MigscopeCore"]),
        .testTarget(name: "MigscopeProbesTests", dependencies: ["MigscopeProbes", "MigscopeCore"]),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt"]),
        .testTarget(name: "LibxlTests", dependencies: ["Libxl"]),
        .testTarget(name: "MigscopeLibvirtTests", dependencies: ["MigscopeLibvirt", "MigscopeExperiment", "MigscopeCore"]),
        .testTarget(name: "MigscopeLibxlTests", dependencies: ["MigscopeLibxl", "Libxl", "MigscopeCore"]),
        .testTarget(name: "MigscopeCLITests", dependencies: ["MigscopeCLI", "MigscopeCore", "MigscopeStore"]),
        .testTarget(name: "MigscopeStoreTests", dependencies: ["MigscopeStore", "MigscopeCore", "MigscopeReport", .product(name: "GRDB", package: "GRDB.swift")],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "MigscopeMetricsTests", dependencies: ["MigscopeMetrics", "MigscopeCore"]),
        .testTarget(name: "MigscopeReportTests", dependencies: ["MigscopeReport", "MigscopeCore"]),
        .testTarget(name: "MigscopeBatchTests", dependencies: ["MigscopeBatch", "MigscopeExperiment", "MigscopeCore", "MigscopeStore"]),
        // Pure parts of the lab (shaping commands, settings): no root needed.
        .testTarget(name: "MigscopeLabTests", dependencies: ["MigscopeLab", "MigscopeCore"]),
        // Needs root, QEMU and debootstrap: boots a real Xen host (see scripts/xen-host).
        .testTarget(name: "XenHostTests", dependencies: ["MigscopeStore", "MigscopeCore"]),
        // Needs root: builds the real lab (namespaces, tc, tgt, libvirtd, QEMU) and migrates in it;
        // MainJobTests checks the README's main command's output (scripts/test.sh stage 3).
        .testTarget(name: "LabIntegrationTests", dependencies: ["MigscopeLab", "MigscopeProbes", "MigscopeLibvirt", "MigscopeCore", "MigscopeStore", "MigscopeReport", "MigscopeBatch", "Libvirt"]),
    ]
)
