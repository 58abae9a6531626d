// Byte-level BPE on one pre-tokenised piece: start from one symbol per UTF-8 byte, then repeatedly
// merge the adjacent pair with the lowest merge rank (ties: the leftmost pair), exactly as Hugging Face
// tokenizers' BPE model does. With `ignoreMerges` (Llama 3) a piece that is itself a vocabulary entry
// is emitted whole first. Results are cached per piece, since text repeats the same words.

import Foundation

/// Vocabulary, merge ranks and the merge loop of a byte-level BPE model.
final class BPEModel: @unchecked Sendable {
    /// Byte-level token string → id, for the model's own vocabulary.
    let vocab: [String: Int]
    /// (left id, right id) packed as `left << 32 | right` → `rank << 32 | merged id`.
    private let merges: [UInt64: UInt64]
    /// The id of each single byte's token, or -1 when the vocabulary lacks it.
    private let byteIDs: [Int32]
    /// Emit a piece whole when it is in the vocabulary (Hugging Face `ignore_merges`).
    let ignoreMerges: Bool
    /// Replaces a byte whose token is missing; without it such bytes are dropped (as in HF).
    let unknownID: Int?

    // Keys are the piece's exact bytes: String keys would not do, since Swift compares strings by
    // canonical equivalence ("\u{212B}" == "\u{C5}") while their byte-level tokens differ.
    private var shortCache: [ShortKey: [Int32]] = [:]
    private var longCache: [[UInt8]: [Int32]] = [:]
    private let cacheLock = NSLock()
    private static let cacheCapacity = 200_000
    private static let cacheMaxBytes = 256

