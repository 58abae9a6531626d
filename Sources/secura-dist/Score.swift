// `secura-dist score MODEL --tokens ...`: next-token losses of a token sequence, as one JSON object.
// A stable, machine-readable interface for checking secura-dist's numerics from outside.
import ArgumentParser
import Foundation
import SecuraIO
import SecuraData
import SecuraModel
import SecuraRun
import SecuraTokenizer

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a token sequence: mean and per-position next-token loss, as JSON.",
        discussion: """
            Prints {"loss": mean, "losses": [...], "tokens": count}. Position t scores token t+1 given \
            tokens 0..t, so a sequence of T tokens has T-1 losses.
            """)

    @Argument(help: "A Hugging Face model folder.")
    var model: String

    @Option(help: "Comma-separated token ids, at least two (e.g. 1,2,3).")
    var tokens: String?

    @Option(help: "Text to score instead of --tokens (tokenized with the model's tokenizer).")
    var text: String?

    @Flag(help: "With --text: render the text as a user turn of the model's chat template.")
    var chat = false

    @OptionGroup var template: ChatTemplateOptions

    @Option(help: "Also write the logits [T, vocab] as tensor \"logits\" to this safetensors file.")
    var dumpLogits: String?

    @Option(help: "Score with an adapter: a folder written by train (OUTPUT/adapter or a checkpoint) or a PEFT LoRA/DoRA folder.")
    var adapter: String?

    @Option(help: "With an IMSM adapter: the first N tokens are the prompt that the gate's prompt means average over (default: the whole sequence).")
    var promptLength: Int?

    @OptionGroup var runtime: RuntimeOptions

    struct Result: Encodable {
        let loss: Double
        let losses: [Double]
        let tokens: Int
    }

    static func parseTokens(_ text: String) throws -> [Int32] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        var ids: [Int32] = []
        for (i, p) in parts.enumerated() {
            let s = p.trimmingCharacters(in: .whitespaces)
            guard let v = Int32(s) else {
                throw ValidationError("--tokens: item \(i + 1) ('\(s)') is not a token id")
            }
            ids.append(v)
        }
        guard ids.count >= 2 else { throw ValidationError("--tokens needs at least two token ids to score") }
        return ids
    }

    func run() throws {
        try runReportingErrors(runtime) { comm in
            guard (tokens == nil) != (text == nil) else { throw ValidationError("give exactly one of --tokens and --text") }
            let context = try ModelContext.open(model)
            let ids: [Int32]
            switch (tokens, text) {
            case let (t?, nil):
                ids = try Self.parseTokens(t)
            case let (nil, t?):
                let tokenizer = try context.tokenizer()
                if chat {
                    let rendered = try context.chatTemplate(template.settings).render([ChatMessage(role: "user", content: t)], addGenerationPrompt: false)
                    ids = tokenizer.encode(rendered, addSpecialTokens: false).map(Int32.init)
                } else {
                    ids = tokenizer.encode(t).map(Int32.init)
                }
                guard ids.count >= 2 else { throw ValidationError("--text gives \(ids.count) token(s); at least two are needed to score") }
            default:
                throw ValidationError("give exactly one of --tokens and --text")
            }
            if let p = promptLength, !(0...ids.count).contains(p) {
                throw ValidationError("--prompt-length \(p) is outside 0...\(ids.count) (the sequence's tokens)")
            }
            let decoder = try context.decoder(adapter: adapter)
            let scored = try SequenceScore.score(decoder, ids: ids, promptLength: promptLength, keepLogits: dumpLogits != nil)
            if let dumpLogits, comm.isRoot, let logits = scored.logits {
                var writer = SafeTensorsWriter(path: dumpLogits, metadata: ["model": model, "tokens": ids.map(String.init).joined(separator: ",")])
                try writer.add("logits", floats: logits, shape: [ids.count, decoder.config.vocabSize])
                try writer.write()
            }
            RootPrinter(comm: comm)(try jsonLine(Result(loss: scored.loss, losses: scored.losses, tokens: ids.count)))
        }
    }
}
