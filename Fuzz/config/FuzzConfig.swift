// libFuzzer target `fuzz-config`: a model's config.json, decoded and resolved into a decoder
// configuration (every size validated).
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraModel

#if FUZZING
/// One input: any thrown error is a clean rejection.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let data = Data(bytes)
    guard let raw = try? ModelConfig.decode(data, path: "config.json") else { return 0 }
    _ = try? DecoderConfig(raw, path: "config.json")
    return 0
}

@_cdecl("fuzz_config_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
#else
@main
enum FuzzUsage {
    static func main() { FuzzDriver.usage("config") }
}
#endif
