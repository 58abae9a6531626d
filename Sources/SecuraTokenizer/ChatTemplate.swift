// The model's own chat template (Jinja source from tokenizer_config.json, chat_template.jinja, the
// GGUF's tokenizer.chat_template, or --chat-template FILE), rendered by SecuraTemplate's interpreter
// with the variables transformers' apply_chat_template passes: messages, add_generation_prompt,
// tools = none, documents = none and the tokenizer's special tokens (bos_token, eos_token, ...).
//
// Answer-only loss masks come from renderings, not from knowledge of a template family: for each
// assistant message i, the rendering of messages[..<i] with add_generation_prompt must be a prefix of
// the rendering of messages[...i], which must be a prefix of the whole conversation's rendering; the
// bytes in between are that answer (up to and including the end-of-turn token; what follows it, such
// as ChatML's "\n", is prompt). A template for which this does not hold is refused with a message.
// There is no hand-written fallback: a model without a template needs --chat-template or --no-chat.

import Foundation
import SecuraTemplate

/// One chat message. Roles are "system", "user" and "assistant" (others are passed to the template).
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

/// A chat template, parsed once and rendered per conversation.
public struct ChatTemplate {
    /// The Jinja source.
    public let source: String
    /// Where it came from (a file path), named in every error.
    public let origin: String
    /// Variables such as `bos_token` and `eos_token`, as strings.
    public let specialTokens: [String: String]
    /// What `strftime_now` formats (in UTC); nil: the current local time, as transformers does.
    public let date: Date?
    /// The token that ends an assistant turn in this template's renderings (`<|im_end|>`, `<|eot_id|>`,
    /// `<end_of_turn>`), found by rendering a probe conversation; nil when none of the candidates
    /// follows the answer. Generation stops at it.
    public private(set) var endOfTurnToken: String?
    private let template: JinjaTemplate

    /// Parses `source`.
    ///
    /// - Parameters:
    ///   - endOfTurnCandidates: the tokenizer's special tokens; the one that directly follows a probe
    ///     answer in the rendering becomes `endOfTurnToken`.
    /// - Throws: `JinjaError` naming the line of a syntax error or unsupported construct.
    public init(source: String, origin: String, specialTokens: [String: String] = [:],
                endOfTurnCandidates: [String] = [], date: Date? = nil) throws {
        self.source = source
        self.origin = origin
        self.specialTokens = specialTokens
        self.date = date
        template = try JinjaTemplate(source, name: origin)
        endOfTurnToken = nil
        endOfTurnToken = probeEndOfTurn(candidates: endOfTurnCandidates)
    }

    /// The rendered conversation (what transformers' `apply_chat_template(tokenize=False)` gives).
    /// - Throws: `JinjaError` (including the template's own `raise_exception`, e.g. Gemma's refusal of
    ///   a system message).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        var context: [String: JinjaValue] = [
            "messages": .list(messages.map { .dict(JinjaDict([("role", .string($0.role)), ("content", .string($0.content))])) }),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "tools": .none,
            "documents": .none,
        ]
        for (k, v) in specialTokens { context[k] = .string(v) }
        if let date {
            return try template.render(context, now: date, timeZone: TimeZone(identifier: "UTC")!)
        }
        return try template.render(context)
    }

    /// The rendered conversation (without generation prompt) as segments; every assistant message's
    /// answer forms one answer segment. Joined, the texts equal `render(messages, false)`.
    ///
    /// - Throws: `TokenizerError.unsupportedChatTemplate` when a prompt's rendering is not a prefix of
    ///   the rendering with its answer; `JinjaError` when rendering fails.
    public func segments(_ messages: [ChatMessage]) throws -> [ChatSegment] {
        let full = Array(try render(messages, addGenerationPrompt: false).utf8)
        var out: [ChatSegment] = []
        var done = 0   // bytes of `full` already in `out`
        func append(_ end: Int, answer: Bool) {
            guard end > done else { return }
            let text = String(decoding: full[done..<end], as: UTF8.self)
            if let last = out.last, last.isAnswer == answer {
                out[out.count - 1].text += text
            } else {
                out.append(ChatSegment(text: text, isAnswer: answer))
            }
            done = end
        }
        for (i, message) in messages.enumerated() where message.role == "assistant" {
            let before = Array(try render(Array(messages[..<i]), addGenerationPrompt: true).utf8)
            let through = Array(try render(Array(messages[...i]), addGenerationPrompt: false).utf8)
            try requirePrefix(before, of: through, what: "messages 1…\(i) with add_generation_prompt",
                              whole: "messages 1…\(i + 1)")
            try requirePrefix(through, of: full, what: "messages 1…\(i + 1)", whole: "the whole conversation")
            guard before.count >= done else {
                throw TokenizerError.unsupportedChatTemplate(source: origin,
                    reason: "the answer of message \(i + 1) overlaps the previous answer; answer-only loss masks cannot be computed")
            }
            var answerEnd = through.count
            if let eot = endOfTurnToken.map({ Array($0.utf8) }), let hit = lastOccurrence(eot, in: through[before.count...]) {
                answerEnd = hit + eot.count
            }
            append(before.count, answer: false)
            append(answerEnd, answer: true)
        }
        append(full.count, answer: false)
        return out
    }

    /// The conversation split for training on its last turn: `prompt` is everything before the last
    /// answer (the generation prompt of the earlier messages), `answer` that answer up to and
    /// including the end-of-turn token.
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
        let parts = try segments(messages)
        guard let answerIndex = parts.lastIndex(where: \.isAnswer) else {
            throw TokenizerError.invalidConversation(reason: "no assistant answer was rendered")
        }
        return (parts[..<answerIndex].map(\.text).joined(), parts[answerIndex].text)
    }

    private func requirePrefix(_ prefix: [UInt8], of text: [UInt8], what: String, whole: String) throws {
        guard !text.starts(with: prefix) else { return }
        let at = (0..<min(prefix.count, text.count)).first { prefix[$0] != text[$0] } ?? min(prefix.count, text.count)
        func excerpt(_ bytes: [UInt8]) -> String {
            let start = max(0, at - 20)
            return String(decoding: bytes[start..<min(bytes.count, at + 20)], as: UTF8.self).debugDescription
        }
        throw TokenizerError.unsupportedChatTemplate(source: origin,
            reason: "its rendering of \(what) is not a prefix of its rendering of \(whole) (they differ at byte \(at): "
                + "\(excerpt(prefix)) vs \(excerpt(text))), so answer-only loss masks cannot be computed from it")
    }

    private func lastOccurrence(_ needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
        guard !needle.isEmpty, hay.count >= needle.count else { return nil }
        var i = hay.endIndex - needle.count
        while i >= hay.startIndex {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }

    /// Renders [user, assistant "ANSWER"] and returns the candidate token that directly follows the answer.
    private func probeEndOfTurn(candidates: [String]) -> String? {
        let answer = "7fb3a1 answer"
        let messages = [ChatMessage(role: "user", content: "probe question"), ChatMessage(role: "assistant", content: answer)]
        guard let before = try? render(Array(messages.prefix(1)), addGenerationPrompt: true),
              let through = try? render(messages, addGenerationPrompt: false),
              through.hasPrefix(before), let hit = through.range(of: answer, options: [.literal, .backwards]) else { return nil }
        let tail = through[hit.upperBound...]
        return candidates.filter { !$0.isEmpty && tail.hasPrefix($0) }.max { $0.count < $1.count }
    }
}
