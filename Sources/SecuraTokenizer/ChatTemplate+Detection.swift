// Recognising a chat template from its Jinja source (tokenizer_config.json, chat_template.jinja or the
// GGUF's tokenizer.chat_template) by distinctive markers, since secura-dist renders templates natively
// instead of running Jinja. Anything that does not look like a supported family is refused by name.

import Foundation

extension ChatTemplate {
    /// Recognises the family of a Jinja chat template.
    ///
    /// - ChatML: `<|im_start|>` and `<|im_end|>`; a literal `<|im_start|>system\n…<|im_end|>` string
    ///   in the template is its default system prompt (SmolLM2, Qwen2, Qwen2.5 without tools).
    /// - Llama 3: `<|start_header_id|>`, `<|end_header_id|>` and `<|eot_id|>`.
    ///
    /// - Parameters:
    ///   - template: the Jinja source.
    ///   - source: the file it came from, for error messages.
    ///   - bosToken: the tokenizer's BOS token content (Llama 3 puts it before the first message).
    /// - Throws: `TokenizerError.unsupportedChatTemplate` naming what was found.
    public init(detecting template: String, source: String, bosToken: String? = nil) throws {
        func has(_ marker: String) -> Bool { template.contains(marker) }
        if has("<|start_header_id|>") && has("<|end_header_id|>") && has("<|eot_id|>") {
            if has("Cutting Knowledge Date") || has("date_string") {
                throw TokenizerError.unsupportedChatTemplate(source: source,
                    reason: "Llama 3.1+ template (system header with 'Cutting Knowledge Date' / tools); only Llama 3's plain header template is supported")
            }
            self = .llama3(bosToken: bosToken ?? "<|begin_of_text|>")
            return
        }
        if has("<|im_start|>") && has("<|im_end|>") {
            if has("<think>") || has("reasoning_content") || has("enable_thinking") {
                throw TokenizerError.unsupportedChatTemplate(source: source,
                    reason: "ChatML template with thinking blocks (<think>, as in Qwen3); only plain ChatML (SmolLM2, Qwen2) is supported")
            }
            self = .chatML(defaultSystemPrompt: Self.defaultSystemPrompt(in: template))
            return
        }
        let known: [(String, String)] = [
            ("[INST]", "Mistral/Llama 2 [INST]"), ("<start_of_turn>", "Gemma"), ("<|user|>", "Zephyr/Phi"),
            ("<|START_OF_TURN_TOKEN|>", "Command-R"),
        ]
        let family = known.first { has($0.0) }.map { " (looks like \($0.1))" } ?? ""
        throw TokenizerError.unsupportedChatTemplate(source: source,
            reason: "not ChatML (<|im_start|>/<|im_end|>) or Llama 3 (<|start_header_id|>/<|eot_id|>)\(family)")
    }

    /// The literal text between `<|im_start|>system` + newline and `<|im_end|>` when it contains no Jinja
    /// expression (quotes, braces or `+` would mean it is built from a message, not a constant).
    /// The newline may be a real one (GGUF) or the Jinja escape `\n` (tokenizer_config.json).
    static func defaultSystemPrompt(in template: String) -> String? {
        for newline in ["\n", "\\n"] {
            var rest = template[...]
            let opener = "<|im_start|>system" + newline
            while let start = rest.range(of: opener) {
                rest = rest[start.upperBound...]
                guard let end = rest.range(of: "<|im_end|>") else { break }
                let body = rest[..<end.lowerBound]
                if !body.isEmpty && !body.contains(where: { "'\"{}+".contains($0) }) {
                    return unescapeJinja(String(body))
                }
            }
        }
        return nil
    }

    /// Jinja string-literal escapes: \n, \t, \\, \', \".
    private static func unescapeJinja(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                switch character {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
