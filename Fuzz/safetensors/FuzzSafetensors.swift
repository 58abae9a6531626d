// libFuzzer target `fuzz-safetensors`: a safetensors file's length prefix and JSON header, then
// the tensors it declares (small ones only).
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import FuzzSupport
import SecuraIO

@main
enum FuzzSafetensors {
    static func main() { FuzzDriver.main("safetensors", testOneInput) }
}

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        let file = try SafeTensorsFile(bytes: bytes, path: "fuzz.safetensors")
        for entry in file.entries where entry.elementCount <= 1 << 16 {
            _ = try? file.floats(entry.name)
        }
    }
}
