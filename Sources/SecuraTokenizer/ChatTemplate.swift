// Chat templates rendered natively (no Jinja engine) for the supported families:
//
//   ChatML (SmolLM2, Qwen2)  [<|im_start|>system\n{default prompt}<|im_end|>\n  when the first message
//                            is not a system one and the template has a default prompt]
//                            <|im_start|>{role}\n{content}<|im_end|>\n ...   + <|im_start|>assistant\n
//   Llama 3                  {bos}<|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|>
//                            ...   + <|start_header_id|>assistant<|end_header_id|>\n\n
//
// Rendering produces segments, each marked as answer or not, so training can put the loss on the
// assistant's content and its end-of-turn token only. ChatTemplate+Detection.swift picks the family
// from a template's source text.

/// One chat message. Roles are "system", "user" and "assistant" (others are rendered verbatim).
public struct ChatMessage: Codable, Equatable, Sendable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A piece of a rendered conversation. `isAnswer` marks an assistant's content plus its end-of-turn
/// token: the tokens a model is trained to produce.
public struct ChatSegment: Equatable, Sendable {
    public var text: String
    public var isAnswer: Bool

    public init(text: String, isAnswer: Bool) {
        self.text = text
        self.isAnswer = isAnswer
    }
}

/// A supported chat template, rendered natively.
public struct ChatTemplate: Equatable, Sendable {
    /// The template families.
    public enum Family: String, Equatable, Sendable {
        /// <|im_start|>role\ncontent<|im_end|>\n (SmolLM2, Qwen2).
        case chatML
        /// <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|> (Llama 3).
        case llama3
    }

    public let family: Family
    /// ChatML: the system prompt inserted when the first message is not a system message
    /// (SmolLM2: "You are a helpful AI assistant named SmolLM, trained by Hugging Face";
    /// Qwen2: "You are a helpful assistant."). Nil: none is inserted.
    public let defaultSystemPrompt: String?
    /// Llama 3: the text put before the first message (the tokenizer's BOS token).
    public let bosToken: String

    /// A ChatML template with an optional default system prompt.
    public static func chatML(defaultSystemPrompt: String?) -> ChatTemplate {
        ChatTemplate(family: .chatML, defaultSystemPrompt: defaultSystemPrompt, bosToken: "")
    }

    /// Llama 3's template; `bosToken` is `<|begin_of_text|>` for every Llama 3 tokenizer.
    public static func llama3(bosToken: String = "<|begin_of_text|>") -> ChatTemplate {
        ChatTemplate(family: .llama3, defaultSystemPrompt: nil, bosToken: bosToken)
    }

    /// The token that ends every turn, and which generation stops at.
    public var endOfTurnToken: String {
        switch family {
        case .chatML: return "<|im_end|>"
        case .llama3: return "<|eot_id|>"
        }
    }

    /// The rendered conversation as one string (what transformers' `apply_chat_template(tokenize=False)`
    /// gives). `addGenerationPrompt` appends the header of an assistant turn.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        segments(messages, addGenerationPrompt: addGenerationPrompt).map(\.text).joined()
    }

    /// The rendered conversation as segments; every assistant message's content and end-of-turn
    /// token form one answer segment. Joined, the texts equal `render`.
    public func segments(_ messages: [ChatMessage], addGenerationPrompt: Bool = false) -> [ChatSegment] {
        var out: [ChatSegment] = []
        func prompt(_ text: String) {
            if let last = out.last, !last.isAnswer {
                out[out.count - 1].text += text
            } else {
                out.append(ChatSegment(text: text, isAnswer: false))
            }
        }
        func turn(_ message: ChatMessage, header: String, content: String, trailer: String) {
            prompt(header)
            if message.role == "assistant" {
                out.append(ChatSegment(text: content + endOfTurnToken, isAnswer: true))
            } else {
                prompt(content + endOfTurnToken)
            }
            if !trailer.isEmpty { prompt(trailer) }
        }
        switch family {
        case .chatML:
            for (index, message) in messages.enumerated() {
                if index == 0, message.role != "system", let system = defaultSystemPrompt {
                    prompt("<|im_start|>system\n" + system + "<|im_end|>\n")
                }
                turn(message, header: "<|im_start|>" + message.role + "\n", content: message.content, trailer: "\n")
            }
            if addGenerationPrompt { prompt("<|im_start|>assistant\n") }
        case .llama3:
            for (index, message) in messages.enumerated() {
                let header = (index == 0 ? bosToken : "") + "<|start_header_id|>" + message.role + "<|end_header_id|>\n\n"
                turn(message, header: header, content: Self.jinjaTrim(message.content), trailer: "")
            }
            if addGenerationPrompt { prompt("<|start_header_id|>assistant<|end_header_id|>\n\n") }
        }
        return out
    }

    /// The conversation split for training on its last turn: `prompt` is everything rendered before
    /// the last assistant message's content (it ends with the assistant header, exactly the
    /// generation prompt of the earlier messages); `answer` is that content plus the end-of-turn token.
    ///
    /// - Throws: `TokenizerError.invalidConversation` when the last message is not from the assistant.
    public func promptAndAnswer(_ messages: [ChatMessage]) throws -> (prompt: String, answer: String) {
        guard let last = messages.last else {
            throw TokenizerError.invalidConversation(reason: "the conversation is empty")
        }
        guard last.role == "assistant" else {
            throw TokenizerError.invalidConversation(
                reason: "the last message is from '\(last.role)'; training needs an assistant answer last")
        }
        let parts = segments(messages)
        guard let answerIndex = parts.lastIndex(where: \.isAnswer) else {
            throw TokenizerError.invalidConversation(reason: "no assistant answer was rendered")
        }
        return (parts[..<answerIndex].map(\.text).joined(), parts[answerIndex].text)
    }

    /// Jinja's `trim` filter: Python's `str.strip()`, which strips whitespace as `str.isspace` defines
    /// it (Unicode White_Space plus the separators U+001C...U+001F).
    static func jinjaTrim(_ text: String) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }
}
