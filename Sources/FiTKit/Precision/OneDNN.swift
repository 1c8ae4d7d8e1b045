import CDNNL
#if canImport(Glibc)
import Glibc
#endif

/// The oneDNN CPU engine the bf16 path runs on, and what oneDNN says about this CPU.
///
/// Debian's oneDNN is built with OpenMP: its threads are libgomp's, a pool separate from
/// OpenBLAS's. FiTKit calls the two strictly one after the other, and sets the OpenMP thread
/// count to ``Parallel/threads`` before each oneDNN call (docs/cpu.md §4).
public enum OneDNN {
    /// The process's CPU engine. (`nonisolated(unsafe)`: an opaque handle made once; oneDNN
    /// engines may be used from any thread.)
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// The instruction set oneDNN dispatches to, e.g. `avx512_core_bf16` or `avx512_core_amx`.
    public static var isaName: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx512_mic, dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        default: return "generic"
        }
    }

    /// Whether oneDNN runs bf16 products natively here (AVX-512 BF16 or AMX). Without it oneDNN
    /// would emulate bf16, slower than float32, so `auto` keeps fp32. `FIT_NO_BF16=1` in the
    /// environment makes fit treat the CPU as one without (to keep `auto` on fp32, or to test).
    public static var hasNativeBFloat16: Bool {
        if let value = getenv(disableVariable), String(cString: value) == "1" { return false }
        guard engine != nil else { return false }
        let isa = dnnl_get_effective_cpu_isa()
        return isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx
    }

    /// The environment variable that, set to `1`, hides native bf16 from fit.
    public static let disableVariable = "FIT_NO_BF16"

    /// oneDNN's version, e.g. `2.6.3`.
    public static var version: String {
        guard let v = dnnl_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }

    /// Throws ``FiTError/oneDNN(_:)`` naming `operation` unless `status` is success.
    static func check(_ status: dnnl_status_t, _ operation: String) throws {
        guard status == dnnl_success else { throw FiTError.oneDNN("\(operation) failed (dnnl_status_t \(status.rawValue))") }
    }
}

extension OneDNN {
    /// Executes `primitive` on one stream with each argument's buffer bound to its descriptor,
    /// and waits. The OpenMP thread count follows ``Parallel/threads``.
    static func run(_ primitive: dnnl_primitive_t, arguments: [(Int32, dnnl_memory_desc_t, UnsafeRawPointer)]) {
        guard let engine else { preconditionFailure("a oneDNN primitive exists without an engine") }
        omp_set_num_threads(Int32(Parallel.threads))
        var stream: dnnl_stream_t?
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        defer { dnnl_stream_destroy(stream) }
        var args: [dnnl_exec_arg_t] = arguments.map { argument, desc, pointer in
            var memory: dnnl_memory_t?
            withUnsafePointer(to: desc) { _ = dnnl_memory_create(&memory, $0, engine, UnsafeMutableRawPointer(mutating: pointer)) }
            return dnnl_exec_arg_t(arg: argument, memory: memory)
        }
        defer { for a in args { dnnl_memory_destroy(a.memory) } }
        let status = dnnl_primitive_execute(primitive, stream, Int32(args.count), &args)
        // Execution fails only where creation succeeded but the scratchpad could not be allocated.
        precondition(status == dnnl_success, "oneDNN: a primitive failed to run (dnnl_status_t \(status.rawValue)); out of memory?")
        dnnl_stream_wait(stream)
    }

    /// Copies `source` (described by `from`) into `destination` (described by `to`), converting
    /// the data type and layout: how weights reach the bf16 blocked layout once, at load.
    static func reorder(from: dnnl_memory_desc_t, _ source: UnsafeRawPointer,
                        to: dnnl_memory_desc_t, _ destination: UnsafeMutableRawPointer) throws {
        guard let engine else { throw FiTError.oneDNN("no CPU engine") }
        var pd: dnnl_primitive_desc_t?
        var (f, t) = (from, to)
        try check(dnnl_reorder_primitive_desc_create(&pd, &f, engine, &t, engine, nil), "reorder primitive_desc_create")
        defer { dnnl_primitive_desc_destroy(pd) }
        var p: dnnl_primitive_t?
        try check(dnnl_primitive_create(&p, pd), "reorder primitive_create")
        defer { dnnl_primitive_destroy(p) }
        run(p!, arguments: [(DNNL_ARG_FROM, from, source), (DNNL_ARG_TO, to, UnsafeRawPointer(destination))])
    }
}

extension OneDNN {
    /// The variable libgomp (oneDNN's OpenMP runtime) reads at load time for how idle threads wait.
    public static let waitPolicyVariable = "OMP_WAIT_POLICY"
    /// `PASSIVE`: idle OpenMP threads sleep at once. FiTKit alternates oneDNN calls with its own
    /// parallel loops; spinning OpenMP threads would take their cores (FiTv2-XL bf16 forward,
    /// 2 threads: 2.00 s spinning, 1.84 s passive).
    public static let recommendedWaitPolicy = "PASSIVE"
}
