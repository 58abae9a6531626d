// `secura-dist generate MODEL --prompt "..."`: text generation with a KV cache, greedy or sampled.
import ArgumentParser
import Foundation
import SecuraData
import SecuraModel
import SecuraRun
import SecuraTokenizer

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a continuation (or a chat answer with --chat) for a prompt.")

    @Argument(help: "A GGUF file or a Hugging Face folder.")
    var model: String

    @Option(help: "The prompt text.")
    var prompt: String

    @Flag(inversion: .prefixedNo, help: "Wrap the prompt as a user turn in the model's chat template and stop at the end of the turn.")
    var chat = false

    @Option(help: "A system message (with --chat).")
    var system: String?

    @OptionGroup var template: ChatTemplateOptions

    @Option(help: "Most new tokens to generate.")
    var maxTokens = 128

    @Option(help: "Sampling temperature; 0 is greedy decoding.")
    var temperature: Double = 0

    @Option(help: "Nucleus sampling mass (with a temperature above 0).")
    var topP: Double = 1

    @Option(help: "Seed for sampling.")
    var seed: UInt64 = 0

    @Option(help: "Generate with an adapter: a folder written by train or a PEFT folder.")
    var adapter: String?

    @Flag(help: "Print one JSON object (prompt ids, new ids, text, speed) instead of streaming the text.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    struct Result: Encodable {
        let prompt_tokens: [Int32]
        let tokens: [Int32]
        let text: String
        let stop_reason: String
        let prefill_seconds: Double
        let decode_seconds: Double
        let tokens_per_second: Double
    }

    func run() throws {
        guard maxTokens >= 0, temperature >= 0, topP > 0, topP <= 1 else {
            throw ValidationError("--max-tokens must be ≥ 0, --temperature ≥ 0, --top-p in (0, 1]")
        }
        try runReportingErrors(runtime) { comm in
            let context = try ModelContext.open(model)
            let tokenizer = try context.tokenizer()
            let decoder = try context.decoder(adapter: adapter)
            var ids: [Int32]
            var stops = Set<Int32>()
            if let eos = tokenizer.specialTokens.eos { stops.insert(Int32(eos)) }
            if chat {
                let template = try context.chatTemplate(self.template.settings)
                var messages: [ChatMessage] = []
                if let system { messages.append(ChatMessage(role: "system", content: system)) }
                messages.append(ChatMessage(role: "user", content: prompt))
                let text = try template.render(messages, addGenerationPrompt: true)
                ids = tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
                if let eot = template.endOfTurnToken.flatMap(tokenizer.id(forToken:)) { stops.insert(Int32(eot)) }
            } else {
                ids = tokenizer.encode(prompt).map(Int32.init)
            }
            let stream = !json && comm.isRoot
            var emitted: [Int] = []
            var printed = ""
            let g = try decoder.generate(prompt: ids, maxNewTokens: maxTokens, stopTokens: stops,
                                         sampling: SamplingOptions(temperature: temperature, topP: topP, seed: seed)) { token in
                guard stream else { return }
                // Print only the text that is complete so far (a token may end mid UTF-8 sequence).
                emitted.append(Int(token))
                let text = tokenizer.decode(emitted, skipSpecialTokens: true)
                if !text.hasSuffix("\u{FFFD}"), text.count >= printed.count {
                    let new = String(text.dropFirst(printed.count))
                    FileHandle.standardOutput.write(Data(new.utf8))
                    printed = text
                }
            }
            let text = tokenizer.decode(g.tokens.map(Int.init), skipSpecialTokens: true)
            if stream {
                FileHandle.standardOutput.write(Data((String(text.dropFirst(printed.count)) + "\n").utf8))
                let rate = g.decodeSeconds > 0 ? Double(g.tokens.count) / g.decodeSeconds : 0
                FileHandle.standardError.write(Data(("[\(ids.count) prompt tokens, \(g.tokens.count) new tokens, "
                    + String(format: "%.1f tokens/s", rate) + ", stop: \(g.stopReason.rawValue)]\n").utf8))
            } else {
                RootPrinter(comm: comm)(try jsonLine(Result(
                    prompt_tokens: ids, tokens: g.tokens, text: text, stop_reason: g.stopReason.rawValue,
                    prefill_seconds: g.prefillSeconds, decode_seconds: g.decodeSeconds,
                    tokens_per_second: g.decodeSeconds > 0 ? Double(g.tokens.count) / g.decodeSeconds : 0)))
            }
        }
    }
}
