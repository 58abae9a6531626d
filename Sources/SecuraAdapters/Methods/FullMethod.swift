// Full fine-tuning as a method: every linear weight of every layer is trainable (docs/DESIGN.md §1.9); biases
// and norms stay frozen. The decoder reads the trainable copies through the weight overlay, so there is
// no delta.
import SecuraModel
import SecuraTensor

public struct FullMethod: FineTuningMethod {
    public init() {}
    public var displayName: String { "full fine-tuning" }

    public func projections(_ s: MethodSettings) -> [Projection] { Projection.allCases }

    public func register(_ site: LinearSite, outFeatures h: Int, inFeatures d: Int, settings s: MethodSettings,
                         in layout: inout ParameterLayout) -> (rank: Int, innerRank: Int) {
        layout.append(site.weightName, shape: [h, d])
        return (0, 0)
    }

    public func makeSite(_ plan: SitePlan, original: WeightView, build b: MethodBuild) throws -> MethodSite {
        let name = plan.site.weightName
        let (value, _) = b.parameters.tensor(name)
        original.widen(start: 0, count: original.count, into: value)
        b.overlay.set(name, WeightView(name: name, dtype: .f32, shape: original.shape, data: UnsafeRawPointer(value),
                                       owner: b.parameters))
        return FullSite(value: value, count: original.count, parameters: b.parameters)
    }

    public var imsmRefusal: String? { "full fine-tuning has no frozen model to compare with" }
    public var trainsBaseWeights: Bool { true }
    public func scratchFloats(_ p: SitePlan, settings s: MethodSettings, rows: Int) -> Int { 0 }
    public func chainMultiplyAdds(_ p: SitePlan) -> Double { 0 }
}

/// One trained weight of full fine-tuning: its merged form is the trained value itself.
final class FullSite: MethodSite {
    let value: UnsafeMutablePointer<Float>
    let count: Int
    let parameters: TrainableParameters

    init(value: UnsafeMutablePointer<Float>, count: Int, parameters: TrainableParameters) {
        self.value = value
        self.count = count
        self.parameters = parameters
    }

    var delta: LinearDelta? { nil }
    func merge(into weight: UnsafeMutablePointer<Float>) throws { weight.update(from: value, count: count) }
}
