// libFuzzer target `fuzz-toml`: a `--config` TOML flag file, turned into arguments.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraIO

@main
enum FuzzTOML {
    static func main() { FuzzDriver.main("toml", testOneInput) }
}

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        _ = try? FlagFile.arguments(Data(bytes), path: "run.toml")
    }
}
