// libFuzzer target `fuzz-state`: a checkpoint's or adapter folder's state.json.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraTrain

@main
enum FuzzState {
    static func main() { FuzzDriver.main("state", testOneInput) }
}

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        _ = try? Checkpoint.decodeState(Data(bytes), path: "state.json")
    }
}
