// swift-tools-version:6.1
import PackageDescription

// Kept out of the main package so that its graph stays lean; builds against the codecs and samples only.
let package = Package(
    name: "SpindleBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "spindle-load",
            dependencies: [
                .product(name: "SpindleCodec", package: "Spindle"),
                .product(name: "SpindleSamples", package: "Spindle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/SpindleLoad")
    ]
)
