// swift-tools-version:6.1
import PackageDescription

/// One set of compiler settings for every target: Swift 6 mode with the upcoming features the house style relies on.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A library target: one room of the house (a service, a contract, shared infrastructure).
func library(
    _ name: String, _ dependencies: [Target.Dependency], path: String? = nil, exclude: [String] = []
) -> Target {
    .target(name: name, dependencies: dependencies, path: path, exclude: exclude, swiftSettings: swiftSettings)
}

/// An executable target; its sources are in `Sources/<name>` unless `path` says otherwise.
func executable(_ name: String, _ dependencies: [Target.Dependency], path: String? = nil) -> Target {
    .executableTarget(name: name, dependencies: dependencies, path: path, swiftSettings: swiftSettings)
}

/// A test target; its sources are in `Tests/<name>`.
func tests(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .testTarget(name: name, dependencies: dependencies, swiftSettings: swiftSettings)
}

/// The products of other packages the targets use, named as they are imported.
extension Target.Dependency {
    static let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
    static let asyncHTTPClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
    static let asyncKit = Target.Dependency.product(name: "AsyncKit", package: "async-kit")
    static let configuration = Target.Dependency.product(name: "Configuration", package: "swift-configuration")
    static let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
    static let dequeModule = Target.Dependency.product(name: "DequeModule", package: "swift-collections")
    static let fluentKit = Target.Dependency.product(name: "FluentKit", package: "fluent-kit")
    static let fluentPostgresDriver = Target.Dependency.product(
        name: "FluentPostgresDriver", package: "fluent-postgres-driver")
    static let fluentSQLiteDriver = Target.Dependency.product(
        name: "FluentSQLiteDriver", package: "fluent-sqlite-driver")
    static let grpcCore = Target.Dependency.product(name: "GRPCCore", package: "grpc-swift-2")
    static let grpcHTTP2Transport = Target.Dependency.product(
        name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport")
    static let grpcInProcessTransport = Target.Dependency.product(
        name: "GRPCInProcessTransport", package: "grpc-swift-2")
    static let grpcProtobuf = Target.Dependency.product(name: "GRPCProtobuf", package: "grpc-swift-protobuf")
    static let httpTypes = Target.Dependency.product(name: "HTTPTypes", package: "swift-http-types")
    static let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
    static let hummingbirdBcrypt = Target.Dependency.product(name: "HummingbirdBcrypt", package: "hummingbird-auth")
    static let hummingbirdTesting = Target.Dependency.product(name: "HummingbirdTesting", package: "hummingbird")
    static let jwtKit = Target.Dependency.product(name: "JWTKit", package: "jwt-kit")
    static let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
    static let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
    static let mustache = Target.Dependency.product(name: "Mustache", package: "swift-mustache")
    static let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
    static let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
    static let nioHTTPTypes = Target.Dependency.product(name: "NIOHTTPTypes", package: "swift-nio-extras")
    static let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
    static let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
    static let otel = Target.Dependency.product(name: "OTel", package: "swift-otel")
    static let otelSemanticConventions = Target.Dependency.product(
        name: "OTelSemanticConventions", package: "swift-otel-semantic-conventions")
    static let openAPIHummingbird = Target.Dependency.product(
        name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird")
    static let openAPIRuntime = Target.Dependency.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")
    static let postgresNIO = Target.Dependency.product(name: "PostgresNIO", package: "postgres-nio")
    static let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
    static let serviceLifecycle = Target.Dependency.product(
        name: "ServiceLifecycle", package: "swift-service-lifecycle")
    static let serviceLifecycleTestKit = Target.Dependency.product(
        name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")
    static let sqlKit = Target.Dependency.product(name: "SQLKit", package: "sql-kit")
    static let swiftASN1 = Target.Dependency.product(name: "SwiftASN1", package: "swift-asn1")
    static let swiftProtobuf = Target.Dependency.product(name: "SwiftProtobuf", package: "swift-protobuf")
    static let tracing = Target.Dependency.product(name: "Tracing", package: "swift-distributed-tracing")
    static let inMemoryTracing = Target.Dependency.product(
        name: "InMemoryTracing", package: "swift-distributed-tracing")
    static let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
    static let x509 = Target.Dependency.product(name: "X509", package: "swift-certificates")
}

let package = Package(
    name: "rahat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rahat", targets: ["rahat"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0"),
        // The RPC and messaging names are still experimental upstream; the trait needs a minor-version pin.
        .package(
            url: "https://github.com/swift-otel/swift-otel-semantic-conventions.git",
            .upToNextMinor(from: "1.44.0"), traits: ["Tracing", "Experimental"]),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/async-kit.git", from: "1.22.0"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
    ],
    targets: [
        executable(
            "rahat",
            [
                "AuthService", "Gateway", "Messaging", "MetricCatalog", "Operations", "Persistence", "RahatApp",
                "ServerKit", .argumentParser,
                .logging, .serviceLifecycle, .unixSignals,
            ]),
        library(
            "RahatApp",
            [
                "AuthAPI", "AuthService", "C2CAPI", "C2CService", "Console", "CoreAPI", "CoreService", "Gateway",
                "LedgerAPI", "LedgerService", "Messaging", "MetricCatalog", "Notifications", "Operations",
                "Persistence",
                "RedisClient",
                "RedisStores", "ServerKit", "TokenVerification", .fluentKit, .grpcCore, .grpcInProcessTransport,
                .grpcHTTP2Transport, .logging, .serviceLifecycle,
            ]),
        library(
            "RedisClient",
            [
                "MetricCatalog", .crypto, .logging, .metrics, .nioCore, .nioPosix, .nioSSL, .otelSemanticConventions,
                .serviceLifecycle, .tracing,
            ]),
        executable(
            "JobBench",
            ["JobQueue", "Messaging", "RedisClient", "SharedModels", .logging, .serviceLifecycle, .unixSignals],
            path: "Benchmarks/JobBench"),
        executable("RedisBench", ["RedisClient", .logging, .nioCore, .nioPosix], path: "Benchmarks/RedisBench"),
        executable(
            "StackBench",
            [
                "CoreAPI", "ServerKit", .asyncHTTPClient, .grpcCore, .grpcHTTP2Transport, .grpcProtobuf, .hummingbird,
                .nioCore, .nioHTTP1, .nioPosix, .swiftProtobuf,
            ],
            path: "Benchmarks/StackBench"),
        library("SharedModels", []),
        library("MetricCatalog", [.metrics]),
        library("JobQueue", ["SharedModels"]),
        library("Notifications", ["ServerKit", .asyncHTTPClient, .nioCore, .nioHTTP1]),
        library(
            "ServerKit",
            [
                "MetricCatalog", "SharedModels", .configuration, .crypto, .dequeModule, .grpcCore, .grpcHTTP2Transport,
                .grpcProtobuf,
                .logging, .metrics, .nioCore, .otelSemanticConventions, .serviceLifecycle, .swiftASN1, .swiftProtobuf,
                .tracing, .x509,
            ]),
        library("TokenVerification", ["ServerKit", "SharedModels", .grpcCore, .jwtKit, .logging]),
        library("RedisStores", ["RedisClient", "ServerKit", "SharedModels", .nioCore]),
        library(
            "Operations",
            [
                "MetricCatalog", "ServerKit", .hummingbird, .logging, .metrics, .otel, .prometheus, .serviceLifecycle,
                .tracing,
            ]),
        library(
            "Persistence",
            [
                "MetricCatalog", "ServerKit", "SharedModels", .asyncKit, .fluentKit, .fluentPostgresDriver,
                .fluentSQLiteDriver, .logging, .metrics, .nioCore, .nioPosix, .otelSemanticConventions, .postgresNIO,
                .sqlKit, .serviceLifecycle, .tracing,
            ]),
        library(
            "Messaging",
            [
                "JobQueue", "MetricCatalog", "Persistence", "RedisClient", "ServerKit", "SharedModels", .grpcCore,
                .logging, .nioCore, .metrics, .otelSemanticConventions, .serviceLifecycle, .swiftProtobuf, .tracing,
            ]),
        library("AuthAPI", [.grpcCore, .grpcProtobuf, .swiftProtobuf]),
        library(
            "AuthService",
            [
                "AuthAPI", "Persistence", "ServerKit", "SharedModels", "TokenVerification", .crypto, .fluentKit,
                .grpcCore, .hummingbirdBcrypt, .jwtKit, .logging, .nioPosix, .sqlKit,
            ]),
        library("CoreAPI", [.grpcCore, .grpcProtobuf, .swiftProtobuf]),
        library(
            "CoreService",
            [
                "C2CAPI",
                "AuthAPI", "CoreAPI", "JobQueue", "Messaging", "MetricCatalog", "Notifications", "Persistence",
                "ServerKit",
                "SharedModels", "TokenVerification", .crypto, .fluentKit, .grpcCore, .logging, .metrics, .sqlKit,
                .serviceLifecycle, .swiftProtobuf,
            ]),
        library("LedgerAPI", [.grpcCore, .grpcProtobuf, .swiftProtobuf]),
        library(
            "LedgerService",
            [
                "LedgerAPI", "MetricCatalog", "Persistence", "ServerKit", "SharedModels", "TokenVerification", .crypto,
                .fluentKit, .grpcCore, .logging, .metrics, .sqlKit, .swiftProtobuf,
            ]),
        library("C2CAPI", [.grpcCore, .grpcProtobuf, .swiftProtobuf]),
        library(
            "C2CService",
            [
                "AuthAPI", "C2CAPI", "CoreAPI", "JobQueue", "LedgerAPI", "Messaging", "MetricCatalog", "Notifications",
                "Persistence", "ServerKit", "SharedModels", "TokenVerification", .crypto, .fluentKit, .grpcCore,
                .logging,
                .metrics,
                .sqlKit, .swiftProtobuf,
            ]),
        library(
            "Gateway",
            [
                "AuthAPI", "C2CAPI", "CoreAPI", "JobQueue", "LedgerAPI", "MetricCatalog", "Operations", "ServerKit",
                "SharedModels",
                "TokenVerification", .crypto, .dequeModule, .grpcCore, .hummingbird, .jwtKit, .httpTypes, .logging,
                .metrics, .nioCore, .nioHTTPTypes, .openAPIHummingbird, .openAPIRuntime, .serviceLifecycle,
                .swiftProtobuf,
            ],
            // Compiled in by scripts/generate-openapi (Generated/DocsPageHTML.swift).
            exclude: ["Docs/docs.html"]),
        // The templates, languages and assets are read from the resource bundle at start-up.
        .target(
            name: "Console",
            dependencies: [
                "Gateway", "ServerKit", "SharedModels", .crypto, .httpTypes, .hummingbird, .logging, .mustache,
                .nioCore, .openAPIRuntime,
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings),
        library(
            "TestSupport",
            [
                "AuthAPI", "AuthService", "C2CAPI", "C2CService", "CoreAPI", "CoreService", "Gateway", "LedgerAPI",
                "LedgerService", "Messaging", "Notifications", "Persistence", "RahatApp", "RedisClient", "ServerKit",
                "TestInfrastructure", .fluentKit, .grpcCore, .grpcInProcessTransport, .hummingbird, .hummingbirdTesting,
                .logging, .nioCore, .serviceLifecycle, .swiftProtobuf,
            ]),
        library(
            "TestInfrastructure",
            [
                "Persistence", "RedisClient", "RedisStores", "ServerKit", .crypto, .fluentKit, .logging, .nioCore,
                .nioPosix, .postgresNIO, .swiftASN1, .x509,
            ]),
        tests(
            "RedisClientTests",
            ["RedisClient", "TestInfrastructure", .inMemoryTracing, .logging, .nioCore, .nioPosix, .nioSSL, .tracing]),
        tests("SharedModelsTests", ["SharedModels"]),
        tests(
            "ServerKitTests",
            [
                "MetricCatalog", "Operations", "ServerKit", "SharedModels", "TestInfrastructure", "TokenVerification",
                .configuration,
                .grpcCore, .grpcInProcessTransport, .inMemoryTracing, .jwtKit, .swiftProtobuf, .tracing,
            ]),
        tests("PersistenceTests", ["Operations", "Persistence", "ServerKit", "TestInfrastructure", .logging, .sqlKit]),
        tests(
            "MessagingTests",
            [
                "JobQueue", "Messaging", "Operations", "Persistence", "RedisClient", "ServerKit", "TestInfrastructure",
                .fluentKit, .logging, .sqlKit,
            ]),
        tests(
            "AuthServiceTests",
            [
                "AuthAPI", "AuthService", "Persistence", "ServerKit", "SharedModels", "TestSupport",
                "TokenVerification", .grpcCore, .grpcInProcessTransport, .swiftProtobuf, .sqlKit,
            ]),
        tests(
            "CoreServiceTests",
            [
                "AuthAPI", "CoreAPI", "CoreService", "Persistence", "ServerKit", "SharedModels", "TestSupport", .sqlKit,
                .grpcCore, .swiftProtobuf,
            ]),
        tests(
            "LedgerServiceTests",
            [
                "AuthAPI", "AuthService", "LedgerAPI", "LedgerService", "Persistence", "ServerKit", "SharedModels",
                "TestSupport", "TokenVerification", .grpcCore, .grpcInProcessTransport, .sqlKit, .swiftProtobuf,
            ]),
        tests(
            "C2CServiceTests",
            [
                "AuthAPI", "AuthService", "C2CAPI", "C2CService", "CoreAPI", "CoreService", "LedgerAPI", "Messaging",
                "Notifications", "Persistence", "ServerKit", "SharedModels", "TestSupport", .grpcCore, .sqlKit,
                .swiftProtobuf,
            ]),
        tests(
            "NotificationsTests",
            ["Notifications", "ServerKit", .httpTypes, .hummingbird, .hummingbirdTesting, .nioCore]),
        tests(
            "GatewayTests",
            [
                "C2CService", "CoreService", "Gateway", "JobQueue", "Messaging", "Notifications", "Persistence",
                "RahatApp", "ServerKit", "TestInfrastructure", "TestSupport", .httpTypes, .hummingbird,
                .hummingbirdTesting, .inMemoryTracing, .serviceLifecycleTestKit, .tracing,
            ]),
        tests(
            "ConsoleTests",
            [
                "C2CService", "Console", "Gateway", "Notifications", "RahatApp", "ServerKit", "TestInfrastructure",
                "TestSupport", .httpTypes, .hummingbird, .hummingbirdTesting, .nioCore,
            ]),
        tests(
            "IntegrationTests",
            [
                "AuthAPI", "AuthService", "C2CService", "CoreService", "Gateway", "JobQueue", "LedgerService",
                "Messaging", "MetricCatalog", "Operations", "Persistence", "RahatApp", "ServerKit", "TestSupport",
                .fluentKit, .grpcCore,
                .grpcHTTP2Transport, .hummingbird, .hummingbirdTesting, .logging, .serviceLifecycle, .sqlKit,
                .swiftProtobuf,
            ]),
    ]
)
