import FiTKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Start-up policy: the settings the math libraries read only while loading, chosen for speed.
///
/// - OpenBLAS: Debian's OpenBLAS falls back to generic kernels on CPUs newer than it; with
///   `OPENBLAS_CORETYPE` unset, fit names the right core (``BLASRuntime/recommendedCore(reportedCore:cpuFlags:)``).
/// - OpenMP (oneDNN's threads): with `OMP_WAIT_POLICY` unset on a CPU with native bf16, fit asks for `PASSIVE`, so
///   libgomp's threads sleep between oneDNN calls instead of spinning on the cores FiTKit's own
///   loops need next (``OneDNN/recommendedWaitPolicy``; docs/cpu.md §4).
///
/// Values the user set are never overridden.
enum FastKernels {
    /// Call first thing in `main`: sets what is missing and re-executes this process once so the
    /// libraries load with it. Returns normally when nothing needs doing (or re-execution is impossible).
    static func select(arguments: [String] = CommandLine.arguments) {
        var changed: [String] = []
        if getenv(BLASRuntime.coreTypeVariable) == nil,
           let core = BLASRuntime.recommendedCore(reportedCore: BLASRuntime.coreName, cpuFlags: BLASRuntime.cpuFlags()) {
            setenv(BLASRuntime.coreTypeVariable, core, 1)
            setenv(BLASRuntime.selectedMarker, "1", 1)
            changed += [BLASRuntime.coreTypeVariable, BLASRuntime.selectedMarker]
        }
        // Only where bf16 can run: elsewhere oneDNN stays idle and the re-execution (10–30 ms) buys nothing.
        if getenv(OneDNN.waitPolicyVariable) == nil, OneDNN.hasNativeBFloat16 {
            setenv(OneDNN.waitPolicyVariable, OneDNN.recommendedWaitPolicy, 1)
            changed.append(OneDNN.waitPolicyVariable)
        }
        guard !changed.isEmpty else { return }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // execv only returns on failure: keep running with the settings the libraries loaded.
        for name in changed { unsetenv(name) }
    }
}
