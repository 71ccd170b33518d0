// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "migscope",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "migscope", targets: ["migscope"]),
        .library(name: "MigscopeCore", targets: ["MigscopeCore"]),
        .library(name: "Libvirt", targets: ["Libvirt"]),
        .library(name: "MigscopeLibvirt", targets: ["MigscopeLibvirt"]),
        .library(name: "MigscopeLibxl", targets: ["MigscopeLibxl"]),
        .library(name: "MigscopeLab", targets: ["MigscopeLab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C libraries: a module map and a shim header each, nothing else.
        .systemLibrary(
            name: "CLibvirt", path: "CLibvirt", pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]),
        .systemLibrary(
            name: "CLibxl", path: "CLibxl", pkgConfig: "xenlight",
            providers: [.apt(["libxen-dev"])]),

        // The experiment's vocabulary, pure Swift.
        .target(name: "MigscopeCore"),

        // Thin typed Swift over libvirt's C API.
        .target(name: "Libvirt", dependencies: ["CLibvirt"]),
        // Thin typed Swift over libxl's C API.
        .target(name: "Libxl", dependencies: ["CLibxl", .product(name: "Logging", package: "swift-log")]),

        // Backends: translate each C world into core values.
        .target(name: "MigscopeLibvirt", dependencies: ["MigscopeCore", "Libvirt"]),

        // The results database (SQLite through GRDB): runs written as they are recorded.
        // The libxl backend: migscope's own Xen migration protocol over libxl's stream.
        .target(name: "MigscopeLibxl", dependencies: ["MigscopeCore", "Libxl", .product(name: "Crypto", package: "swift-crypto")]),

        .target(name: "MigscopeStore", dependencies: ["MigscopeCore", .product(name: "GRDB", package: "GRDB.swift")]),

        // Exports, analysis tables and (next) figures, from core values only.
        .target(name: "MigscopeReport", dependencies: ["MigscopeCore"]),

        // Batches: YAML plans, their schedule, resuming, and the paper's built-in plans.
        .target(
            name: "MigscopeBatch",
            dependencies: ["MigscopeCore", "MigscopeLab", "MigscopeLibvirt", "MigscopeLibxl", "MigscopeStore", "MigscopeReport", "Yams"],
            resources: [.copy("Plans")]),

        // The embedded lab: namespaces, tc, iSCSI target, daemons, guest.
        .target(name: "MigscopeLab", dependencies: ["MigscopeCore", "Libvirt"]),

        // The command line: parsing and printing only.
        .target(
            name: "MigscopeCLI",
            dependencies: [
                "MigscopeCore", "MigscopeLibvirt", "MigscopeLibxl", "MigscopeLab", "MigscopeStore", "MigscopeReport", "MigscopeBatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "migscope", dependencies: ["MigscopeCLI"]),
        // Benchmarks that print figures (the recorder's cost and sampling fidelity in the lab).
        .executableTarget(name: "migscope-bench", dependencies: ["MigscopeCore", "MigscopeLab", "MigscopeLibvirt", "MigscopeStore", "MigscopeReport"]),

        .testTarget(name: "MigscopeCoreTests", dependencies: ["MigscopeCore"]),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt"]),
        .testTarget(name: "LibxlTests", dependencies: ["Libxl", "MigscopeLibxl", "MigscopeCore"]),
        .testTarget(name: "MigscopeCLITests", dependencies: ["MigscopeCLI", "MigscopeCore", "MigscopeStore"]),
        .testTarget(name: "MigscopeStoreTests", dependencies: ["MigscopeStore", "MigscopeCore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "MigscopeReportTests", dependencies: ["MigscopeReport", "MigscopeCore"]),
        .testTarget(name: "MigscopeBatchTests", dependencies: ["MigscopeBatch", "MigscopeCore", "MigscopeStore"]),
        .testTarget(name: "MigscopeLabTests", dependencies: ["MigscopeLab", "MigscopeCore"]),
        // Needs root, QEMU and debootstrap: boots a real Xen host (see scripts/xen-host).
        .testTarget(name: "XenHostTests", dependencies: ["MigscopeStore", "MigscopeCore"]),
        .testTarget(name: "LabTests", dependencies: ["MigscopeLab", "MigscopeLibvirt", "MigscopeCore", "MigscopeStore", "MigscopeReport", "MigscopeBatch", "Libvirt"]),
    ]
)
