// Chat support on the tokenizer: the chat template its files declare, and encoding of rendered chat
// segments with a mask of the answer tokens (for a loss on answers only).

extension Tokenizer {
    /// The tokenizer's chat template, recognised from `chatTemplateSource`.
    ///
    /// - Throws: `TokenizerError.noChatTemplate` when there is none, `.unsupportedChatTemplate` when it is
    ///   not a supported family.
    public func chatTemplate() throws -> ChatTemplate {
        guard let template = chatTemplateSource else { throw TokenizerError.noChatTemplate(source: source) }
        return try ChatTemplate(detecting: template, source: source,
                                bosToken: specialTokens.bos.flatMap { token(forID: $0) })
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
