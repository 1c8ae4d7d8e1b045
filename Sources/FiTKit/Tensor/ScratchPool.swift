import Foundation

/// Scratch buffers that hot loops borrow call after call (the Winograd convolution's transformed
/// strips): reusing them saves the page faults a fresh multi-megabyte allocation costs each time.
final class ScratchPool: @unchecked Sendable {
    /// The pool the decoder's threads share.
    static let shared = ScratchPool()

    private var idle: [TensorStorage] = []
    private let lock = NSLock()
    /// Buffers kept for reuse at most (two per thread on the machines this runs on).
    private let limit = 8

    /// A buffer of at least `count` floats, contents undefined; hand it back with ``giveBack(_:)``.
    func borrow(_ count: Int) -> TensorStorage {
        lock.lock()
        defer { lock.unlock() }
        if let i = idle.indices.filter({ idle[$0].count >= count }).min(by: { idle[$0].count < idle[$1].count }) {
            return idle.remove(at: i)
        }
        return TensorStorage(uninitialized: count)
    }

    /// Returns `buffer` for reuse (the smallest are dropped beyond the limit).
    func giveBack(_ buffer: TensorStorage) {
        lock.lock()
        defer { lock.unlock() }
        idle.append(buffer)
        if idle.count > limit { idle.remove(at: idle.indices.min { idle[$0].count < idle[$1].count }!) }
    }
}
