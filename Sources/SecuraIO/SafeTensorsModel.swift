// A Hugging Face model's weights as one name → tensor table, whether stored in one `model.safetensors`
// or sharded with `model.safetensors.index.json`. Opening validates every shard header and checks that
// each shard really holds the tensors the index assigns to it, so a wrong download fails at start-up.

import Foundation
import SecuraTensor

/// The weights of a Hugging Face model folder (or of a single .safetensors file).
///
/// Views returned by `view(_:)` point into memory owned by this object: keep it alive while they are in
/// use. Safe to share between threads.
public final class SafeTensorsModel: @unchecked Sendable {
    /// The single-file weights name.
    public static let singleFileName = "model.safetensors"
    /// The shard index name.
    public static let indexFileName = "model.safetensors.index.json"

    /// The folder (or file) path this model was opened from.
    public let path: String
    /// The index file's path for a sharded model, else nil.
    public let indexPath: String?
    /// The opened files: one for a single-file model, one per shard (sorted by shard name) otherwise.
    public let files: [SafeTensorsFile]
    /// All tensor names, sorted. For a sharded model, exactly the names in the index's `weight_map`.
    public let names: [String]

    /// Tensor name → index into `files`.
    private let location: [String: Int]

    /// Opens the weights at `path`: a model folder holding `model.safetensors` (preferred when both are
    /// present, as transformers does) or `model.safetensors.index.json` plus its shards; or a path to a
    /// single .safetensors file.
    ///
    /// - Throws: `IOError.folderNotFound`, `IOError.noModelWeights` (naming the folder and the expected
    ///   file names), `IOError.invalidIndex`, `IOError.missingShard`, `IOError.tensorNotInShard`, and any
    ///   `SafeTensorsFile` error of a weight file.
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw IOError.folderNotFound(path: path)
        }
        if !isDirectory.boolValue {
            // A file given directly: treat it as a single-file model.
            let file = try SafeTensorsFile(path: path)
            (indexPath, files, names) = (nil, [file], file.names)
            location = Dictionary(uniqueKeysWithValues: file.names.map { ($0, 0) })
            return
        }

        let singlePath = Self.join(path, Self.singleFileName)
        let indexPath = Self.join(path, Self.indexFileName)
        if FileManager.default.fileExists(atPath: singlePath) {
            let file = try SafeTensorsFile(path: singlePath)
            (self.indexPath, files, names) = (nil, [file], file.names)
            location = Dictionary(uniqueKeysWithValues: file.names.map { ($0, 0) })
        } else if FileManager.default.fileExists(atPath: indexPath) {
            let index = try SafeTensorsIndex(path: indexPath)
            let (files, location) = try Self.openShards(index, folder: path)
            (self.indexPath, self.files, self.location) = (indexPath, files, location)
            names = index.weightMap.keys.sorted()
        } else {
            throw IOError.noModelWeights(folder: path, expected: [Self.singleFileName, Self.indexFileName])
        }
    }

    /// Opens every shard the index names and checks each holds the tensors assigned to it.
    private static func openShards(_ index: SafeTensorsIndex, folder: String) throws
        -> ([SafeTensorsFile], [String: Int]) {
        // One example tensor per shard, so a missing shard's error can say what it should have held.
        var firstTensor: [String: String] = [:]
        for tensor in index.weightMap.keys.sorted() {
            let shard = index.weightMap[tensor] ?? ""
            if firstTensor[shard] == nil { firstTensor[shard] = tensor }
        }

        var files: [SafeTensorsFile] = []
        var fileNumber: [String: Int] = [:]
        for shard in index.shards {
            let shardPath = join(folder, shard)
            let file: SafeTensorsFile
            do {
                file = try SafeTensorsFile(path: shardPath)
            } catch IOError.fileNotFound {
                throw IOError.missingShard(index: index.path, shard: shard, tensor: firstTensor[shard] ?? "")
            }
            fileNumber[shard] = files.count
            files.append(file)
        }

        var location: [String: Int] = [:]
        for tensor in index.weightMap.keys.sorted() {
            guard let shard = index.weightMap[tensor], let number = fileNumber[shard] else { continue }
            guard files[number].contains(tensor) else {
                throw IOError.tensorNotInShard(index: index.path, shard: shard, tensor: tensor)
            }
            location[tensor] = number
        }
        return (files, location)
    }

    /// Index into `files` of the file holding `name`, or nil.
    public func fileIndex(of name: String) -> Int? { location[name] }

    /// Releases tensor `name`'s mapped pages from the resident set (`SafeTensorsFile.releaseResidentPages(of:)`).
    public func releaseResidentPages(of name: String) {
        if let number = location[name] { files[number].releaseResidentPages(of: name) }
    }

    /// Whether the model has a tensor called `name`.
    public func contains(_ name: String) -> Bool { location[name] != nil }

    /// The header entry for `name`, or nil.
    public func entry(_ name: String) -> SafeTensorsEntry? {
        guard let number = location[name] else { return nil }
        return files[number].entry(name)
    }

    /// All entries, sorted by name.
    public var entries: [SafeTensorsEntry] { names.compactMap(entry) }

    /// A view of tensor `name` in its stored dtype and shape (see `SafeTensorsFile.view(_:)`).
    ///
    /// - Throws: `IOError.tensorNotFound` naming this model's path, or `IOError.unsupportedDType` naming
    ///   the file that holds the tensor.
    public func view(_ name: String) throws -> WeightView {
        guard let number = location[name] else {
            throw IOError.tensorNotFound(path: indexPath ?? sourcePath, tensor: name)
        }
        return try files[number].view(name)
    }

    /// Tensor `name` widened to a new fp32 array; independent of this object's lifetime.
    ///
    /// - Throws: as `view(_:)`.
    public func floats(_ name: String) throws -> [Float] {
        try withExtendedLifetime(self) { try view(name).toFloatArray() }
    }

    /// Tensor, parameter and byte totals over the whole model.
    public var counts: TensorCounts { TensorCounts(entries) }
    /// Total number of parameters (elements) over all tensors.
    public var parameterCount: Int { counts.parameters }
    /// Total data bytes over all tensors.
    public var byteCount: Int { counts.bytes }
    /// Totals per dtype string ("BF16", "F32", ...).
    public var countsByDType: [String: TensorCounts] { TensorCounts.byDType(entries) }

    /// The file a lookup failure should name: the single weight file, or the folder.
    private var sourcePath: String { files.count == 1 ? files[0].path : path }

    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
