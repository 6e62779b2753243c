// swift-tools-version:6.0
// pfutures: a parallel job runner (CLI) over an executor core with
// concurrent.futures semantics. Imports point one way: CLI -> Jobs -> Futures.
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "pfutures",
    products: [
        .library(name: "Futures", targets: ["Futures"]),
        .executable(name: "pfutures", targets: ["pfutures"]),
    ],
    targets: [
        .target(name: "CPopt", linkerSettings: [.linkedLibrary("popt")]),
        .target(name: "CSpawn"),
        .target(name: "Futures", swiftSettings: strict),
        .target(name: "Jobs", dependencies: ["Futures", "CSpawn"], swiftSettings: strict),
        .target(name: "PfuturesCLI", dependencies: ["Jobs", "Futures", "CPopt"], swiftSettings: strict),
        .executableTarget(name: "pfutures", dependencies: ["PfuturesCLI"], swiftSettings: strict),
        .executableTarget(name: "futures-bench", dependencies: ["Futures"], path: "bench/FuturesBench",
                          swiftSettings: strict),
        .testTarget(name: "FuturesTests", dependencies: ["Futures"], swiftSettings: strict),
        .testTarget(name: "JobsTests", dependencies: ["Jobs"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["PfuturesCLI"], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["pfutures"], swiftSettings: strict),
    ]
)
