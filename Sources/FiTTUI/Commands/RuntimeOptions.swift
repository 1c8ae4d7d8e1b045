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

/// RoPE extrapolation options with the official sampler names.
struct RoPEOptions: ParsableArguments {
    @Option(help: "RoPE extrapolation: \(RoPEInterpolation.allCases.map(\.rawValue).joined(separator: ", ")) (default: the model's own).")
    var interpolation: RoPEInterpolation?

    @Flag(help: "Scale each axis by its own length (VisionNTK / VisionYaRN).")
    var decouple = false

    @Option(parsing: .unconditional, help: "Training side length in tokens (default: the model's, √context_size).")
    var oriMaxPeLen: Int?

    func validate() throws {
        if let oriMaxPeLen, oriMaxPeLen < 1 { throw ValidationError("--ori-max-pe-len must be at least 1") }
    }

    /// The scaling to use, or `nil` for the model's own configuration.
    var scaling: RoPEScaling? {
        guard let interpolation else {
            return oriMaxPeLen == nil && !decouple ? nil
                : RoPEScaling(interpolation: .no, decouple: decouple, oriMaxPeLen: oriMaxPeLen)
        }
        return RoPEScaling(interpolation: interpolation, decouple: decouple, oriMaxPeLen: oriMaxPeLen)
    }
}

extension RoPEInterpolation: ExpressibleByArgument {}
