// swift-tools-version:5.10
// secura-dist: SECURA and PEFT fine-tuning of decoder LLMs on CPU clusters over MPI.
import PackageDescription

// The numeric library modules are compiled with -O also in debug builds: `swift test` runs SmolLM2 forwards,
// training steps and merges whose element-wise loops are 20-50 times slower unoptimised (a 250-token SmolLM2
// forward took 16 s). -O keeps Swift's IEEE semantics (no reassociation, no fused multiply-add), so results are
// the bits a release build computes; debug builds keep -enable-testing, so @testable imports still work. What
// these modules lose in debug builds is what release builds lose: `assert` checks (preconditions stay).
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "secura-dist",
    products: [
        .executable(name: "secura-dist", targets: ["secura-dist"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Native shims: headers and link flags only (pkg-config names from Debian's -dev packages).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CScaLAPACK", path: "Sources/CScaLAPACK", pkgConfig: "scalapack-openmpi",
                       providers: [.apt(["libscalapack-openmpi-dev"])]),

        // Error categories and exit statuses: no dependencies, so every module can conform.
        .target(name: "SecuraErrors", dependencies: []),
        .target(name: "SecuraTensor", dependencies: ["CBLAS", "SecuraErrors"], swiftSettings: optimisedInDebug),
        .target(name: "SecuraKernels", dependencies: ["SecuraTensor"], swiftSettings: optimisedInDebug),
        .target(name: "SecuraIO", dependencies: ["SecuraTensor", "SecuraErrors"], swiftSettings: optimisedInDebug),
        .target(name: "SecuraTemplate", dependencies: ["SecuraErrors"]),
        .target(name: "SecuraTokenizer", dependencies: ["SecuraTemplate", "SecuraIO", "SecuraErrors"], swiftSettings: optimisedInDebug),
        .target(name: "SecuraData", dependencies: ["SecuraModel", "SecuraTokenizer", "SecuraIO", "SecuraTensor", "SecuraErrors"], swiftSettings: optimisedInDebug),
        .target(name: "SecuraModel", dependencies: ["SecuraTensor", "SecuraKernels", "SecuraIO", "SecuraErrors"], swiftSettings: optimisedInDebug),
        .target(name: "SecuraAdapters", dependencies: ["SecuraTensor", "SecuraKernels", "SecuraModel", "SecuraDistributed", "SecuraErrors"], swiftSettings: optimisedInDebug),
        .target(name: "SecuraDistributed", dependencies: ["SecuraErrors"]),
        .target(name: "SecuraTrain", dependencies: ["SecuraTensor", "SecuraModel", "SecuraAdapters", "SecuraDistributed", "SecuraIO", "SecuraErrors"], swiftSettings: optimisedInDebug),
        // LAPACK (OpenBLAS bundles it) for single-process code: no MPI in its link.
        .target(name: "SecuraLinAlg", dependencies: ["CBLAS", "SecuraDistributed", "SecuraErrors"], swiftSettings: optimisedInDebug),
        .target(name: "SecuraMPI", dependencies: ["CMPI", "CScaLAPACK", "CBLAS", "SecuraDistributed", "SecuraLinAlg", "SecuraErrors"]),
        .target(name: "SecuraMetrics", dependencies: [], swiftSettings: optimisedInDebug),
        .target(name: "SecuraEval", dependencies: ["SecuraMetrics", "SecuraData", "SecuraModel", "SecuraTokenizer", "SecuraDistributed"], swiftSettings: optimisedInDebug),
        // The library run API: configuration values, a loaded-model context, training/evaluation/experiment runs
        // reporting events to a callback, and summary.json. The executable only parses flags and prints.
        .target(name: "SecuraRun", dependencies: [
            "SecuraTensor", "SecuraIO", "SecuraModel", "SecuraAdapters", "SecuraDistributed", "SecuraTrain",
            "SecuraTokenizer", "SecuraData", "SecuraEval", "SecuraErrors"], swiftSettings: optimisedInDebug),
        .executableTarget(name: "secura-dist", dependencies: [
            "SecuraTensor", "SecuraKernels", "SecuraIO", "SecuraModel", "SecuraDistributed", "SecuraMPI", "SecuraLinAlg", "SecuraAdapters", "SecuraTrain",
            "SecuraTokenizer", "SecuraTemplate", "SecuraData", "SecuraMetrics", "SecuraEval", "SecuraRun", "SecuraErrors",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // libFuzzer targets, one per parser of untrusted bytes (Fuzz/<name>/). Only launch/fuzz.sh builds
        // them as fuzzers (-DFUZZING -sanitize=fuzzer,address); a normal build makes stubs that say so.
        .target(name: "FuzzSupport", dependencies: [], path: "Fuzz/Support"),
        .executableTarget(name: "fuzz-gguf", dependencies: ["FuzzSupport", "SecuraIO", "SecuraModel", "SecuraData", "SecuraTokenizer"], path: "Fuzz/gguf"),
        .executableTarget(name: "fuzz-safetensors", dependencies: ["FuzzSupport", "SecuraIO"], path: "Fuzz/safetensors"),
        .executableTarget(name: "fuzz-config", dependencies: ["FuzzSupport", "SecuraModel"], path: "Fuzz/config"),
        .executableTarget(name: "fuzz-tokenizer", dependencies: ["FuzzSupport", "SecuraTokenizer"], path: "Fuzz/tokenizer"),
        .executableTarget(name: "fuzz-tokenizer-config", dependencies: ["FuzzSupport", "SecuraTokenizer"], path: "Fuzz/tokenizer-config"),
        .executableTarget(name: "fuzz-jsonl", dependencies: ["FuzzSupport", "SecuraData"], path: "Fuzz/jsonl"),
        .executableTarget(name: "fuzz-bigbench", dependencies: ["FuzzSupport", "SecuraData"], path: "Fuzz/bigbench"),
        .executableTarget(name: "fuzz-toml", dependencies: ["FuzzSupport", "SecuraIO"], path: "Fuzz/toml"),
        .executableTarget(name: "fuzz-state", dependencies: ["FuzzSupport", "SecuraTrain"], path: "Fuzz/state"),
        .executableTarget(name: "fuzz-adapter-config", dependencies: ["FuzzSupport", "SecuraTrain"], path: "Fuzz/adapter-config"),

        .target(name: "TestSupport", dependencies: ["SecuraTensor", "SecuraIO"], path: "Tests/TestSupport"),
        .testTarget(name: "SecuraErrorsTests", dependencies: ["SecuraErrors"]),
        .testTarget(name: "SecuraTensorTests", dependencies: ["SecuraTensor", "TestSupport"]),
        .testTarget(name: "SecuraKernelsTests", dependencies: ["SecuraKernels", "TestSupport"]),
        .testTarget(name: "SecuraIOTests", dependencies: ["SecuraIO", "TestSupport"]),
        .testTarget(name: "SecuraTemplateTests", dependencies: ["SecuraTemplate"]),
        .testTarget(name: "SecuraTokenizerTests", dependencies: ["SecuraTokenizer", "SecuraTemplate"]),
        .testTarget(name: "SecuraDataTests", dependencies: ["SecuraData", "TestSupport"]),
        .testTarget(name: "SecuraModelTests", dependencies: ["SecuraModel", "TestSupport"]),
        .testTarget(name: "SecuraAdaptersTests", dependencies: ["SecuraAdapters", "TestSupport"]),
        .testTarget(name: "SecuraTrainTests", dependencies: ["SecuraTrain", "SecuraLinAlg", "SecuraErrors", "TestSupport"]),
        .testTarget(name: "SecuraDistributedTests", dependencies: ["SecuraDistributed", "SecuraErrors"]),
        .testTarget(name: "SecuraMetricsTests", dependencies: ["SecuraMetrics"]),
        .testTarget(name: "SecuraEvalTests", dependencies: ["SecuraEval", "TestSupport"]),
        .testTarget(name: "SecuraRunTests", dependencies: ["SecuraRun", "SecuraAdapters", "SecuraTrain", "SecuraModel", "SecuraIO", "SecuraDistributed", "TestSupport"]),
    ]
)
