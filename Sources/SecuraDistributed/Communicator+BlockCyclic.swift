// Assembling a block-cyclically distributed matrix on every rank: each rank contributes its packed local
// piece, every rank receives every piece (Communicator.allGather) and scatters them into one row-major
// array. Pure copies, so the assembled matrix is bit-identical on every rank.

extension Communicator {
    /// Assembles a distributed matrix on every rank.
    ///
    /// - Parameters:
    ///   - localPiece: this rank's part, column-major and packed: `layout.localShape(rank:)` rows ×
    ///     columns with leading dimension equal to the local row count.
    ///   - layout: the distribution; its grid must have exactly `size` ranks.
    /// - Returns: the whole `layout.rows.count × layout.columns.count` matrix, row-major.
    /// - Throws: errors of the underlying collectives. A piece of the wrong size is a programmer error
    ///   (precondition failure).
    public func allGatherMatrix(localPiece: [Float], layout: BlockCyclicLayout) throws -> [Float] {
        precondition(layout.grid.size == size, "layout grid \(layout.grid) does not match \(size) ranks")
        let pieces = try allGather(floats: localPiece)
        let width = layout.columns.count
        var matrix = [Float](repeating: 0, count: layout.rows.count * width)
        for (owner, piece) in pieces.enumerated() {
            let (processRow, processColumn) = layout.grid.coordinates(of: owner)
            let shape = layout.localShape(rank: owner)
            precondition(piece.count == shape.rows * shape.columns,
                         "rank \(owner)'s piece has \(piece.count) values, its \(shape) local shape needs "
                             + "\(shape.rows * shape.columns)")
            let globalRows = (0..<shape.rows).map { layout.rows.globalIndex(local: $0, process: processRow) }
            for localColumn in 0..<shape.columns {
                let column = layout.columns.globalIndex(local: localColumn, process: processColumn)
                let base = localColumn * shape.rows
                for localRow in 0..<shape.rows {
                    matrix[globalRows[localRow] * width + column] = piece[base + localRow]
                }
            }
        }
        return matrix
    }
}
