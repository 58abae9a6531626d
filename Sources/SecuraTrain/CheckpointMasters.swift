// SECURA-M1's fp32 merge masters in a checkpoint folder, one file per writing rank (format state-2):
// `masters-rankRRRR-of-SSSS.safetensors` holds, for every master matrix, the rows that rank merges
// (its `nodeShard` of 64-row panels) as a tensor `master/<weight name>` of shape [rows in range, columns];
// the file's metadata maps that tensor name to "first,end,total" rows. Only the ranks on rank 0's node
// write (every node holds a full, bit-identical copy, so one node's shards cover every row exactly once,
// and the files land on rank 0's file system even without a shared one). Readers reassemble the matrices
// from whatever files are there, so a checkpoint restores on any rank count; a state-1 checkpoint's
// whole `master/<name>` tensors in state.safetensors count as one piece covering all rows.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel
import SecuraTensor

/// A stored row range of one master matrix.
struct MasterPiece {
    let file: SafeTensorsFile
    /// Rows first..<end of the full matrix, stored as a [end − first, columns] tensor.
    let rows: Range<Int>
    let totalRows: Int
    let columns: Int
    let tensor: String

    var fileName: String { URL(fileURLWithPath: file.path).lastPathComponent }
}

enum CheckpointMasters {
    static let metadataFormat = "secura-dist/masters-1"

    /// `masters-rank0003-of-0004.safetensors`.
    static func fileName(rank: Int, of size: Int) -> String {
        String(format: "masters-rank%04d-of-%04d.safetensors", rank, size)
    }

    /// True on the ranks that write master rows: those on rank 0's node (same host name). Collective.
    static func writesMasters(_ comm: Communicator) throws -> Bool {
        guard comm.size > 1 else { return true }
        var name = [UInt8](repeating: 0, count: 256)
        if comm.isRoot { for (i, b) in comm.hostName.utf8.prefix(255).enumerated() { name[i] = b } }
        try comm.broadcast(&name, root: 0)
        let root = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        return root == String(decoding: comm.hostName.utf8.prefix(255), as: UTF8.self)
    }

    /// Writes this rank's node shard of every node-shared entry (a master) into `folder`; returns the file
    /// name, or nil when the rank owns no rows. The rows are written straight from the node-shared block.
    static func write(_ masters: [RunStateLayout.Entry], comm: Communicator, to folder: URL) throws -> String? {
        let name = fileName(rank: comm.rank, of: comm.size)
        var writer = SafeTensorsWriter(path: folder.appendingPathComponent(name).path,
                                       metadata: ["format": metadataFormat])
        for master in masters {
            let shard = RunStateLayout.shard(master, comm: comm)
            guard !shard.isEmpty else { continue }
            let rows = master.shape[0], columns = master.shape[1]
            let view = WeightView(name: master.name, dtype: .f32, shape: [shard.count, columns],
                                  data: UnsafeRawPointer(master.pointer + shard.lowerBound * columns),
                                  owner: master.owner)
            try writer.add(view)
            writer.metadata[master.name] = "\(shard.lowerBound),\(shard.upperBound),\(rows)"
            CheckpointIntegrity.stamp(&writer, master.name, UnsafeRawBufferPointer(start: view.data, count: view.byteCount))
        }
        guard !writer.names.isEmpty else { return nil }
        try writer.write()
        return name
    }

