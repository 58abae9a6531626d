// libFuzzer target `fuzz-gguf`: a GGUF file's header and metadata, then the
// model configuration, tokenizer and small tensors read from them.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraData
import SecuraIO
import SecuraModel
import SecuraTokenizer

@main
enum FuzzGGUF {
    static func main() { FuzzDriver.main("gguf", testOneInput) }
}

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        let file = try GGUFFile(bytes: bytes, path: "fuzz.gguf")
        for info in file.tensors where info.elementCount <= 1 << 16 {
            _ = try? file.floats(info.name)
        }
        if let model = try? GGUFModel(file: file) {
            _ = try? DecoderConfig(model.config, path: file.path)
        }
        if let data = try? TokenizerLoader.ggufData(file), let tokenizer = try? Tokenizer(gguf: data, source: file.path) {
            _ = tokenizer.decode(tokenizer.encode("Hello, world! 123 <|im_start|>"))
        }
    }
}