    /// - Parameters:
    ///   - merges: pairs of token strings, rank = position in the list.
    /// - Throws: `TokenizerError.invalidMerge` when a merge names an unknown token or its result is not
    ///   in the vocabulary (Hugging Face refuses such files too).
    init(vocab: [String: Int], merges: [(String, String)], ignoreMerges: Bool, unknownID: Int?,
         source: String) throws {
        self.vocab = vocab
        self.ignoreMerges = ignoreMerges
        self.unknownID = unknownID
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            var text: String { "\(left) \(right)" }
            guard let a = vocab[left] else {
                throw TokenizerError.invalidMerge(source: source, index: rank, merge: text,
                                                  reason: "'\(left)' is not in the vocabulary")
            }
            guard let b = vocab[right] else {
                throw TokenizerError.invalidMerge(source: source, index: rank, merge: text,
                                                  reason: "'\(right)' is not in the vocabulary")
            }
            guard let merged = vocab[left + right] else {
                throw TokenizerError.invalidMerge(source: source, index: rank, merge: text,
                                                  reason: "the merged token '\(left + right)' is not in the vocabulary")
            }
            let key = UInt64(a) << 32 | UInt64(b)
            if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(merged) }
        }
        self.merges = table
        byteIDs = (0..<256).map { byte in
            vocab[String(Character(ByteLevel.character[byte]))].map(Int32.init) ?? -1
        }
    }

    /// Appends the ids of one piece (its raw UTF-8 bytes) to `out`.
    func encode(_ bytes: ArraySlice<UInt8>, into out: inout [Int]) {
        if bytes.count == 1 {
            appendByte(bytes[bytes.startIndex], into: &out)
            return
        }
        if bytes.count > Self.cacheMaxBytes {
            for id in merge(bytes) { out.append(Int(id)) }
            return
        }
        let short = ShortKey(bytes)
        cacheLock.lock()
        let hit = short.map { shortCache[$0] } ?? longCache[Array(bytes)]
        cacheLock.unlock()
        if let hit {
            for id in hit { out.append(Int(id)) }
            return
        }
        let ids = merge(bytes)
        for id in ids { out.append(Int(id)) }
        cacheLock.lock()
        if shortCache.count + longCache.count < Self.cacheCapacity {
            if let short { shortCache[short] = ids } else { longCache[Array(bytes)] = ids }
        }
        cacheLock.unlock()
    }

    private func appendByte(_ byte: UInt8, into out: inout [Int]) {
        let id = byteIDs[Int(byte)]
        if id >= 0 { out.append(Int(id)) } else if let unknownID { out.append(unknownID) }
    }

    /// The merge loop for one piece of two or more bytes.
    private func merge(_ bytes: ArraySlice<UInt8>) -> [Int32] {
        if ignoreMerges, let id = vocab[ByteLevel.encode(bytes)] { return [Int32(id)] }
        let symbols = initialSymbols(bytes)
        if symbols.count < 2 { return symbols }
        return symbols.count <= 48 ? mergeByScanning(symbols) : mergeWithHeap(symbols)
    }

    /// One symbol per byte (the unknown id, or nothing, for a byte missing from the vocabulary).
    func initialSymbols(_ bytes: ArraySlice<UInt8>) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(bytes.count)
        for byte in bytes {
            let id = byteIDs[Int(byte)]
            if id >= 0 {
                symbols.append(id)
            } else if let unknownID {
                symbols.append(Int32(unknownID))
            }
        }
        return symbols
    }

    @inline(__always)
    private func lookup(_ left: Int32, _ right: Int32) -> UInt64? {
        merges[UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))]
    }

    /// Short pieces: find the best pair by a linear scan, merge, repeat (O(n²), fast for small n).
    func mergeByScanning(_ start: [Int32]) -> [Int32] {
        var symbols = start
        while symbols.count > 1 {
            var bestRank = UInt64.max
            var bestIndex = -1
            var bestID: Int32 = 0
            for k in 0..<(symbols.count - 1) {
                if let packed = lookup(symbols[k], symbols[k + 1]), packed >> 32 < bestRank {
                    bestRank = packed >> 32
                    bestIndex = k
                    bestID = Int32(truncatingIfNeeded: packed & 0xFFFF_FFFF)
                }
            }
            if bestIndex < 0 { break }
            symbols[bestIndex] = bestID
            symbols.remove(at: bestIndex + 1)
        }
        return symbols
    }

    /// Long pieces: a linked list of symbols and a min-heap of candidate merges keyed by
    /// (rank, position); stale candidates are skipped when popped. O(n log n).
    func mergeWithHeap(_ start: [Int32]) -> [Int32] {
        var ids = start
        let n = ids.count
        var next = Array(1...n)            // n means "none"
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        for k in 0..<(n - 1) {
            if let packed = lookup(ids[k], ids[k + 1]) {
                heap.push(rank: packed >> 32, position: k, merged: Int32(truncatingIfNeeded: packed & 0xFFFF_FFFF))
            }
        }
        while let top = heap.pop() {
            let k = top.position
            let right = next[k]
            guard alive[k], right < n else { continue }
            // The candidate is stale when either symbol changed since it was pushed.
            guard let packed = lookup(ids[k], ids[right]), packed >> 32 == top.rank,
                  Int32(truncatingIfNeeded: packed & 0xFFFF_FFFF) == top.merged else { continue }
            ids[k] = top.merged
            alive[right] = false
            next[k] = next[right]
            if next[k] < n { prev[next[k]] = k }
            if prev[k] >= 0, let p = lookup(ids[prev[k]], ids[k]) {
                heap.push(rank: p >> 32, position: prev[k], merged: Int32(truncatingIfNeeded: p & 0xFFFF_FFFF))
            }
            if next[k] < n, let p = lookup(ids[k], ids[next[k]]) {
                heap.push(rank: p >> 32, position: k, merged: Int32(truncatingIfNeeded: p & 0xFFFF_FFFF))
            }
        }
        var out: [Int32] = []
        var k = 0
        while k < n { out.append(ids[k]); k = next[k] }
        return out
    }
}

/// Up to 24 bytes packed into three words: a cache key that needs no allocation.
private struct ShortKey: Hashable {
    var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0
    var count: UInt8

    init?(_ bytes: ArraySlice<UInt8>) {
        guard bytes.count <= 24 else { return nil }
        count = UInt8(bytes.count)
        for (k, byte) in bytes.enumerated() {
            let shifted = UInt64(byte) << UInt64((k % 8) * 8)
            switch k / 8 {
            case 0: a |= shifted
            case 1: b |= shifted
            default: c |= shifted
            }
        }
    }
}

/// A binary min-heap of merge candidates ordered by (rank, position).
private struct MergeHeap {
    struct Entry { var rank: UInt64; var position: Int; var merged: Int32 }
    private var items: [Entry] = []

    private static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.position < b.position
    }

    mutating func push(rank: UInt64, position: Int, merged: Int32) {
        items.append(Entry(rank: rank, position: position, merged: merged))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count && Self.less(items[left], items[smallest]) { smallest = left }
                if right < items.count && Self.less(items[right], items[smallest]) { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
