#if canImport(Glibc)
import Glibc
#endif

/// A read-only, private memory mapping of a whole file, unmapped on deinit.
///
/// `@unchecked Sendable`: the mapping is private and read-only (PROT_READ), and lives until deinit.
final class MemoryMap: @unchecked Sendable {
    let base: UnsafeRawPointer
    let size: Int

    init(path: String) throws {
        let (fd, size) = try RegularFile.openForReading(path)
        defer { close(fd) }
        self.size = size
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
