// libFuzzer target `fuzz-jsonl`: a JSON Lines task file (input/output or messages records).
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraData

#if FUZZING
/// One input: any thrown error is a clean rejection.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    _ = try? JSONLReader.parse(Data(bytes), path: "task.jsonl", skipBadLines: false)
    _ = try? JSONLReader.parse(Data(bytes), path: "task.jsonl", skipBadLines: true)
    return 0
}

@_cdecl("fuzz_jsonl_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
#else
@main
enum FuzzUsage {
    static func main() { FuzzDriver.usage("jsonl") }
}
#endif
