// libFuzzer target `fuzz-config`: a model's config.json, decoded and resolved into a decoder
// configuration (every size validated).
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraModel

@main
enum FuzzConfig {
    static func main() { FuzzDriver.main("config", testOneInput) }
}

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        let raw = try ModelConfig.decode(Data(bytes), path: "config.json")
        _ = try? DecoderConfig(raw, path: "config.json")
    }
}
