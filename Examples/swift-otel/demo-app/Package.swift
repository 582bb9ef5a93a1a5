// swift-tools-version: 6.1
// A standalone package, so that building Spindle itself never pulls in swift-otel and its gRPC/HTTP stack.
// It lives in Examples/swift-otel/demo-app rather than Examples/swift-otel itself: SwiftPM names a root
// package after its directory, and a root package called swift-otel collides with the swift-otel dependency.
import PackageDescription

let package = Package(
    name: "swift-otel-app",
    // swift-otel's OTLP/gRPC exporter is only available from macOS 15 (grpc-swift 2); Linux has no such floor.
    platforms: [.macOS(.v15)],
    products: [.executable(name: "swift-otel-app", targets: ["SwiftOTelApp"])],
    dependencies: [
        // Both exporters are behind package traits; they are on by default, listed here so it's clear they're needed.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPGRPC", "OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "SwiftOTelApp",
            dependencies: [
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
