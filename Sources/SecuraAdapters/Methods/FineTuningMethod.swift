// What a fine-tuning method is to the rest of secura-dist: one value conforming to `FineTuningMethod`
// (what it registers per site, how it builds each site, what happens after an optimizer step, its cost
// model, what formats can hold it), the per-site objects it builds (`MethodSite`: the delta the decoder
// runs, the merged weight for export, tensors it persists) and an optional run-wide state
// (`MethodRunState`: I-LoRA's EMA copy). `MethodRegistry` maps each `--method` name to one of them;
// nothing outside a method's own file switches over methods.
import SecuraDistributed
import SecuraModel
import SecuraTensor

/// The Hugging Face PEFT form a method's adapter has, if any.
public enum PEFTForm: Sendable, Equatable {
    /// `peft_type` LORA without (`lora`) or with (`dora`) `use_dora`.
    case lora, dora
}

/// One fine-tuning method. Stateless: what a run holds lives in the sites and the run state it builds.
public protocol FineTuningMethod: Sendable {
    /// The name as the papers spell it ("SECURA-M1"), for people.
    var displayName: String { get }
    /// The projections it trains (default: the run's --targets).
    func projections(_ s: MethodSettings) -> [Projection]
    /// Registers one site's trainable tensors in the flat layout; returns r and m after clamping to the
    /// layer's shape (0 where unused).
    func register(_ site: LinearSite, outFeatures h: Int, inFeatures d: Int, settings s: MethodSettings,
                  in layout: inout ParameterLayout) -> (rank: Int, innerRank: Int)
    /// Builds one site (sites are built in plan order; random draws come from `build.rng`).
    func makeSite(_ plan: SitePlan, original: WeightView, build: MethodBuild) throws -> MethodSite
    /// Run-wide state built after every site (default: none).
    func makeRunState(_ build: MethodBuild, sites: [LinearSite: MethodSite]) -> MethodRunState?
    /// The merge due after an optimizer step whose number is a multiple of --fusion-step (default: none).
    /// Collective over the world when the method merges into node-shared masters.
    func merge(_ adapters: AdapterSet, comm: Communicator) throws

    /// Keeps node-shared fp32 masters of its sites' weights, which its merges change (default false).
    var mergesIntoMasters: Bool { get }
    /// Starts from CABR's A (the SVD initialisation and its cache apply; default false).
    var usesCABRInit: Bool { get }
    /// The PEFT form of its adapter, or nil when it exports as a merged model only (default nil).
    var peftForm: PEFTForm? { get }
    /// Why IMSM cannot wrap it, or nil when it can (default nil).
    var imsmRefusal: String? { get }
    /// Trains the base weights themselves, with their weight gradients (default false).
    var trainsBaseWeights: Bool { get }

    /// Floats of one site's scratch after a training forward + backward and an evaluation forward over
    /// `rows` rows (memory plan).
    func scratchFloats(_ plan: SitePlan, settings s: MethodSettings, rows: Int) -> Int
    /// Frozen floats one site holds besides the flat buffer (C, R, long-term pairs; default 0), and their
    /// name in the memory plan.
    func constantFloats(_ plan: SitePlan) -> Int
    var constantsName: String { get }
    /// Multiply-adds per token of one site's forward chain (default LoRA's x·Aᵀ, ·Bᵀ).
    func chainMultiplyAdds(_ plan: SitePlan) -> Double
    /// Extra copies of the flat trainable buffer it keeps (I-LoRA's EMA copy; default 0), and whether it
    /// runs a second, forward-only pass with logits per micro-batch (default false).
    var trainableCopies: Int { get }
    var hasAuxiliaryPass: Bool { get }
}

extension FineTuningMethod {
    public func projections(_ s: MethodSettings) -> [Projection] { s.targets }
    public func makeRunState(_ build: MethodBuild, sites: [LinearSite: MethodSite]) -> MethodRunState? { nil }
    public func merge(_ adapters: AdapterSet, comm: Communicator) throws {}
    public var mergesIntoMasters: Bool { false }
    public var usesCABRInit: Bool { false }
    public var peftForm: PEFTForm? { nil }
    public var imsmRefusal: String? { nil }
    public var trainsBaseWeights: Bool { false }
    public func constantFloats(_ plan: SitePlan) -> Int { 0 }
    public var constantsName: String { "adapter constants" }
    public func chainMultiplyAdds(_ p: SitePlan) -> Double {
        Double(p.inFeatures) * Double(p.rank) + Double(p.rank) * Double(p.outFeatures)
    }
    public var trainableCopies: Int { 0 }
    public var hasAuxiliaryPass: Bool { false }
}

