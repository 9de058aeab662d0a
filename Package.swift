// swift-tools-version:6.2
import PackageDescription

/// Every target of ours builds in Swift 6 mode with strict concurrency and treats warnings as errors.
let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "postern",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "postern", targets: ["postern"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // System libraries: OpenSSL 3 (libssl-dev) and OpenLDAP (libldap2-dev).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CLDAP",
            pkgConfig: "ldap",
            providers: [.apt(["libldap2-dev"])]
        ),
        // Thin C wrappers for OpenSSL's function-like macros; nothing else lives here.
        .target(
            name: "CPosternShims",
            dependencies: ["COpenSSL"]
        ),
        // epoll(7) and accept4(2), which Glibc's Swift module does not expose; nothing else lives here.
        .target(name: "CPosternEpoll"),
        // Thin wrappers for libldap calls that need macros (LDAP_SASL_SIMPLE, LDAP_OPT_OFF, scopes, options).
        .target(
            name: "CPosternLDAPShims",
            dependencies: ["CLDAP"]
        ),
        // The lock every module uses (`Mutex`, shadowing the standard library's), on a pthread mutex so that
        // ThreadSanitizer understands it; re-exports Synchronization for `Atomic`.
        .target(
            name: "PosternSync",
            swiftSettings: strict
        ),
        // Socket-free protocol code: parsers and state machines, bytes in, actions out.
        .target(
            name: "PosternProtocol",
            swiftSettings: strict
        ),
        // OpenSSL 3 contexts and memory-BIO TLS engines; no OpenSSL type is public.
        .target(
            name: "PosternTLS",
            dependencies: ["COpenSSL", "CPosternShims", "PosternSync"],
            swiftSettings: strict
        ),
        // The YAML configuration: typed structs, validation with file/line/key errors.
        .target(
            name: "PosternConfig",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // User-to-backend maps behind an asynchronous lookup interface.
        .target(
            name: "PosternMap",
            dependencies: ["PosternConfig", "PosternSync"],
            swiftSettings: strict
        ),
        // The LDAP map: a pool of libldap connections, each on its own queue, bridged to async lookups.
        .target(
            name: "PosternLDAP",
            dependencies: ["CLDAP", "CPosternLDAPShims", "PosternMap", "PosternConfig", "PosternSync"],
            swiftSettings: strict
        ),
        // Translates a Perdition configuration (perdition.conf, popmap, LDAP URL) into Postern's YAML.
        .target(
            name: "PosternImport",
            dependencies: ["PosternConfig"],
            swiftSettings: strict
        ),
        // The Dispatch event loop: listeners, non-blocking endpoints, connectors, timers.
        .target(
            name: "PosternIO",
            dependencies: [
                "PosternTLS", "CPosternEpoll", "PosternSync", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Structured log lines (text, logfmt, JSON) with every value escaped; a level changeable at run time.
        .target(
            name: "PosternLog",
            dependencies: ["PosternSync", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The admin API's HTTP/1.1 plumbing: a bounded request parser, a response builder, token checks.
        .target(
            name: "PosternAdmin",
            swiftSettings: strict
        ),
        // Process life: systemd notify, pid file, RLIMIT_NOFILE, privilege drop, build info.
        .target(
            name: "PosternProcess",
            swiftSettings: strict
        ),
        // Abuse control without I/O: connection limits and login throttling, shared across shards.
        .target(
            name: "PosternGuard",
            dependencies: ["PosternConfig", "PosternMap", "PosternSync"],
            swiftSettings: strict
        ),
        // Sessions: wires protocol, TLS, map and I/O together; admin endpoint; reload.
        .target(
            name: "PosternServer",
            dependencies: [
                "PosternProtocol", "PosternTLS", "PosternConfig", "PosternMap", "PosternLDAP", "PosternIO",
                "PosternGuard", "PosternAdmin", "PosternLog", "PosternProcess", "PosternSync",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "postern",
            dependencies: [
                "PosternServer", "PosternConfig", "PosternMap", "PosternImport", "PosternProcess", "PosternLog",
                "PosternSync",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "PosternProtocolTests", dependencies: ["PosternProtocol"], swiftSettings: strict),
        .testTarget(name: "PosternConfigTests", dependencies: ["PosternConfig"], swiftSettings: strict),
        .testTarget(
            name: "PosternMapTests", dependencies: ["PosternMap", "PosternConfig", "PosternImport", "PosternSync"],
            swiftSettings: strict),
        .testTarget(name: "PosternTLSTests", dependencies: ["PosternTLS", "PosternSync"], swiftSettings: strict),
        .testTarget(
            name: "PosternLogTests",
            dependencies: ["PosternLog", "PosternSync", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(name: "PosternAdminTests", dependencies: ["PosternAdmin"], swiftSettings: strict),
        .testTarget(name: "PosternProcessTests", dependencies: ["PosternProcess"], swiftSettings: strict),
        .testTarget(
            name: "PosternGuardTests", dependencies: ["PosternGuard", "PosternConfig", "PosternMap", "PosternSync"],
            swiftSettings: strict),
        .testTarget(
            name: "PosternIOTests", dependencies: ["PosternIO", "PosternTLS", "PosternSync"], swiftSettings: strict),
        .testTarget(name: "PosternSyncTests", dependencies: ["PosternSync"], swiftSettings: strict),
        // Sessions driven by fake connections, a fake dialler, a fake map and a manual clock: no sockets.
        .testTarget(
            name: "PosternServerTests",
            dependencies: [
                "PosternServer", "PosternIO", "PosternProtocol", "PosternConfig", "PosternMap", "PosternTLS",
                "PosternAdmin", "PosternLog", "PosternSync", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
    ]
)

// libFuzzer targets (scripts/fuzz; docs/hardening.md), declared only when POSTERN_FUZZ is set: scripts/fuzz
// builds them in .build-fuzz with -sanitize=fuzzer,address, and an ordinary `swift build` never sees them.
// Each is one file, Fuzz/<Name>.swift, with its seed corpus in Fuzz/corpus/<Name>/. In that mode the package
// holds only the fuzz targets and the modules they test, so one `swift build` builds them all.
if Context.environment["POSTERN_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzSASL", ["PosternProtocol"]),
        ("FuzzProxyHeader", ["PosternProtocol"]),
        ("FuzzIMAPReader", ["PosternProtocol"]),
        ("FuzzPOP3Reader", ["PosternProtocol"]),
        ("FuzzSieveReader", ["PosternProtocol"]),
        ("FuzzFrontEnd", ["PosternProtocol"]),
        ("FuzzIMAPBackEnd", ["FuzzBackEndSupport", "PosternProtocol"]),
        ("FuzzPOP3BackEnd", ["FuzzBackEndSupport", "PosternProtocol"]),
        ("FuzzSieveBackEnd", ["FuzzBackEndSupport", "PosternProtocol"]),
        ("FuzzMapValue", ["PosternMap", "PosternConfig"]),
        ("FuzzRegexMap", ["PosternMap", "PosternConfig"]),
        ("FuzzMapFiles", ["PosternMap"]),
        ("FuzzPerditionImport", ["PosternImport", .product(name: "Yams", package: "Yams")]),
        ("FuzzConfigLoader", ["PosternConfig"]),
        ("FuzzAdminHTTP", ["PosternAdmin"]),
    ]
    // The modules under test and what they depend on inside the package.
    let tested: Set<String> = [
        "PosternProtocol", "PosternConfig", "PosternMap", "PosternImport", "PosternAdmin", "PosternSync",
    ]
    package.products = []
    package.targets.removeAll { !tested.contains($0.name) }
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/Support/CLibFuzzer"),
        .target(
            name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/Support/FuzzSupport", swiftSettings: strict),
        .target(
            name: "FuzzBackEndSupport", dependencies: ["FuzzSupport", "PosternProtocol"],
            path: "Fuzz/Support/FuzzBackEndSupport", swiftSettings: strict),
    ]
    for target in fuzzTargets {
        let others = fuzzTargets.map { "\($0.name).swift" }.filter { $0 != "\(target.name).swift" }
        package.targets.append(
            .executableTarget(
                name: target.name, dependencies: ["FuzzSupport"] + target.dependencies, path: "Fuzz",
                exclude: ["Support", "corpus"] + others, sources: ["\(target.name).swift"], swiftSettings: strict))
    }
}
