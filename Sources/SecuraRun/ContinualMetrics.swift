// The summary numbers of continual learning from an accuracy matrix a[i][j] (score on task j after training
// task i, i and j from 0 to T−1) and the base model's scores b[j]:
//   average     A   = (1/T) Σ_j a[T−1][j]                              (after the last task)
//   backward    BWT = (1/(T−1)) Σ_{j<T−1} (a[T−1][j] − a[j][j])         (Lopez-Paz & Ranzato 2017; < 0 is forgetting)
//   forward     FWT = (1/(T−1)) Σ_{j≥1} (a[j−1][j] − b[j])               (theirs, with the base model as b)
//   forgetting  F   = (1/(T−1)) Σ_{j<T−1} (max_{l<T−1} a[l][j] − a[T−1][j])   (Chaudhry et al. 2018)
// With one task BWT, FWT and F are undefined (nil).
import Foundation

public struct ContinualMetrics: Equatable, Sendable, Codable {
    public let average: Double
    public let backwardTransfer: Double?
    public let forwardTransfer: Double?
    public let forgetting: Double?

    /// - Parameters:
    ///   - matrix: T rows of T scores.
    ///   - base: the base model's T scores.
    public init(matrix a: [[Double]], base b: [Double]) {
        let t = a.count
        precondition(t >= 1 && a.allSatisfy { $0.count == t } && b.count == t, "the accuracy matrix must be T×T with T base scores")
        average = a[t - 1].reduce(0, +) / Double(t)
        guard t > 1 else {
            backwardTransfer = nil
            forwardTransfer = nil
            forgetting = nil
            return
        }
        let earlier = 0..<(t - 1)
        backwardTransfer = earlier.map { a[t - 1][$0] - a[$0][$0] }.reduce(0, +) / Double(t - 1)
        forwardTransfer = (1..<t).map { a[$0 - 1][$0] - b[$0] }.reduce(0, +) / Double(t - 1)
        forgetting = earlier.map { j in earlier.map { a[$0][j] }.max()! - a[t - 1][j] }.reduce(0, +) / Double(t - 1)
    }
}
