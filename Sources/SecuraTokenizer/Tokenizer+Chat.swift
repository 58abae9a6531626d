// Chat support on the tokenizer: its chat template (or one given instead), with the tokenizer's
// special tokens as template variables, and encoding of rendered chat segments with a mask of the
// answer tokens (for a loss on answers only).

import Foundation

extension Tokenizer {
    /// The tokenizer's chat template, or `override` (the text of a --chat-template file) instead.
    ///
    /// - Parameters:
    ///   - override: template source that replaces the tokenizer's; `overrideOrigin` names it in errors.
    ///   - date: pins `strftime_now` (templates that print today's date); nil: the current date.
    /// - Throws: `TokenizerError.noChatTemplate` when there is none; `JinjaError` when it does not parse
    ///   or uses something the interpreter does not support (naming the construct and line).
    public func chatTemplate(override: String? = nil, overrideOrigin: String? = nil, date: Date? = nil) throws -> ChatTemplate {
        guard let text = override ?? chatTemplateSource else { throw TokenizerError.noChatTemplate(source: source) }
        var variables: [String: String] = [:]
        let named = [("bos_token", specialTokens.bos), ("eos_token", specialTokens.eos),
                     ("unk_token", specialTokens.unknown), ("pad_token", specialTokens.padding)]
        for (name, id) in named {
            if let id, let token = token(forID: id) { variables[name] = token }
        }
        let candidates = addedTokens.filter(\.special).map(\.content) + [variables["eos_token"]].compactMap { $0 }
        return try ChatTemplate(source: text, origin: override == nil ? source : (overrideOrigin ?? "--chat-template"),
                                specialTokens: variables, endOfTurnCandidates: candidates, date: date)
    }

    /// Encodes rendered chat segments one by one (no post-processor tokens: templates carry their own)
    /// and marks which ids belong to answers, for a loss on answer tokens only.
    ///
    /// Segments are encoded separately, so an answer's tokens are exactly what the model must produce
    /// after the prompt's tokens at inference time.
    public func encode(_ segments: [ChatSegment]) -> (ids: [Int], isAnswer: [Bool]) {
        var ids: [Int] = []
        var isAnswer: [Bool] = []
        for segment in segments {
            let part = encode(segment.text, addSpecialTokens: false)
            ids += part
            isAnswer += [Bool](repeating: segment.isAnswer, count: part.count)
        }
        return (ids, isAnswer)
    }
}
