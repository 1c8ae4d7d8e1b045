// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "FiTExplorer",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fit", targets: ["FiTTUI"]),
        .library(name: "FiTKit", targets: ["FiTKit"]),
        .executable(name: "fit-fuzz", targets: ["FiTFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // oneDNN for the bf16 products; Debian ships no pkg-config file for it.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw", providers: [.apt(["libncursesw5-dev"])]),

        // MARK: - Signal handling (async-signal-safe C)
        .target(name: "CSignalGuard"),

        // MARK: - Elementwise kernels for AVX-512, AVX2 and SSE2, chosen at run time (C)
        .target(name: "CKernels"),

        // MARK: - The inference core
        .target(
            name: "FiTKit",
            dependencies: ["CBLAS", "CDNNL", "CKernels", "CPNG", "CSignalGuard"]
        ),

        // MARK: - The `fit` executable
        .executableTarget(
            name: "FiTTUI",
            dependencies: [
                "FiTKit",
                "CNcurses",
                "CSignalGuard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["Resources/README.md"],
            resources: [.copy("Resources/fit-emoji.safetensors"), .copy("Resources/imagenet-1k-classes.json")]
        ),

        // MARK: - Fuzz targets for the parsers of untrusted files (`make fuzz`)
        .executableTarget(
            name: "FiTFuzz",
            dependencies: ["FiTKit"]
        ),

        // MARK: - Tests
        .testTarget(
            name: "FiTKitTests",
            dependencies: ["FiTKit"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "FiTTUITests",
            dependencies: ["FiTKit", "FiTTUI", "FiTFuzz"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
