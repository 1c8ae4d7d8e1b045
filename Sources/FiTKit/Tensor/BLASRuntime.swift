import CBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which OpenBLAS kernels run, and how to get the fast ones on CPUs OpenBLAS does not know.
///
/// Debian's OpenBLAS 0.3.21 falls back to its SSE3 "Prescott" kernels on CPUs newer than it
/// (4–5× slower than its AVX-512 kernels; docs/cpu.md §2). OpenBLAS reads
/// `OPENBLAS_CORETYPE` only while loading, so the fix is to set it and re-execute the process —
/// a decision for the program (`fit` does it at start-up); this type says what to choose.
public enum BLASRuntime {
    /// The environment variable OpenBLAS reads at load time.
    public static let coreTypeVariable = "OPENBLAS_CORETYPE"
    /// Set by a program that chose the core itself, so reports can tell an automatic choice from the user's.
    public static let selectedMarker = "FIT_OPENBLAS_CORE_SELECTED"

    /// The kernel family OpenBLAS chose (e.g. `SkylakeX`, `Haswell`, `Prescott`).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build description (version, threading, targets).
    public static var buildConfiguration: String {
        guard let config = openblas_get_config() else { return "unknown" }
        return String(cString: config).trimmingCharacters(in: .whitespaces)
    }

    /// Who chose the core: the user (`OPENBLAS_CORETYPE` set), fit (selected at start-up) or OpenBLAS.
    public static var coreSource: String {
        guard getenv(coreTypeVariable) != nil else { return "detected by OpenBLAS" }
        return getenv(selectedMarker) != nil ? "selected by fit (\(coreTypeVariable) was unset)" : "set by the user (\(coreTypeVariable))"
    }

    /// The core OpenBLAS should use on this CPU when it reports a generic fallback, or `nil`
    /// when its own choice is fine. Pure: decided from the reported core and the CPU flags.
    public static func recommendedCore(reportedCore: String, cpuFlags: Set<String>) -> String? {
        let genericCores: Set<String> = ["Prescott", "Core2", "Nehalem", "Sandybridge", "Katmai", "Coppermine",
                                         "Northwood", "Banias", "Atom", "Penryn", "Dunnington", "unknown"]
        guard genericCores.contains(reportedCore) else { return nil }
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "SkylakeX" }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The CPU feature flags of the first processor in `/proc/cpuinfo` (empty elsewhere).
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }
}
