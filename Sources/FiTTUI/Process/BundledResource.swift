import Foundation

/// Files that ship with `fit` (the embedded model, the ImageNet class names), in the resource
/// bundle SwiftPM builds beside the binary and `make install` copies beside it.
///
/// Looked up beside the running binary (symbolic links resolved), not through `Bundle.module`,
/// which stops the process when the bundle is missing (a binary copied without it) and otherwise
/// points into the build folder it was compiled in.
enum BundledResource {
    static let bundleName = "FiTExplorer_FiTTUI.resources"

    /// The folder of the running binary, symbolic links resolved (`$PREFIX/lib/fit` when
    /// installed, whatever name or link it was started by).
    static var executableFolder: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// Where `file` should be.
    static func expectedPath(_ file: String) -> String {
        executableFolder.appendingPathComponent("\(bundleName)/\(file)").path
    }

    /// The path of `file`, or `nil` when it is missing.
    static func path(_ file: String) -> String? {
        let path = expectedPath(file)
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}
