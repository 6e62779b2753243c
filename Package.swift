// swift-tools-version:6.0
// pfutures: a parallel job runner (CLI) over an executor core with
// concurrent.futures semantics. Imports point one way:
// CLI -> Jobs -> ProcessPool -> FuturesCore.
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "pfutures",
    products: [
        // `import Futures` is the whole library. The core (FuturesCore) is a
        // target of its own without Foundation, which the process pool needs
        // for JSON; pfutures uses only the core and so starts fast.
        .library(name: "Futures", targets: ["Futures"]),
        .executable(name: "pfutures", targets: ["pfutures"]),
    ],
    targets: [
        .target(name: "CPopt", linkerSettings: [.linkedLibrary("popt")]),
        .target(name: "CSpawn"),
        .target(name: "FuturesCore", swiftSettings: strict),
        // The one process pool and its worker protocol, below Foundation.
        .target(name: "ProcessPool", dependencies: ["FuturesCore", "CSpawn"], swiftSettings: strict),
        .target(name: "Futures", dependencies: ["FuturesCore", "ProcessPool", "Jobs"], swiftSettings: strict),
        .target(name: "Jobs", dependencies: ["ProcessPool", "FuturesCore", "CSpawn"], swiftSettings: strict),
        .target(name: "PfuturesCLI", dependencies: ["Jobs", "ProcessPool", "FuturesCore", "CPopt"], swiftSettings: strict),
        .executableTarget(name: "pfutures", dependencies: ["PfuturesCLI"], swiftSettings: strict),
        .executableTarget(name: "futures-bench", dependencies: ["FuturesCore"], path: "bench/FuturesBench",
                          swiftSettings: strict),
        .testTarget(name: "FuturesTests", dependencies: ["Futures", "TaskFixtures", "task-worker"],
                    swiftSettings: strict),
        .target(name: "TaskFixtures", dependencies: ["Futures"], path: "Tests/TaskFixtures",
                swiftSettings: strict),
        .executableTarget(name: "task-worker", dependencies: ["TaskFixtures", "Futures"],
                          path: "Tests/TaskWorker", swiftSettings: strict),
        .testTarget(name: "ProcessPoolExecutorTests",
                    dependencies: ["Futures", "TaskFixtures", "task-worker"], swiftSettings: strict),
        // The README's Futures guide as a program, checked against the README.
        .executableTarget(name: "guide-example", dependencies: ["Futures"], path: "Tests/GuideExample",
                          swiftSettings: strict),
        .testTarget(name: "GuideTests", dependencies: ["guide-example"], swiftSettings: strict),
        .testTarget(name: "JobsTests", dependencies: ["Jobs"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["PfuturesCLI"], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["pfutures"], swiftSettings: strict),
    ]
)
