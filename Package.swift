// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Ombud",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ombud", targets: ["ombud"]),
        .library(name: "OmbudDomain", targets: ["OmbudDomain"]),
        .library(name: "OmbudServer", targets: ["OmbudServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.21.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        // Pure domain rules: no Vapor, no Fluent, no I/O.
        .target(name: "OmbudDomain"),
        .target(
            name: "OmbudServer",
            dependencies: [
                "OmbudDomain",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            resources: [.copy("Resources")]
        ),
        .executableTarget(name: "ombud", dependencies: ["OmbudServer"]),
        .executableTarget(
            name: "ombud-bench",
            dependencies: [
                .product(name: "Vapor", package: "vapor"),
            ],
            path: "bench/OmbudBench"
        ),
        .testTarget(name: "OmbudDomainTests", dependencies: ["OmbudDomain"]),
        .testTarget(
            name: "OmbudServerTests",
            dependencies: [
                "OmbudServer",
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
    ]
)