/// What a method trains at one linear site.
public protocol MethodSite: AnyObject {
    /// What the decoder adds at this site, or nil when the method trains the weight itself (full).
    var delta: LinearDelta? { get }
    /// The merged weight, without changing the adapter: `weight` [H, D] holds the current base weight on
    /// entry and W + ΔW on return.
    /// - Throws: when the site's change has no merged-weight form.
    func merge(into weight: UnsafeMutablePointer<Float>) throws
    /// Tensors outside the flat buffer that the site persists (e.g. SECURA-M2's long-term pair).
    var persistentTensors: [PersistentTensor] { get }
    /// A change to the projection's bias [H] that merged forms add to it (CABR's b_Δ), or nil.
    var biasChange: [Float]? { get }
}

extension MethodSite {
    public var persistentTensors: [PersistentTensor] { [] }
    public var biasChange: [Float]? { nil }
}

/// Run-wide state of a method, beside its sites.
public protocol MethodRunState: AnyObject {
    /// After every applied optimizer update of the flat buffer (I-LoRA's EMA).
    func afterUpdate()
    /// After the flat buffer was overwritten from a file (a PEFT --init-adapter).
    func trainableValuesReplaced()
    /// Tensors it persists.
    var persistentTensors: [PersistentTensor] { get }
    /// The forward-only pass whose logits enter the loss, or nil.
    var auxiliaryLoss: AuxiliaryLoss? { get }
}

/// A term of the loss computed from a second forward pass of the same batch (I-LoRA's consistency).
public protocol AuxiliaryLoss: AnyObject {
    /// Runs `body` (the second forward) with the model set up for that pass.
    func withAuxiliaryModel<T>(_ model: DecoderModel, _ body: () throws -> T) rethrows -> T
    /// The term summed over answer rows, and the closure adding its gradient to d(logits) [rows, V].
    func term(work: DecoderActivations, auxiliary: DecoderActivations, targets: [Int32], vocabSize: Int)
        -> (Double, (UnsafeMutablePointer<Float>) -> Void)
}

/// A persisted fp32 tensor held outside the flat trainable buffer.
public struct PersistentTensor {
    /// Its name in state.safetensors (with its prefix, e.g. "long/…").
    public let name: String
    public let shape: [Int]
    public let pointer: UnsafeMutablePointer<Float>
    /// Keeps the storage alive.
    public let owner: AnyObject

    public init(name: String, shape: [Int], pointer: UnsafeMutablePointer<Float>, owner: AnyObject) {
        self.name = name
        self.shape = shape
        self.pointer = pointer
        self.owner = owner
    }

    public var count: Int { shape.reduce(1, *) }
}

/// What a method builds its sites from, shared by every site of one AdapterSet.
public final class MethodBuild {
    public let settings: MethodSettings
    public let parameters: TrainableParameters
    public let context: AdapterContext
    /// The weights the decoder reads (full fine-tuning overlays its trainable weights here).
    public let overlay: OverlayWeights
    /// The run's initialisation stream, drawn from in site order.
    public var rng: SeededRandom
    public let solver: SVDSolver
    /// CABR's A per site, already computed (sites missing from it are initialised with `solver`).
    public let initialA: [LinearSite: [Float]]
    /// The merge targets (empty unless the method merges into masters and they were allocated).
    public let masters: [LinearSite: MasterWeight]
    public let log: (String) -> Void

    init(settings: MethodSettings, parameters: TrainableParameters, context: AdapterContext, overlay: OverlayWeights,
         rng: SeededRandom, solver: SVDSolver, initialA: [LinearSite: [Float]], masters: [LinearSite: MasterWeight],
         log: @escaping (String) -> Void) {
        self.settings = settings
        self.parameters = parameters
        self.context = context
        self.overlay = overlay
        self.rng = rng
        self.solver = solver
        self.initialA = initialA
        self.masters = masters
        self.log = log
    }
}
