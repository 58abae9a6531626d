// `secura-dist tokenize MODEL --text S`: token ids of a text, as Hugging Face tokenizers gives them.
import ArgumentParser
import Foundation
import SecuraData

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of a text as JSON: {\"ids\": [...]}.",
        discussion: "Special tokens written in the text (e.g. <|im_start|>) stay intact. A BOS is added only when the model's tokenizer adds one by default, as Hugging Face does.")

    @Argument(help: "A GGUF file or a Hugging Face folder (its tokenizer.json).")
    var model: String

    @Option(help: "The text to tokenize.")
    var text: String

    @Flag(inversion: .prefixedNo, help: "Add the tokenizer's default special tokens (BOS/EOS post-processing).")
    var specialTokens = true

    @Flag(help: "Also print the token strings.")
    var pieces = false

    @OptionGroup var runtime: RuntimeOptions

    struct Result: Encodable {
        let ids: [Int]
        var tokens: [String]?
    }

    func run() throws {
        try runReportingErrors(runtime) { comm in
            let tokenizer = try TokenizerLoader.load(model)
            let ids = tokenizer.encode(text, addSpecialTokens: specialTokens)
            var result = Result(ids: ids)
            if pieces { result.tokens = ids.map { tokenizer.token(forID: $0) ?? "" } }
            RootPrinter(comm: comm)(try jsonLine(result))
        }
    }
}
