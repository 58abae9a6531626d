// libFuzzer target `fuzz-gguf`: a GGUF file's header and metadata, then the
// model configuration, tokenizer and small tensors read from them.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraData
import SecuraIO
import SecuraModel
import SecuraTokenizer

#if FUZZING
/// One input: any thrown error is a clean rejection.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    guard let file = try? GGUFFile(bytes: bytes, path: "fuzz.gguf") else { return 0 }
    for info in file.tensors where info.elementCount <= 1 << 16 {
        _ = try? file.floats(info.name)
    }
    if let model = try? GGUFModel(file: file) {
        _ = try? DecoderConfig(model.config, path: file.path)
    }
    if let data = try? TokenizerLoader.ggufData(file), let tokenizer = try? Tokenizer(gguf: data, source: file.path) {
        _ = tokenizer.decode(tokenizer.encode("Hello, world! 123 <|im_start|>"))
    }
    return 0
}

@_cdecl("fuzz_gguf_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
#else
@main
enum FuzzUsage {
    static func main() { FuzzDriver.usage("gguf") }
}
#endif
