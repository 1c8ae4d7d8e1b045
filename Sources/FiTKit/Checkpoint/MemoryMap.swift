#if canImport(Glibc)
import Glibc
#endif

/// A read-only, private memory mapping of a whole file, unmapped on deinit.
final class MemoryMap: @unchecked Sendable {
    let base: UnsafeRawPointer
    let size: Int

    init(path: String) throws {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { throw FiTError.fileNotFound(path: path) }
            throw FiTError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FiTError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        try RegularFile.requireRegular(info, path: path)
        size = Int(info.st_size)
        guard size > 0 else { throw FiTError.malformedSafetensors(path: path, reason: "the file is empty") }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw FiTError.unreadableFile(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(mapped)
    }

    /// Drops the pages read so far from this process's resident memory; they are read again
    /// (from the page cache) if touched later. The contents do not change.
    func releaseResidentPages() {
        _ = madvise(UnsafeMutableRawPointer(mutating: base), size, MADV_DONTNEED)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}
