// libFuzzer target `fuzz-bigbench`: a BIG-bench task.json (examples, prefixes, target_scores).
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraData

@main
enum FuzzBigbench {
    static func main() { FuzzDriver.main("bigbench", testOneInput) }
}

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        _ = try? BigBenchReader.parse(Data(bytes), path: "task.json", skipBadLines: false)
        _ = try? BigBenchReader.parse(Data(bytes), path: "task.json", skipBadLines: true)
    }
}
