#if canImport(Glibc)
import Glibc
#endif

/// The float32 memory behind a ``Tensor``: either owned (allocated, 64-byte aligned, freed on
/// deinit) or borrowed from an owner that keeps it alive (a memory-mapped checkpoint).
///
/// `@unchecked Sendable`: the pointer and count never change; who writes the memory is ``Tensor``'s rule.
public final class TensorStorage: @unchecked Sendable {
    /// The first element.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of float32 elements.
    public let count: Int
    /// Keeps borrowed memory alive; `nil` when this storage owns its allocation.
    private let owner: AnyObject?

    /// Allocates `count` zeroed elements.
    public init(zeros count: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
        self.pointer = raw.assumingMemoryBound(to: Float.self)
        self.count = count
        self.owner = nil
    }

    /// Allocates `count` elements without clearing them, for buffers that are written in full
    /// before they are read.
    public init(uninitialized count: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.owner = nil
    }

    /// Wraps memory that `owner` keeps alive (used in place, never copied).
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    /// When this storage lies in a read-only file mapping (a checkpoint used in place): tells the
    /// kernel its pages are not needed now (`MADV_DONTNEED`), so they leave the resident set; a
    /// later read maps them in again from the file. Does nothing for any other memory. The bf16
    /// path calls it after packing a weight it will not read again.
    func releaseFileBackedPages() {
        guard owner is MemoryMap else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: pointer) + page - 1) / page * page
        let end = (Int(bitPattern: pointer) + count * 4) / page * page
        guard end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(address, end - start, Int32(MADV_DONTNEED))
    }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(pointer).deallocate() }
    }
}
