// libFuzzer target `fuzz-adapter-config`: a PEFT adapter_config.json, checked and turned into
// method settings.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraTrain

@main
enum FuzzAdapterConfig {
    static func main() { FuzzDriver.main("adapter-config", testOneInput) }
}

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        let config = try PEFTFormat.decodeConfig(Data(bytes), path: "adapter_config.json")
        _ = try? PEFTFormat.settings(config, path: "adapter_config.json")
    }
}
