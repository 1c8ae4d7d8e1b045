import ArgumentParser
import FiTKit

/// `--precision`: the number format of the transformer's products (docs/cpu.md §4).
struct PrecisionOptions: ParsableArguments {
    @Option(help: "Precision of the transformer and the VAE's convolutions: auto (bf16 where the CPU has native bf16, else fp32), fp32 (OpenBLAS, the parity reference) or bf16 (oneDNN).")
    var precision: Precision.Request?

    /// The precision to run: the flag, else `recorded` (a PNG's; it must run here), else `auto`.
    func resolved(recorded: Precision? = nil) throws -> Precision {
        if let precision { return try Precision.resolve(precision) }
        if let recorded {
            do {
                return try Precision.resolve(recorded.request)
            } catch {
                throw FiTError.unsupportedPrecision("the image was made in \(recorded.rawValue), which this CPU cannot run (\(error)); "
                                                    + "pass --precision fp32 to remake it in fp32 (the pixels will differ slightly)")
            }
        }
        return try Precision.resolve(.auto)
    }
}

extension Precision.Request: ExpressibleByArgument {}
