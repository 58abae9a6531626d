// libFuzzer target `fuzz-adapter-config`: a PEFT adapter_config.json, checked and turned into
// method settings.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraTrain

#if FUZZING
/// One input: any thrown error is a clean rejection.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    guard let config = try? PEFTFormat.decodeConfig(Data(bytes), path: "adapter_config.json") else { return 0 }
    _ = try? PEFTFormat.settings(config, path: "adapter_config.json")
    return 0
}

@_cdecl("fuzz_adapter_config_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
#else
@main
enum FuzzUsage {
    static func main() { FuzzDriver.usage("adapter-config") }
}
#endif
