// libFuzzer target `fuzz-safetensors`: a safetensors file's length prefix and JSON header, then
// the tensors it declares (small ones only).
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import FuzzSupport
import SecuraIO

#if FUZZING
/// One input: any thrown error is a clean rejection.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    guard let file = try? SafeTensorsFile(bytes: bytes, path: "fuzz.safetensors") else { return 0 }
    for entry in file.entries where entry.elementCount <= 1 << 16 {
        _ = try? file.floats(entry.name)
    }
    return 0
}

@_cdecl("fuzz_safetensors_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
#else
@main
enum FuzzUsage {
    static func main() { FuzzDriver.usage("safetensors") }
}
#endif
