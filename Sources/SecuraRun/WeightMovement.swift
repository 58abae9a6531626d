// How far a run moved the weights it adapts: ‖W_after − W_before‖_F / ‖W_before‖_F per adapted matrix,
// with W_after the merged weight the run's state stands for (MergedExport.mergedWeight: the merge
// master plus any pending change for SECURA-M1, W + ΔW for the adapter methods, the trained weight for
// full fine-tuning) and W_before the weight the run started from. The SECURA paper's Figure 3 reads a
// weight norm; the fidelity study (results/fidelity/) compares methods by it.
import Foundation
import SecuraAdapters
import SecuraModel
import SecuraTrain

public struct WeightMovement: Codable, Sendable, Equatable {
    /// Relative Frobenius change per adapted weight, by tensor name.
    public var per_matrix: [String: Double]
    /// Mean and largest relative change per projection ("q_proj": …).
    public var mean_by_projection: [String: Double]
    public var max_by_projection: [String: Double]
    /// Mean over every adapted matrix.
    public var mean: Double
    /// What W_after is when the method's change has no merged form (`--smagnorm output`: the merge
    /// masters alone, without the output rule), else nil.
    public var note: String?

    /// Adapted values beyond which the measurement is skipped (it builds every merged weight once: seconds
    /// for SECURA's q/v of Llama-3-8B, 0.67 G values; minutes for full fine-tuning of all its projections).
    public static let largestMeasured = 1_000_000_000

    /// Measures every adapted site of `adapters` against `base`, the weights the run started from. Runs
    /// on each rank alike (no communication); nil for IMSM runs, for the output rule on methods without
    /// merge masters (nothing in the weights to measure) and past `largestMeasured` adapted values.
    public static func measure(_ adapters: AdapterSet, base: WeightSource) throws -> WeightMovement? {
        guard adapters.settings.imsm == nil,
              adapters.plans.reduce(0, { $0 + $1.inFeatures * $1.outFeatures }) <= largestMeasured else { return nil }
        var perMatrix: [String: Double] = [:]
        var byProjection: [String: [Double]] = [:]
        var note: String?
        for plan in adapters.plans {
            let original = try base.view(plan.site.weightName)
            let before = original.toFloatArray()
            let after: [Float]
            do {
                after = try MergedExport.mergedWeight(adapters, site: plan.site, original: original)
            } catch let error as MethodError {
                guard case .noMergedForm = error, let master = adapters.masters[plan.site] else { return nil }
                after = master.toArray()
                note = "the output rule has no merged form: W_after is the merge master (every merged change), without the rule's scaling of outputs"
            }
            var change = 0.0, norm = 0.0
            for i in before.indices {
                let d = Double(after[i]) - Double(before[i])
                change += d * d
                norm += Double(before[i]) * Double(before[i])
            }
            let relative = norm > 0 ? (change / norm).squareRoot() : 0
            perMatrix[plan.site.weightName] = relative
            byProjection[plan.site.projection.rawValue, default: []].append(relative)
        }
        guard !perMatrix.isEmpty else { return nil }
        let all = Array(perMatrix.values)
        return WeightMovement(per_matrix: perMatrix,
                              mean_by_projection: byProjection.mapValues { $0.reduce(0, +) / Double($0.count) },
                              max_by_projection: byProjection.mapValues { $0.max() ?? 0 },
                              mean: all.reduce(0, +) / Double(all.count), note: note)
    }
}
