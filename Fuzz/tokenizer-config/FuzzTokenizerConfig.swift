// libFuzzer target `fuzz-tokenizer-config`: a tokenizer_config.json applied to a small fixed
// tokenizer.json, then its chat template parsed.
// Built as a fuzzer only by launch/fuzz.sh (-DFUZZING -sanitize=fuzzer,address); see FuzzDriver.
import Foundation
import FuzzSupport
import SecuraTokenizer

@main
enum FuzzTokenizerConfig {
    static func main() { FuzzDriver.main("tokenizer-config", testOneInput) }
}

/// A small byte-level BPE tokenizer.json (printable ASCII, space and newline markers, a few merges,
/// ChatML special tokens) that every input's tokenizer_config.json is applied to.
let baseTokenizer: Data = {
    func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
    let special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    let pieces = special + (33...126).map { String(UnicodeScalar(UInt8($0))) } + ["Ġ", "Ċ", "Ġt", "he", "Ġthe"]
    let vocab = pieces.enumerated().map { "\(quoted($1)):\($0)" }.joined(separator: ",")
    let added = special.enumerated().map { "{\"id\":\($0),\"content\":\(quoted($1)),\"special\":true}" }
        .joined(separator: ",")
    let json = """
        {"added_tokens":[\(added)],"normalizer":null,
         "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
         "decoder":{"type":"ByteLevel"},
         "model":{"type":"BPE","vocab":{\(vocab)},"merges":["Ġ t","h e","Ġt he"]}}
        """
    return Data(json.utf8)
}()

/// Checked once: a base that fails to load would make every input a trivial rejection.
let baseLoads = (try? Tokenizer(tokenizerJSONData: baseTokenizer, source: "tokenizer.json")) != nil

/// One input; a thrown error is a clean rejection (FuzzDriver.testOneInput).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in
        precondition(baseLoads, "the fixed base tokenizer.json of fuzz-tokenizer-config does not load")
        let tokenizer = try Tokenizer(tokenizerJSONData: baseTokenizer, source: "tokenizer.json",
                                      configData: Data(bytes), configSource: "tokenizer_config.json")
        _ = try? tokenizer.chatTemplate(date: Date(timeIntervalSince1970: 0))
    }
}