    /// Every stored piece of every master in `folder`, checked against `expected` (weight name → rows,
    /// columns): each matrix covered by exactly one piece per row, shapes consistent.
    /// - Parameters:
    ///   - listed: the master files state.json names (nil for a state-1 folder).
    ///   - legacy: state.safetensors, whose whole `master/` tensors are pieces too.
    ///   - checksums: the folder's format has a checksum per tensor (state-3): verify every listed file.
    /// - Throws: `CheckpointError.incompatible` naming the file and rows of a missing, overlapping,
    ///   misshapen or unexpected piece; `CheckpointError.corrupted` for a tensor that fails its checksum.
    static func pieces(in folder: URL, listed: [String]?, legacy: SafeTensorsFile?,
                       expected: [String: (rows: Int, columns: Int)], checksums: Bool) throws -> [String: [MasterPiece]] {
        var pieces: [String: [MasterPiece]] = [:]
        var missingFiles: [String] = []
        func bad(_ path: String, _ reason: String) -> CheckpointError { .incompatible(path: path, reason: reason) }
        if let legacy {
            for tensor in legacy.names where tensor.hasPrefix("master/") {
                let shape = legacy.entry(tensor)!.shape
                guard shape.count == 2 else { throw bad(legacy.path, "tensor '\(tensor)' has shape \(shape), expected 2 dimensions") }
                pieces[String(tensor.dropFirst(7)), default: []].append(
                    MasterPiece(file: legacy, rows: 0..<shape[0], totalRows: shape[0], columns: shape[1], tensor: tensor))
            }
        }
        for name in listed ?? [] {
            let path = folder.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path) else { missingFiles.append(name); continue }
            let file = try SafeTensorsFile(path: path)
            guard file.metadata["format"] == metadataFormat else {
                throw bad(path, "not a master-rows file (metadata format '\(file.metadata["format"] ?? "")', expected '\(metadataFormat)')")
            }
            if checksums { try CheckpointIntegrity.verify(file, required: true) }
            for tensor in file.names {
                let entry = file.entry(tensor)!
                let range = (file.metadata[tensor] ?? "").split(separator: ",").compactMap { Int($0) }
                guard tensor.hasPrefix("master/"), range.count == 3, range[0] >= 0, range[0] < range[1], range[1] <= range[2] else {
                    throw bad(path, "tensor '\(tensor)' has no valid row range in the metadata (found '\(file.metadata[tensor] ?? "")')")
                }
                guard entry.dtypeName == "F32", entry.shape.count == 2, entry.shape[0] == range[1] - range[0] else {
                    throw bad(path, "tensor '\(tensor)' (rows \(range[0])..<\(range[1])) is \(entry.dtypeName) \(entry.shape), expected F32 [\(range[1] - range[0]), columns]")
                }
                pieces[String(tensor.dropFirst(7)), default: []].append(
                    MasterPiece(file: file, rows: range[0]..<range[1], totalRows: range[2], columns: entry.shape[1], tensor: tensor))
            }
        }
        let missingNote = missingFiles.isEmpty ? "" : " (missing file\(missingFiles.count == 1 ? "" : "s") listed in state.json: \(missingFiles.joined(separator: ", ")))"
        for name in pieces.keys.sorted() where expected[name] == nil {
            let p = pieces[name]![0]
            throw bad(p.file.path, "holds rows \(p.rows) of master '\(name)', which this run does not merge (different method, targets or model?)")
        }
        for name in expected.keys.sorted() {
            let (rows, columns) = expected[name]!
            let sorted = (pieces[name] ?? []).sorted { $0.rows.lowerBound < $1.rows.lowerBound }
            var next = 0
            var previous: MasterPiece?
            for p in sorted {
                guard p.totalRows == rows, p.columns == columns else {
                    throw bad(p.file.path, "master '\(name)' is stored as \(p.totalRows)×\(p.columns); this model's is \(rows)×\(columns)")
                }
                if p.rows.lowerBound < next, let previous {
                    throw bad(p.file.path, "rows \(p.rows) of master '\(name)' overlap rows \(previous.rows) in \(previous.fileName)")
                }
                if p.rows.lowerBound > next {
                    throw bad(folder.path, "rows \(next)..<\(p.rows.lowerBound) of master '\(name)' are in no file\(missingNote)")
                }
                next = p.rows.upperBound
                previous = p
            }
            guard next == rows else {
                throw bad(folder.path, "rows \(next)..<\(rows) of master '\(name)' are in no file\(missingNote)")
            }
            pieces[name] = sorted
        }
        return pieces
    }

    /// Copies this rank's node shard of every master from `pieces`, then a node barrier. Collective
    /// over the node.
    static func restore(_ masters: [RunStateLayout.Entry], from pieces: [String: [MasterPiece]], comm: Communicator) throws {
        for master in masters {
            let shard = RunStateLayout.shard(master, comm: comm)
            let columns = master.shape[1]
            for p in pieces[weightName(master)] ?? [] {
                let lo = max(shard.lowerBound, p.rows.lowerBound), hi = min(shard.upperBound, p.rows.upperBound)
                guard lo < hi else { continue }
                let view = try p.file.view(p.tensor)
                let source = view.data.assumingMemoryBound(to: Float.self) + (lo - p.rows.lowerBound) * columns
                (master.pointer + lo * columns).update(from: source, count: (hi - lo) * columns)
            }
        }
        if !masters.isEmpty { try comm.nodeBarrier() }
    }

    /// The weight a master entry ("master/<weight name>") is a copy of.
    static func weightName(_ master: RunStateLayout.Entry) -> String { String(master.name.dropFirst("master/".count)) }

    /// Weight name → (rows, columns) of master entries.
    static func shapes(_ masters: [RunStateLayout.Entry]) -> [String: (rows: Int, columns: Int)] {
        Dictionary(uniqueKeysWithValues: masters.map { (weightName($0), (rows: $0.shape[0], columns: $0.shape[1])) })
    }
}

/// A checkpoint's masters left on disk (mapped), assembled one matrix at a time (for export).
public final class StoredMasters {
    let pieces: [String: [MasterPiece]]

    init(pieces: [String: [MasterPiece]]) { self.pieces = pieces }

    /// The whole [rows, columns] fp32 master of `site` (a new array), or nil when it has none.
    public func weight(_ site: LinearSite) throws -> [Float]? {
        guard let parts = pieces[site.weightName], let first = parts.first else { return nil }
        var out = [Float](repeating: 0, count: first.totalRows * first.columns)
        for p in parts {
            let view = try p.file.view(p.tensor)
            out.withUnsafeMutableBufferPointer {
                ($0.baseAddress! + p.rows.lowerBound * p.columns).update(from: view.data.assumingMemoryBound(to: Float.self), count: view.count)
            }
            p.file.releaseResidentPages()   // the copy is all that is needed; keep the mapped pages out of RSS
        }
        return out
    }
}
