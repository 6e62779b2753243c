// swift-tools-version:6.0
// pfutures: a parallel job runner (CLI) over an executor core with
// concurrent.futures semantics. Imports point one way: CLI -> Jobs -> Futures.
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "pfutures",
    products: [
        // ProcessPoolExecutor has a target of its own because it needs
        // Foundation (JSON for Codable tasks); programs that use only threads,
        // pfutures among them, then do not link Foundation.
        .library(name: "Futures", targets: ["Futures", "FuturesProcessPool"]),
        .executable(name: "pfutures", targets: ["pfutures"]),
    ],
    targets: [
        .target(name: "CPopt", linkerSettings: [.linkedLibrary("popt")]),
        .target(name: "CSpawn"),
        .target(name: "Futures", swiftSettings: strict),
        .target(name: "FuturesProcessPool", dependencies: ["Futures"], swiftSettings: strict),
        .target(name: "Jobs", dependencies: ["Futures", "CSpawn"], swiftSettings: strict),
        .target(name: "PfuturesCLI", dependencies: ["Jobs", "Futures", "CPopt"], swiftSettings: strict),
        .executableTarget(name: "pfutures", dependencies: ["PfuturesCLI"], swiftSettings: strict),
        .executableTarget(name: "futures-bench", dependencies: ["Futures"], path: "bench/FuturesBench",
                          swiftSettings: strict),
        .testTarget(name: "FuturesTests", dependencies: ["Futures", "FuturesProcessPool", "TaskFixtures", "task-worker"],
                    swiftSettings: strict),
        .target(name: "TaskFixtures", dependencies: ["FuturesProcessPool"], path: "Tests/TaskFixtures",
                swiftSettings: strict),
        .executableTarget(name: "task-worker", dependencies: ["TaskFixtures", "FuturesProcessPool"],
                          path: "Tests/TaskWorker", swiftSettings: strict),
        .testTarget(name: "FuturesProcessPoolTests",
                    dependencies: ["FuturesProcessPool", "TaskFixtures", "task-worker"], swiftSettings: strict),
        .testTarget(name: "JobsTests", dependencies: ["Jobs"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["PfuturesCLI"], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["pfutures"], swiftSettings: strict),
    ]
)
