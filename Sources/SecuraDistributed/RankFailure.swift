// A failure that must reach every rank. Ranks fail locally (a file one rank reads, a job one rank runs),
// but collective code must then fail everywhere with the same error. The failure travels as a typed
// value, encoded once as JSON on the failing rank and decoded on every other, so its category (and with
// it the job's exit status) survives the trip; `agree` is the one collective that carries it.
import Foundation
import SecuraErrors

/// What failed on one rank: the rank, the error's category and its message.
public struct RankFailure: CategorizedError, Codable, Sendable, Equatable, CustomStringConvertible {
    public var rank: Int
    public var category: ErrorCategory
    public var message: String

    public init(rank: Int, category: ErrorCategory, message: String) {
        self.rank = rank
        self.category = category
        self.message = message
    }

    /// `error` as it happened on `rank`: its category and its description.
    public init(rank: Int, error: Error) {
        self.init(rank: rank, category: ErrorCategory(of: error), message: "\(error)")
    }

    public var description: String { message }
}

extension Communicator {
    /// Makes local failures collective: every rank passes its own failure (nil when it has none) and
    /// every rank gets the same answer, the lowest failing rank and its failure, or nil when no rank
    /// failed. Costs one sum-reduce when nothing failed; otherwise an all-gather of the encoded values.
    ///
    /// Collective: every rank calls it at the same point with the same `Failure` type.
    /// - Throws: `CommunicatorError` from the transport, or `.undecodable` if a report cannot be decoded.
    public func agree<Failure: Codable>(_ failure: Failure?) throws -> (rank: Int, failure: Failure)? {
        var flag = [failure == nil ? 0.0 : 1.0]
        try allReduceSum(&flag)
        guard flag[0] > 0 else { return nil }
        let encoded = try failure.map { try JSONEncoder().encode($0) } ?? Data()
        let reports = try allGather(bytes: [UInt8](encoded))
        guard let failing = reports.firstIndex(where: { !$0.isEmpty }) else {
            throw CommunicatorError.undecodable(operation: "agree", rank: rank, reason: "a rank flagged a failure but sent none")
        }
        do {
            return (failing, try JSONDecoder().decode(Failure.self, from: Data(reports[failing])))
        } catch {
            throw CommunicatorError.undecodable(operation: "agree", rank: failing, reason: "\(error)")
        }
    }
}
