// libFuzzer target `fuzz-jsonl`: a JSON Lines task file (input/output or messages records).
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraData

@main
enum FuzzJSONL {
    static func main() { FuzzDriver.main("jsonl", testOneInput) }
}

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        _ = try? JSONLReader.parse(Data(bytes), path: "task.jsonl", skipBadLines: false)
        _ = try? JSONLReader.parse(Data(bytes), path: "task.jsonl", skipBadLines: true)
    }
}
