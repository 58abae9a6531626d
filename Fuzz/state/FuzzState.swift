// libFuzzer target `fuzz-state`: a checkpoint's or adapter folder's state.json.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraTrain

#if FUZZING
/// One input: any thrown error is a clean rejection.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    _ = try? Checkpoint.decodeState(Data(bytes), path: "state.json")
    return 0
}

@_cdecl("fuzz_state_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
#else
@main
enum FuzzUsage {
    static func main() { FuzzDriver.usage("state") }
}
#endif
