// Text generation with a KV cache: prefill the prompt once, then one token per step until an
// end-of-turn/EOS token or the length limit.
import Foundation

/// Why generation stopped.
public enum StopReason: String, Sendable, Codable {
    case stopToken = "stop_token"
    case maxTokens = "max_tokens"
    case contextFull = "context_full"
}

/// The result of one generation.
public struct Generation: Sendable {
    /// New tokens, excluding the stop token.
    public var tokens: [Int32]
    public var stopReason: StopReason
    /// Seconds spent on the prompt (prefill) and on the new tokens (decode).
    public var prefillSeconds: Double
    public var decodeSeconds: Double
}

extension DecoderModel {
    /// Generates up to `maxNewTokens` tokens after `prompt`.
    /// - Parameters:
    ///   - stopTokens: ids that end generation (not included in the result).
    ///   - contextLimit: maximum total length (prompt + new); defaults to the model's maximum positions.
    ///   - onToken: called with each new token as it is chosen (for streaming output).
    public func generate(prompt: [Int32], maxNewTokens: Int, stopTokens: Set<Int32>,
                         sampling: SamplingOptions = .greedy, contextLimit: Int? = nil,
                         onToken: ((Int32) -> Void)? = nil) throws -> Generation {
        guard !prompt.isEmpty else { throw ModelError.emptyPrompt }
        let limit = min(contextLimit ?? config.maxPositions, prompt.count + maxNewTokens)
        guard prompt.count <= limit || maxNewTokens == 0 else {
            throw ModelError.promptTooLong(tokens: prompt.count, contextLimit: limit)
        }
        let cache = KVCache(config: config, capacity: max(limit, prompt.count))
        var sampler = Sampler(sampling)
        var out: [Int32] = []
        let t0 = DispatchTime.now().uptimeNanoseconds
        var logits = try extend(cache, with: prompt)
        let t1 = DispatchTime.now().uptimeNanoseconds
        var reason = StopReason.maxTokens
        while out.count < maxNewTokens {
            let next = Int32(sampler.next(logits))
            if stopTokens.contains(next) { reason = .stopToken; break }
            out.append(next)
            onToken?(next)
            if out.count == maxNewTokens { break }
            if cache.count >= cache.capacity { reason = .contextFull; break }
            logits = try extend(cache, with: [next])
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        return Generation(tokens: out, stopReason: reason, prefillSeconds: Double(t1 - t0) / 1e9,
                          decodeSeconds: Double(t2 - t1) / 1e9)
    }
}
