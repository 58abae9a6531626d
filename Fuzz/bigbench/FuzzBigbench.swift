// libFuzzer target `fuzz-bigbench`: a BIG-bench task.json (examples, prefixes, target_scores).
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraData

#if FUZZING
/// One input: any thrown error is a clean rejection.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    _ = try? BigBenchReader.parse(Data(bytes), path: "task.json", skipBadLines: false)
    _ = try? BigBenchReader.parse(Data(bytes), path: "task.json", skipBadLines: true)
    return 0
}

@_cdecl("fuzz_bigbench_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
#else
@main
enum FuzzUsage {
    static func main() { FuzzDriver.usage("bigbench") }
}
#endif
