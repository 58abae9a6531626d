// From records to token sequences: the model's chat template (or --chat-template FILE) renders a user
// turn (the prompt) and an assistant turn (the first answer); the loss mask covers the answer tokens and
// the end-of-turn token, located by comparing renderings (ChatTemplate.segments).
// Without a chat template the prompt and answer are concatenated, with EOS after the answer.
// Sequences longer than --max-length are cut at the end, and counted.
import Foundation
import SecuraModel
import SecuraTokenizer

public struct PromptOptions: Sendable, Equatable {
    /// Render with the model's chat template (else plain prompt + answer + EOS).
    public var chat = true
    /// Longest sequence in tokens; longer ones are cut at the end.
    public var maxLength = 512
    /// Template source that replaces the tokenizer's, and the file it came from (for errors).
    public var chatTemplate: String? = nil
    public var chatTemplateOrigin: String? = nil
    /// Pins what `strftime_now` returns in templates that print today's date (nil: today).
    public var templateDate: Date? = nil
    public init() {}
}

/// Examples built from records, with what truncation did.
public struct BuiltExamples: Sendable {
    public var examples: [TrainingExample]
    /// Examples that were cut to the maximum length, and the tokens cut in all.
    public var truncated = 0
    public var tokensCut = 0
    /// Examples dropped because truncation left no answer token.
    public var dropped = 0
}

public struct PromptBuilder {
    public let tokenizer: Tokenizer
    public let template: ChatTemplate?
    public let options: PromptOptions

    /// - Throws: when `options.chat` is set and there is no chat template, or it does not parse.
    public init(tokenizer: Tokenizer, options: PromptOptions) throws {
        self.tokenizer = tokenizer
        self.options = options
        template = options.chat
            ? try tokenizer.chatTemplate(override: options.chatTemplate, overrideOrigin: options.chatTemplateOrigin,
                                         date: options.templateDate)
            : nil
    }

    /// The chat messages of a record (a prompt/answer pair becomes a user and an assistant turn).
    public static func messages(_ record: DataRecord, answer: Bool = true) -> [ChatMessage] {
        switch record.content {
        case let .promptAnswer(prompt, answers):
            let user = ChatMessage(role: "user", content: prompt)
            return answer ? [user, ChatMessage(role: "assistant", content: answers.first ?? "")] : [user]
        case let .messages(turns):
            var m = turns.map { ChatMessage(role: $0.role, content: $0.content) }
            if !answer, m.last?.role == "assistant" { m.removeLast() }
            return m
        }
    }

    /// The training example of `record` (before truncation).
    /// - Throws: when the template fails to render the record or cannot locate its answer.
    public func fullExample(_ record: DataRecord) throws -> TrainingExample {
        if let template {
            let (ids, isAnswer) = tokenizer.encode(try template.segments(Self.messages(record)))
            return TrainingExample(tokens: ids.map(Int32.init), lossMask: isAnswer)
        }
        let messages = Self.messages(record)
        let promptText = messages.dropLast().map(\.content).joined(separator: "\n")
        let prompt = tokenizer.encode(promptText)
        var answer = tokenizer.encode(messages.last?.content ?? "", addSpecialTokens: false)
        if let eos = tokenizer.specialTokens.eos { answer.append(eos) }
        return TrainingExample(tokens: (prompt + answer).map(Int32.init),
                               lossMask: [Bool](repeating: false, count: prompt.count) + [Bool](repeating: true, count: answer.count))
    }

    /// Token ids of the prompt alone, ending where the model should start answering.
    public func promptTokens(_ record: DataRecord) throws -> [Int32] {
        if let template {
            let text = try template.render(Self.messages(record, answer: false), addGenerationPrompt: true)
            return tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
        }
        return tokenizer.encode(Self.messages(record, answer: false).map(\.content).joined(separator: "\n")).map(Int32.init)
    }

    /// Builds and truncates every record's example.
    /// - Throws: the first record the template cannot render (naming the record's origin).
    public func build(_ records: [DataRecord]) throws -> BuiltExamples {
        var out = BuiltExamples(examples: [])
        for record in records {
            var e: TrainingExample
            do {
                e = try fullExample(record)
            } catch {
                throw DataError.template(origin: record.origin, reason: "\(error)")
            }
            if e.tokens.count > options.maxLength {
                out.truncated += 1
                out.tokensCut += e.tokens.count - options.maxLength
                e = TrainingExample(tokens: Array(e.tokens.prefix(options.maxLength)),
                                    lossMask: Array(e.lossMask.prefix(options.maxLength)))
            }
            if e.targetCount == 0 { out.dropped += 1; continue }
            out.examples.append(e)
        }
        return out
    }
}
