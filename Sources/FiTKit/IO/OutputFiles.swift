import Foundation

/// Checks on output paths before any work is done.
public enum OutputFiles {
    /// Fails when `path` exists (unless `force`) or its folder is missing (created when `createFolder`).
    public static func prepare(_ path: String, force: Bool, createFolder: Bool) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard createFolder else { throw FiTError.writeFailed(path: path, reason: "the folder \(folder) does not exist") }
            try prepareFolder(folder)
        } else if !isFolder.boolValue {
            throw FiTError.writeFailed(path: path, reason: "\(folder) is not a folder")
        }
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw FiTError.writeFailed(path: path, reason: "the folder \(folder) is not writable")
        }
        var entry = stat()
        guard lstat(path, &entry) == 0 else { return }
        switch entry.st_mode & S_IFMT {
        case S_IFDIR: throw FiTError.writeFailed(path: path, reason: "it is a folder; give a file name (for example \(path)/image.png)")
        case S_IFLNK where !force:
            throw FiTError.writeFailed(path: path, reason: "a symbolic link is there (pass --force to replace the link with the image)")
        case S_IFREG where !force: throw FiTError.writeFailed(path: path, reason: "the file exists (pass --force to overwrite)")
        case S_IFREG, S_IFLNK: return
        default: throw FiTError.writeFailed(path: path, reason: "something that is not a file is there")
        }
    }

    /// Fails when `folder` already holds step images (unless `force`), so that a trajectory never
    /// silently overwrites another.
    public static func prepareTrajectoryFolder(_ folder: String, force: Bool) throws {
        let existing = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasPrefix("step-") && $0.hasSuffix(".png") }
        if !existing.isEmpty && !force {
            throw FiTError.writeFailed(path: folder, reason: "the folder already holds \(existing.count) step images (pass --force to overwrite them, or pick another folder)")
        }
    }

    /// Creates `folder` (and its parents) when missing.
    public static func prepareFolder(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw FiTError.writeFailed(path: folder, reason: "cannot create the folder (\(error.localizedDescription))")
        }
    }
}
