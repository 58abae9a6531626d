// What a GGUF file says about one tensor, after validation against the file.

/// One tensor's validated info record.
///
/// ggml lists dimensions innermost first: a linear weight with `in` inputs and `out` outputs has
/// `dimensions == [in, out]`, stored as `out` rows of `in` elements, which is exactly the byte layout of
/// a row-major `[out, in]` matrix. `shape` gives that row-major, outermost-first order. Quantised types
/// pack each row into whole blocks (the row length is a multiple of the block size).
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The GGUF tensor name, e.g. "blk.0.attn_q.weight".
    public let name: String
    public let type: GGMLType
    /// ggml's `ne`, innermost (contiguous) first; 0 to 4 entries.
    public let dimensions: [Int]
    /// Product of the dimensions (1 for no dimensions).
    public let elementCount: Int
    /// Offset of the data relative to the start of the data section, as written in the file.
    public let offset: Int
    /// The data's byte range within the whole file.
    public let fileRange: Range<Int>
    /// File offset of this tensor's info record (for error messages).
    public let infoOffset: Int

    /// Row-major shape, outermost first (`dimensions` reversed), as PyTorch / Hugging Face write it.
    public var shape: [Int] { dimensions.reversed() }
    /// Elements per row (the innermost dimension).
    public var rowLength: Int { dimensions.first ?? 1 }
    /// Number of rows (all dimensions but the innermost).
    public var rowCount: Int { rowLength == 0 ? 0 : elementCount / rowLength }
    /// Bytes per row: whole blocks.
    public var rowByteCount: Int { rowLength / type.blockSize * type.bytesPerBlock }
    /// Bytes of data.
    public var byteCount: Int { fileRange.count }
}
