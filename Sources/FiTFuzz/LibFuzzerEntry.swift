#if FUZZING
import Foundation

/// libFuzzer's entry point (built with `swift build --sanitize fuzzer -Xswiftc -DFUZZING`; see
/// `make fuzz`). `FIT_FUZZ_TARGET` names the target (default: safetensors).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let name = ProcessInfo.processInfo.environment["FIT_FUZZ_TARGET"] ?? FuzzTarget.safetensors.rawValue
    guard let target = FuzzTarget(rawValue: name) else { fatalError("FIT_FUZZ_TARGET: no target '\(name)'") }
    target.run(Data(bytes: bytes, count: count))
    return 0
}
#endif
