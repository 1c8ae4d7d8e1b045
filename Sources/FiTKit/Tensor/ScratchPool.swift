import Foundation

/// Scratch buffers that hot loops borrow call after call (the Winograd convolution's transformed
/// strips): reusing them saves the page faults a fresh multi-megabyte allocation costs each time.
///
/// `@unchecked Sendable`: `idle` is guarded by `lock`, and a buffer belongs to one borrower at a time.
final class ScratchPool: @unchecked Sendable {
    /// The pool the decoder's threads share.
    static let shared = ScratchPool()

    private var idle: [TensorStorage] = []
    private let lock = NSLock()
    /// Buffers kept for reuse at most: the three a Winograd strip borrows, per thread.
    private var limit: Int { 3 * max(Parallel.threads, 1) }

    /// A buffer of at least `count` floats, contents undefined; hand it back with ``giveBack(_:)``.
    func borrow(_ count: Int) -> TensorStorage {
        lock.lock()
        defer { lock.unlock() }
        if let i = idle.indices.filter({ idle[$0].count >= count }).min(by: { idle[$0].count < idle[$1].count }) {
            return idle.remove(at: i)
        }
        return TensorStorage(uninitialized: count)
    }

    /// Frees every idle buffer (when a decode is over, so the memory does not stay with the process).
    func drain() {
        lock.lock()
        defer { lock.unlock() }
        idle.removeAll()
    }

    /// Returns `buffer` for reuse (the smallest are dropped beyond the limit).
    func giveBack(_ buffer: TensorStorage) {
        lock.lock()
        defer { lock.unlock() }
        idle.append(buffer)
        if idle.count > limit { idle.remove(at: idle.indices.min { idle[$0].count < idle[$1].count }!) }
    }
}
