// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "plumb",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "plumb", targets: ["plumb"]),
        .library(name: "PlumbKit", targets: ["PlumbKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSystemd", path: "Sources/CSystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(
            name: "CImageCodecs", path: "Sources/CImageCodecs", providers: [.apt(["libpng-dev", "libjpeg-dev"])]),
        .target(
            name: "PlumbAPI",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbKit",
            dependencies: [
                "PlumbAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbStore",
            dependencies: [
                "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbMetrics",
            dependencies: [
                "PlumbAPI",
                "PlumbStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbIAM",
            dependencies: [
                "PlumbAPI", "PlumbAuth", "PlumbStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbOpen",
            dependencies: [
                "PlumbAPI", "PlumbMetrics", "PlumbLogs", "PlumbStore",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbVictoriaMetrics",
            dependencies: [
                "PlumbAPI", "PlumbMetrics",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbPostgres",
            dependencies: [
                "PlumbAPI", "PlumbMetrics", "PlumbLogs", "PlumbAlarms", "PlumbNotify", "PlumbStore", "PlumbHost",
                "PlumbIAM",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbLogs",
            dependencies: [
                "PlumbAPI",
                "PlumbStore", "PlumbMetrics", "CSystemd",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbNotify",
            dependencies: [
                "PlumbAPI",
                "PlumbStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbAlarms",
            dependencies: [
                "PlumbAPI",
                "PlumbMetrics", "PlumbStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbHost",
            dependencies: [
                "PlumbAPI",
                "PlumbKit", "PlumbMetrics", "PlumbStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbAWS",
            dependencies: [
                "PlumbAPI", "PlumbAuth", "PlumbMetrics", "PlumbAlarms", "PlumbLogs", "PlumbNotify", "PlumbStore",
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbServer",
            dependencies: [
                "PlumbAPI",
                "PlumbAuth", "PlumbIAM", "PlumbOpen", "PlumbAWS",
                "PlumbKit", "PlumbStore", "PlumbMetrics", "PlumbHost", "PlumbAlarms", "PlumbNotify", "PlumbLogs",
                "PlumbVictoriaMetrics", "PlumbPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Sentiment",
            dependencies: ["PlumbKit", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Plugins/Sentiment",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Chat",
            dependencies: [
                "PlumbKit", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Plugins/Chat",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Classifier",
            // Decodes uploaded PNG and JPEG images itself (libpng, libjpeg): no other plugin needs the codecs.
            dependencies: [
                "PlumbKit", "CImageCodecs", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Plugins/Classifier",
            // Training loops are hot even in debug builds (the test suite trains real models).
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"])]
        ),
        .target(
            name: "Sensors",
            dependencies: [
                "PlumbKit", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Plugins/Sensors",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Accounts",
            dependencies: [
                "PlumbKit", "PlumbAuth", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/Accounts",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Documents",
            dependencies: [
                "PlumbKit", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Plugins/Documents",
            // k-means and the silhouette are hot loops even in debug builds (the suite clusters a real corpus).
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"])]
        ),
        .target(
            name: "Support",
            // The support bot's intents are a YAML file it decodes itself.
            dependencies: [
                "PlumbKit", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams"),
            ],
            path: "Plugins/Support",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "plumb",
            dependencies: [
                "PlumbAPI", "PlumbLoad", "PlumbDash", "Accounts", "PlumbAuth", "PlumbServer", "PlumbMetrics",
                "PlumbVictoriaMetrics", "PlumbPostgres", "PlumbOpen", "PlumbStore",
                "PlumbHost", "PlumbKit", "PlumbAlarms", "PlumbLogs", "Sentiment", "Chat", "Support", "Classifier",
                "Sensors", "Documents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbAuth",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"])]
        ),
        .target(
            name: "PlumbDash",
            // Talks to a server only through PlumbAPI over HTTP: no metric store, no GRDB, no SQLite.
            dependencies: [
                "PlumbAPI",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlumbLoad",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"])]
        ),
        // Test helpers. PlumbTesting is the light core every test target may use: JSON, waiting for a condition,
        // temporary directories, HTTP and raw-socket clients, child processes (peers, Alertmanager, the built `plumb`
        // binary as a process). It links no Plumb module, so a test target that uses it rebuilds only for its own code.
        .target(
            name: "PlumbTesting",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Tests/PlumbTesting",
            swiftSettings: swiftSettings
        ),
        // Plugins for host and server tests (a probe that sleeps, fails or echoes; one with slow cold starts).
        .target(
            name: "PlumbPluginTesting",
            dependencies: ["PlumbKit", "PlumbTesting"],
            path: "Tests/PlumbPluginTesting",
            swiftSettings: swiftSettings
        ),
        // The in-process server harness (`withTestServer`): only for tests that need PlumbServer itself.
        .target(
            name: "PlumbServerTesting",
            dependencies: [
                "PlumbServer", "PlumbMetrics", "PlumbKit", "PlumbPluginTesting", "PlumbTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Tests/PlumbServerTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbAPITests",
            dependencies: ["PlumbAPI", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbKitTests",
            dependencies: ["PlumbKit", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbCLITests",
            // The `plumb` executable's pure helpers (@testable import of the executable target) and the built binary.
            dependencies: ["plumb", "PlumbAPI", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbLoadTests",
            dependencies: [
                "PlumbLoad", "PlumbTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbStoreTests",
            dependencies: ["PlumbStore", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbMetricsTests",
            dependencies: [
                "PlumbMetrics", "PlumbAPI", "PlumbStore", "PlumbTesting", "PlumbVictoriaMetrics",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbPostgresTests",
            dependencies: ["PlumbPostgres", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbOpenTests",
            dependencies: [
                "PlumbOpen", "PlumbMetrics", "PlumbAPI", "PlumbStore", "PlumbTesting",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbIAMTests",
            dependencies: ["PlumbIAM", "PlumbAuth", "PlumbAPI", "PlumbStore", "PlumbPostgres", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbAuthTests",
            dependencies: ["PlumbAuth", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbDashTests",
            dependencies: ["PlumbDash", "PlumbAPI", "PlumbMetrics", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbAlarmsTests",
            // The alert-file tests read YAML through the server's loader (AlertFileParser).
            dependencies: [
                "PlumbAlarms", "PlumbAPI", "PlumbMetrics", "PlumbNotify", "PlumbServer", "PlumbPostgres",
                "PlumbTesting",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbLogsTests",
            dependencies: [
                "PlumbLogs", "PlumbAPI", "PlumbMetrics", "PlumbStore", "PlumbPostgres", "PlumbTesting",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbNotifyTests",
            dependencies: [
                "PlumbNotify", "PlumbAPI", "PlumbStore", "PlumbPostgres", "PlumbTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbHostTests",
            dependencies: [
                "PlumbHost", "PlumbKit", "PlumbAPI", "PlumbMetrics", "PlumbStore", "PlumbPostgres",
                "PlumbPluginTesting",
                "PlumbTesting",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlumbServerTests",
            dependencies: [
                "Accounts", "PlumbServer", "PlumbServerTesting", "PlumbPluginTesting", "PlumbTesting", "PlumbOpen",
                "PlumbAWS", "PlumbAuth", "PlumbStore", "Sentiment", "Chat", "Support", "Classifier", "Sensors",
                "Documents",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ClassifierTests",
            dependencies: ["Classifier", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SupportTests",
            dependencies: ["Support", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SentimentTests",
            dependencies: ["Sentiment", "PlumbTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DocumentsTests",
            dependencies: [
                "Documents", "Classifier", "PlumbTesting", "PlumbServerTesting", "PlumbKit", "PlumbServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["entities-gold.json", "kmeans_reference.py"],
            swiftSettings: swiftSettings
        ),
    ]
)
