import FiTKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Start-up policy: run on OpenBLAS's fast kernels even where Debian's OpenBLAS does not know the CPU.
enum FastKernels {
    /// Call first thing in `main`: when `OPENBLAS_CORETYPE` is unset and OpenBLAS fell back to a
    /// generic core on an AVX2/AVX-512 CPU, sets the variable and re-executes this process so
    /// OpenBLAS loads its fast kernels (``BLASRuntime/recommendedCore(reportedCore:cpuFlags:)``).
    /// Never overrides a value the user set. Returns normally when nothing needs doing (or
    /// re-execution is impossible).
    static func select(arguments: [String] = CommandLine.arguments) {
        let variable = BLASRuntime.coreTypeVariable
        guard getenv(variable) == nil,
              let core = BLASRuntime.recommendedCore(reportedCore: BLASRuntime.coreName, cpuFlags: BLASRuntime.cpuFlags()) else { return }
        setenv(variable, core, 1)
        setenv(BLASRuntime.selectedMarker, "1", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // execv only returns on failure: keep running on the kernels we have.
        unsetenv(variable)
        unsetenv(BLASRuntime.selectedMarker)
    }
}
