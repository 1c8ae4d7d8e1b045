import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads small input files (configurations, PNG records, themes) with the checks untrusted
/// paths need: only regular files (a FIFO would block, `/dev/zero` never ends, a folder is not
/// "missing"), and only up to a size limit.
public enum RegularFile {
    /// Opens the regular file at `path` for reading without blocking on a FIFO; returns the
    /// descriptor (the caller closes it) and the file's size.
    static func openForReading(_ path: String) throws -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { throw FiTError.fileNotFound(path: path) }
            throw FiTError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        var info = stat()
        do {
            guard fstat(fd, &info) == 0 else { throw FiTError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
            try requireRegular(info, path: path)
        } catch {
            close(fd)
            throw error
        }
        return (fd, Int(info.st_size))
    }

    /// The contents of the regular file at `path`, at most `limit` bytes.
    public static func read(_ path: String, limit: Int) throws -> Data {
        let (fd, size) = try openForReading(path)
        defer { close(fd) }
        guard size <= limit else {
            throw FiTError.unreadableFile(path: path, reason: "it is \(size) bytes; at most \(limit) are read from such a file")
        }
        var data = Data(count: size)
        var done = 0
        let total = data.count
        try data.withUnsafeMutableBytes { raw in
            while done < total {
                let n = Glibc.read(fd, raw.baseAddress! + done, total - done)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw FiTError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
                if n == 0 { break }
                done += n
            }
        }
        return data.prefix(done)
    }

    /// Throws unless `info` describes a regular file, naming what it is instead.
    static func requireRegular(_ info: stat, path: String) throws {
        let kind: String
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: kind = "a folder"
        case S_IFIFO: kind = "a FIFO"
        case S_IFCHR, S_IFBLK: kind = "a device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a file"
        }
        throw FiTError.unreadableFile(path: path, reason: "not a regular file (\(kind)); give the path of a file")
    }
}
