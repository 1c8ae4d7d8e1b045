// swift-tools-version:6.0
// An example of FiTKit as a library: one picture from the embedded emoji model.
// Build and run from this folder: swift run GenerateOne [class] [out.png]
import PackageDescription

let package = Package(
    name: "GenerateOne",
    dependencies: [.package(name: "FiTExplorer", path: "../..")],
    targets: [
        .executableTarget(name: "GenerateOne", dependencies: [.product(name: "FiTKit", package: "FiTExplorer")]),
    ],
    swiftLanguageModes: [.v6]
)
