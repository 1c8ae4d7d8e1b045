import CSignalGuard
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes whole files so that a reader sees either the old file or the complete new one:
/// write to a temporary name in the same folder (`.NAME.PID.tmp`), flush, then rename.
///
/// SIGINT, SIGTERM and SIGHUP remove the temporary file of the write in progress (through
/// `CSignalGuard`, once `fit_guard_install` ran); temporary files that a killed process
/// (SIGKILL) left behind are removed the next time a file is written to the same folder.
public enum AtomicFile {
    /// Writes `data` to `path`; on any failure the temporary file is removed and `path` is untouched.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        removeStaleTemporaries(in: folder.path)
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        fit_guard_set_temporary(temporary)
        defer { fit_guard_set_temporary(nil) }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FiTError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        var failure: String?
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; failure = String(cString: strerror(errno)); return }
                done += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw FiTError.writeFailed(path: path, reason: "\(failure); nothing was written — free some space or pick another folder")
        }
    }

    private static let cleanedLock = NSLock()
    /// Folders already cleaned (guarded by `cleanedLock`).
    nonisolated(unsafe) private static var cleanedFolders: Set<String> = []

    /// Removes `.NAME.PID.tmp` files in `folder` whose process no longer runs (once per folder
    /// and process).
    static func removeStaleTemporaries(in folder: String) {
        guard cleanedLock.withLock({ cleanedFolders.insert(folder).inserted }) else { return }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard name.hasPrefix("."), name.hasSuffix(".tmp") else { continue }
            let parts = name.dropLast(4).split(separator: ".")
            guard parts.count >= 2, let pid = pid_t(parts.last!), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder + "/" + name) }
        }
    }
}
