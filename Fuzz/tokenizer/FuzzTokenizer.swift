// libFuzzer target `fuzz-tokenizer`: a tokenizer.json, then encoding and decoding a fixed text
// with the tokenizer it describes.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraTokenizer

@main
enum FuzzTokenizer {
    static func main() { FuzzDriver.main("tokenizer", testOneInput) }
}

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        let tokenizer = try Tokenizer(tokenizerJSONData: Data(bytes), source: "tokenizer.json")
        _ = tokenizer.decode(tokenizer.encode("Hello, world! 123 \u{00e9}\u{4e2d} <|im_start|>user\n"))
    }
}
