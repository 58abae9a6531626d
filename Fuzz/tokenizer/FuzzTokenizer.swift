// libFuzzer target `fuzz-tokenizer`: a tokenizer.json, then encoding and decoding a fixed text
// with the tokenizer it describes.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraTokenizer

#if FUZZING
/// One input: any thrown error is a clean rejection.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    guard let tokenizer = try? Tokenizer(tokenizerJSONData: Data(bytes), source: "tokenizer.json") else { return 0 }
    _ = tokenizer.decode(tokenizer.encode("Hello, world! 123 \u{00e9}\u{4e2d} <|im_start|>user\n"))
    return 0
}

@_cdecl("fuzz_tokenizer_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
#else
@main
enum FuzzUsage {
    static func main() { FuzzDriver.usage("tokenizer") }
}
#endif
