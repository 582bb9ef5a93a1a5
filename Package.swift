// swift-tools-version:6.1
import PackageDescription

// Modules follow the data flow; none imports one further down:
// C bindings -> SpindleModel -> SpindleCodec -> SpindleStore -> SpindleServer -> spindle (CLI).
let package = Package(
    name: "Spindle",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "spindle", targets: ["SpindleCLI"]),
        .library(name: "SpindleTesting", targets: ["SpindleTesting"]),
        // For Benchmarks/ (a separate package): the codecs, the store and the sample workloads, without the server.
        .library(name: "SpindleCodec", targets: ["SpindleCodec"]),
        .library(name: "SpindleStore", targets: ["SpindleStore"]),
        .library(name: "SpindleSamples", targets: ["SpindleSamples"]),
        .library(name: "SpindleLLM", targets: ["SpindleLLM"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.0"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.0"),
        // Already resolved through the gRPC transport; used for SHA-256 (prompt version hashes).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // protoc-c output for Proto/*.proto (Scripts/generate-proto) plus our arena and depth check.
        .target(name: "COTLP", dependencies: ["CProtobufC"]),

        // The span model: value types only, no I/O, no wire formats.
        .target(name: "SpindleModel"),
        // Trace trees: spans (any order, parents missing, duplicated, several, cyclic) into a forest.
        .target(name: "SpindleTree"),
        // OTLP protobuf (through protobuf-c) and OTLP JSON, to and from the model.
        .target(name: "SpindleCodec", dependencies: ["SpindleModel", "COTLP", "CZlib"]),
        // LLM calls in spans: the conventions, the price table, prompt identity, monitor events.
        .target(
            name: "SpindleLLM",
            dependencies: ["SpindleModel", "SpindleCodec", .product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Resources/prices.json")]),
        // SQLite: schema, migrations, the group-committing writer, readers.
        .target(
            name: "SpindleStore",
            dependencies: [
                "SpindleModel", "SpindleCodec", "SpindleLLM", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // One trace out: tree JSON, OTLP, Braintrust, Perfetto, HTML and the terminal waterfall.
        .target(
            name: "SpindleExport", dependencies: ["SpindleModel", "SpindleCodec", "SpindleStore", "SpindleTree", "SpindleLLM"]),
        // OTLP/HTTP receiver and health endpoint on Hummingbird.
        .target(
            name: "SpindleServer",
            dependencies: [
                "SpindleModel", "SpindleCodec", "SpindleStore", "SpindleTree", "SpindleExport", "SpindleLLM",
                "SpindleMetrics",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Counters for GET /metrics (Prometheus text format).
        .target(name: "SpindleMetrics", dependencies: [.product(name: "Prometheus", package: "swift-prometheus")]),
        // Forwarding upstream from the outbox: OTLP/HTTP and the vendor APIs, with retries and dead letters.
        .target(
            name: "SpindleForward",
            dependencies: [
                "SpindleStore", "SpindleCodec", "SpindleModel", "SpindleExport", "SpindleLLM", "SpindleMetrics",
                "SpindleGRPC",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // OTLP/gRPC receiver (grpc-swift-2 with its NIO HTTP/2 transport; raw-bytes messages).
        .target(
            name: "SpindleGRPC",
            dependencies: [
                "SpindleCodec", "SpindleModel", "SpindleStore", "SpindleServer", "SpindleMetrics",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Deterministic sample traces: every field, small spans, LLM-heavy spans (tests and benchmarks).
        .target(name: "SpindleSamples", dependencies: ["SpindleModel"]),
        // Starts a real Spindle on an ephemeral port with a temporary database, and talks to it.
        .target(
            name: "SpindleTesting",
            dependencies: [
                "SpindleServer", "SpindleGRPC", "SpindleStore", "SpindleCodec", "SpindleModel", "SpindleSamples",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]),
        .executableTarget(
            name: "SpindleCLI",
            dependencies: [
                "SpindleServer", "SpindleGRPC", "SpindleStore", "SpindleCodec", "SpindleModel", "SpindleExport",
                "SpindleTree", "SpindleLLM", "SpindleForward", "SpindleMetrics",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),

        // libFuzzer target for the network-facing decoders (make fuzz).
        .executableTarget(name: "SpindleFuzz", dependencies: ["SpindleCodec"]),

        .testTarget(name: "SpindleModelTests", dependencies: ["SpindleModel"]),
        .testTarget(name: "SpindleTreeTests", dependencies: ["SpindleTree"]),
        .testTarget(name: "SpindleLLMTests", dependencies: ["SpindleLLM", "SpindleModel", "SpindleCodec"]),
        .testTarget(
            name: "SpindleExportTests",
            dependencies: ["SpindleExport", "SpindleStore", "SpindleCodec", "SpindleModel", "SpindleTesting"]),
        .testTarget(
            name: "SpindleCodecTests",
            dependencies: [
                "SpindleCodec", "SpindleModel", "SpindleTesting",
                .product(name: "CompressNIO", package: "compress-nio"), .product(name: "NIOCore", package: "swift-nio"),
            ]),
        .testTarget(name: "SpindleStoreTests", dependencies: ["SpindleStore", "SpindleCodec", "SpindleModel", "SpindleTesting"]),
        .testTarget(
            name: "SpindleServerTests",
            dependencies: [
                "SpindleTesting", "SpindleServer", "SpindleStore", "SpindleCodec", "SpindleModel",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]),
    ]
)
