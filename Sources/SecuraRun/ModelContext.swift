// A model opened for a job, with what every command needs beside it: the tokenizer, the decoder with an
// optional adapter attached, and prompt rendering. Train, eval, generate and score share it, and an
// experiment opens it once for all its runs. A GGUF file's quantised tensors are dequantised once per node
// into node-shared memory (each rank of the node converts a share) instead of once per rank; safetensors
// weights are memory-mapped and already shared through the page cache.
import Foundation
import SecuraAdapters
import SecuraData
import SecuraDistributed
import SecuraModel
import SecuraTokenizer
import SecuraTrain

public final class ModelContext {
    /// The model's path (GGUF file or Hugging Face folder).
    public let path: String
    public let loaded: LoadedModel
    private var cachedTokenizer: Tokenizer?

    /// Wraps an opened model (nothing dequantised yet).
    public init(_ loaded: LoadedModel) {
        self.path = loaded.path
        self.loaded = loaded
    }

    /// A context for `loaded` that reuses `other`'s tokenizer (a fused copy of the same model).
    init(_ loaded: LoadedModel, sharingTokenizerWith other: ModelContext) {
        self.path = loaded.path
        self.loaded = loaded
        self.cachedTokenizer = other.cachedTokenizer
    }

    /// Opens `path` without reading weights (configuration, tensor list, file sizes).
    public static func open(_ path: String) throws -> ModelContext {
        ModelContext(try ModelLoader.open(path))
    }

    /// Opens `path` and shares its dequantised weights over the node. Collective over the node.
    public static func open(_ path: String, comm: Communicator, note: (String) -> Void) throws -> ModelContext {
        let context = try open(path)
        try context.shareDequantised(comm: comm, note: note)
        return context
    }

    public var config: DecoderConfig { loaded.config }

    /// Dequantises a GGUF model's quantised tensors into node-shared memory (nothing for safetensors).
    /// Collective over the node.
    public func shareDequantised(comm: Communicator, note: (String) -> Void) throws {
        guard let gguf = loaded.source as? GGUFModel else { return }
        let start = Date()
        let floats = try gguf.loadAllShared(part: comm.localRank, of: comm.localSize, allocate: { count in
            let block = try comm.allocateNodeShared(count: count)
            return (block.buffer.baseAddress, block)
        }, barrier: { try comm.nodeBarrier() })
        if floats > 0 {
            note(String(format: "dequantised %.0f MiB of weights in %.1f s", Double(floats) * 4 / 1_048_576,
                        Date().timeIntervalSince(start))
                 + (comm.localSize > 1 ? ", once per node (shared by its \(comm.localSize) ranks)" : ""))
        }
    }

    /// The model's tokenizer (loaded on first use).
    /// - Throws: the loader's errors, and `TokenizerError.invalidField` naming the tokenizer's file when it
    ///   has ids the model's embedding has no row for (they failed later, mid-run, naming no file).
    public func tokenizer() throws -> Tokenizer {
        if let cachedTokenizer { return cachedTokenizer }
        let t = try TokenizerLoader.load(path)
        guard t.vocabularySize <= config.vocabSize else {
            throw TokenizerError.invalidField(source: t.source, field: "vocabulary",
                reason: "token ids reach \(t.vocabularySize - 1), but the model at \(path) has \(config.vocabSize) embedding rows "
                    + "(vocab_size \(config.vocabSize)); the tokenizer does not belong to this model")
        }
        cachedTokenizer = t
        return t
    }

    /// The decoder, with the adapter in `adapterFolder` attached (a train output or a PEFT folder).
    public func decoder(adapter adapterFolder: String? = nil) throws -> DecoderModel {
        guard let adapterFolder else { return try loaded.decoder() }
        return try AdapterLoader.open(adapterFolder, config: loaded.config, base: loaded.source).model
    }

    /// Renders records as the tokenizer and `prompt` say.
    public func promptBuilder(_ prompt: PromptSettings) throws -> PromptBuilder {
        try PromptBuilder(tokenizer: tokenizer(), options: prompt.options())
    }

    /// The chat template to render with: the file in `prompt`, else the tokenizer's.
    public func chatTemplate(_ prompt: PromptSettings) throws -> ChatTemplate {
        let options = try prompt.options()
        return try tokenizer().chatTemplate(override: options.chatTemplate, overrideOrigin: options.chatTemplateOrigin,
                                            date: options.templateDate)
    }
}
