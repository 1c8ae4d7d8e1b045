import ArgumentParser
import FiTKit
import Foundation

/// Options every compute command shares: threads and diagnostics.
struct RuntimeOptions: ParsableArguments {
    /// The most threads accepted (OpenBLAS's own build limit is of this order).
    static let maximumThreads = 256

    @Option(parsing: .unconditional, help: "Threads for OpenBLAS and the elementwise kernels, 1…256 (default: all cores).")
    var threads: Int?

    @Flag(help: "Report the BLAS kernels and threads in use on stderr.")
    var verbose = false

    func validate() throws {
        if let threads, !(1...Self.maximumThreads).contains(threads) {
            throw ValidationError("--threads must be in 1…\(Self.maximumThreads), got \(threads)")
        }
    }

    /// The thread count in effect.
    var resolvedThreads: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    /// Applies the thread setting and prints diagnostics when asked.
    func apply() {
        Parallel.setThreads(resolvedThreads)
        if verbose {
            Console.note("BLAS core: \(BLASRuntime.coreName) (\(BLASRuntime.coreSource)); threads: \(Parallel.threads)")
        }
    }
}

/// RoPE extrapolation options: the official sampler names (`--interpolation dynntk --decouple`)
/// or the one names the explorer and the README use (`--interpolation VisionNTK`).
struct RoPEOptions: ParsableArguments {
    @Option(help: "RoPE extrapolation: \(RoPEScaling.acceptedNames.joined(separator: ", ")) (VisionNTK = dynntk --decouple, VisionYaRN = yarn --decouple, VisionNTK+attn = ntkpro2 --decouple; default: the model's own or its advice for the size).")
    var interpolation: String?

    @Flag(help: "Scale each axis by its own length (VisionNTK / VisionYaRN).")
    var decouple = false

    @Option(parsing: .unconditional, help: "Training side length in tokens (default: the model's, √context_size).")
    var oriMaxPeLen: Int?

    func validate() throws {
        if let oriMaxPeLen, !(1...RoPE2D.maximumSide).contains(oriMaxPeLen) {
            throw ValidationError("--ori-max-pe-len must be in 1…\(RoPE2D.maximumSide)")
        }
        if let interpolation, RoPEScaling(name: interpolation) == nil {
            throw ValidationError("--interpolation '\(interpolation)' is not a RoPE method; use one of \(RoPEScaling.acceptedNames.joined(separator: ", "))")
        }
    }

    /// The scaling to use, or `nil` for the model's own configuration.
    var scaling: RoPEScaling? {
        guard let interpolation else {
            return oriMaxPeLen == nil && !decouple ? nil
                : RoPEScaling(interpolation: .no, decouple: decouple, oriMaxPeLen: oriMaxPeLen)
        }
        return RoPEScaling(name: interpolation, decouple: decouple, oriMaxPeLen: oriMaxPeLen)
    }
}
