import FiTKit
import Foundation

/// Runs generations on a background queue, one at a time, and hands their steps to the UI as
/// actions. Lanes of a comparison advance in lockstep. Cancelling is checked between steps.
/// Steps are drawn with the decoder's preview; finals (on the generation queue) and steps asked
/// for (on a second queue, so asking never waits for a whole generation) with its full decode,
/// the VAE for latent models. The two never compute at once: they take turns on `compute`, so
/// BLAS is never called from two threads and the decode's thread setting cannot disturb a step.
///
/// `@unchecked Sendable`: `pending`, `cancelledThrough` and `estimates` are guarded by `lock`; computing is serialised by `compute`; the rest is immutable.
final class GenerationWorker: @unchecked Sendable {
    private let loaded: LoadedModel
    private var decoder: ImageDecoder { loaded.decoder }
    private let queue = DispatchQueue(label: "fit.generation")
    private let decodeQueue = DispatchQueue(label: "fit.decode")
    private let lock = NSLock()
    private let compute = NSLock()
    private var pending: [Action] = []
    private var cancelledThrough = 0
    /// The x0 estimates of the latest generation, by lane and step, for decoding on request.
    private var estimates: (generation: Int, lanes: [[Tensor]]) = (0, [])

    init(loaded: LoadedModel) {
        self.loaded = loaded
    }

    /// Decodes the x0 estimate of step `index` of `lane` in `generation` and posts it.
    func decode(generation: Int, lane: Int, index: Int) {
        decodeQueue.async { [self] in
            lock.lock()
            let x0 = estimates.generation == generation && estimates.lanes.indices.contains(lane)
                && estimates.lanes[lane].indices.contains(index) ? estimates.lanes[lane][index] : nil
            lock.unlock()
            guard let x0 else {
                post(.decodeFailed(generation: generation, message: "step \(index + 1) is not kept any more"))
                return
            }
            compute.lock()
            defer { compute.unlock() }
            do {
                post(.stepDecoded(generation: generation, lane: lane, index: index, image: try decoder.decode(x0, index: 0)))
            } catch {
                post(.decodeFailed(generation: generation, message: "\(error)"))
            }
        }
    }

    private func keep(_ x0: Tensor, generation: Int, lane: Int, lanes: Int) {
        lock.lock(); defer { lock.unlock() }
        if estimates.generation != generation { estimates = (generation, Array(repeating: [], count: lanes)) }
        estimates.lanes[lane].append(x0)
    }

    /// Actions posted since the last call.
    func drain() -> [Action] {
        lock.lock(); defer { lock.unlock() }
        let out = pending
        pending.removeAll()
        return out
    }

    /// Stops every generation started so far (after its current step).
    func cancelAll(through generation: Int) {
        lock.lock(); cancelledThrough = max(cancelledThrough, generation); lock.unlock()
    }

    /// Cancels every generation and waits until both queues are idle: at most the step and the
    /// decode under way. Call it before the process exits: a step still running in BLAS or
    /// oneDNN while `exit` tears their libraries down crashes the process.
    func stop() {
        cancelAll(through: .max)
        queue.sync {}
        decodeQueue.sync {}
    }

    private func post(_ action: Action) { lock.lock(); pending.append(action); lock.unlock() }
    private func isCancelled(_ generation: Int) -> Bool { lock.lock(); defer { lock.unlock() }; return generation <= cancelledThrough }

    /// Starts generation `generation` with one lane per request.
    func start(generation: Int, lanes: [GenerationRequest]) {
        queue.async { [self] in run(generation: generation, lanes: lanes) }
    }

    private func run(generation: Int, lanes: [GenerationRequest]) {
        guard !isCancelled(generation) else { return }
        var iterators: [DenoisingTrajectory.Iterator?] = []
        for (i, request) in lanes.enumerated() {
            do {
                let plan = try GenerationPlan(model: loaded, request: request)
                iterators.append(try plan.trajectory(seed: plan.seed).makeIterator())
            } catch {
                post(.laneFailed(generation: generation, lane: i, message: "\(error)"))
                iterators.append(nil)
            }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var counts = Array(repeating: 0, count: lanes.count)
        var last: [TrajectoryStep?] = Array(repeating: nil, count: lanes.count)
        var active = iterators.map { $0 != nil }
        while active.contains(true) {
            for i in lanes.indices where active[i] {
                if isCancelled(generation) { return }
                compute.lock()
                let next = Result { try iterators[i]!.nextStep() }
                compute.unlock()
                if case .failure(let error) = next {
                    active[i] = false
                    post(.laneFailed(generation: generation, lane: i, message: "\(error)"))
                } else if case .success(let step?) = next {
                    counts[i] += 1
                    last[i] = step
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    if decoder.previewIsApproximate { keep(step.x0, generation: generation, lane: i, lanes: lanes.count) }
                    let frame = StepFrame(index: step.index, count: step.count, t: step.t,
                                          xt: decoder.preview(step.xt, index: 0), x0: decoder.preview(step.x0, index: 0))
                    post(.stepArrived(generation: generation, lane: i, frame: frame,
                                      stepsPerSecond: Double(counts[i]) / max(seconds, 1e-9)))
                } else {
                    active[i] = false
                    if let step = last[i] {
                        compute.lock()
                        defer { compute.unlock() }
                        do {
                            post(.laneFinished(generation: generation, lane: i, final: try decoder.decode(step.next, index: 0)))
                        } catch {
                            post(.laneFailed(generation: generation, lane: i, message: "decoding the final image: \(error)"))
                        }
                    }
                }
            }
        }
    }
}
