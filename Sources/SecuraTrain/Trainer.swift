// The training loop of one optimizer step: this rank's share of the global batch in micro-batches,
// forward and backward into the one flat gradient buffer, ONE all-reduce of gradients + loss sum +
// token count, normalisation by the global token count, clipping, AdamW (IMSM's gate at its own
// learning rate), the method's after-update hook (I-LoRA's EMA) and its merge.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraErrors
import SecuraModel
import SecuraTensor

/// What one optimizer step did.
public struct StepReport: Sendable, Codable, Equatable {
    public var step: Int
    /// Mean loss per scored token over the global batch (cross-entropy, plus a method's auxiliary term).
    public var loss: Double
    public var lr: Double
    /// Scored (answer) tokens in the global batch.
    public var tokens: Int
    /// Tokens processed by all ranks (padding excluded).
    public var processedTokens: Int
    public var gradNorm: Double
    public var seconds: Double
    /// Seconds of this step spent in the gradient all-reduce and in merges.
    public var allReduceSeconds: Double
    public var mergeSeconds: Double
    public var skipped: Bool
}

public enum TrainingError: CategorizedError, CustomStringConvertible {
    case nonFiniteGradients(step: Int)
    case noScoredTokens(step: Int)
    case inconsistentRanks(step: Int, ranks: [Int])
    /// No training examples (after filtering and the validation split).
    case emptyTrainingSet
    /// A training setting outside its documented range.
    case settingOutOfRange(Setting, found: String, expected: String)
    /// The global batch splits into fewer micro-batches than there are ranks.
    case tooFewMicroBatches(batchSize: Int, microBatch: Int, microBatches: Int, ranks: Int)

    public static let batchSize = Setting("the batch size", key: "batch_size")
    public static let microBatch = Setting("the micro-batch size", key: "micro_batch")
    public static let onNaN = Setting("the NaN policy", key: "on_nan")

    /// Diverging numbers and batches without answers are data problems; settings are usage; ranks
    /// that disagree are a bug.
    public var category: ErrorCategory {
        switch self {
        case .nonFiniteGradients, .noScoredTokens, .emptyTrainingSet: return .data
        case .settingOutOfRange, .tooFewMicroBatches: return .usage
        case .inconsistentRanks: return .internal
        }
    }

    public var description: String {
        switch self {
        case let .nonFiniteGradients(step):
            return "step \(step): the loss or the reduced gradients are NaN or Inf on at least one rank (every rank stops "
                + "at this step; set \(Self.onNaN) to skip to step over them)"
        case let .noScoredTokens(step):
            return "step \(step): the global batch has no answer tokens to score"
        case let .inconsistentRanks(step, ranks):
            return "step \(step): consistency check failed: the trainable values or merged weights of rank(s) "
                + "\(ranks.map(String.init).joined(separator: ", ")) differ from rank 0's"
        case .emptyTrainingSet:
            return "the training set is empty"
        case let .settingOutOfRange(setting, found, expected):
            return "\(setting) must be \(expected), found \(found)"
        case let .tooFewMicroBatches(batchSize, microBatch, microBatches, ranks):
            return "\(Self.batchSize) \(batchSize) with \(Self.microBatch) \(microBatch) makes \(microBatches) "
                + "micro-batch(es) per step, fewer than the \(ranks) ranks; every rank needs at least one"
        }
    }
}

public final class Trainer {
    public let adapters: AdapterSet
    public let options: TrainingOptions
    public let comm: Communicator
    public let train: [TrainingExample]
    public let validation: [TrainingExample]
    public let order: DataOrder
    public let optimizer: AdamW
    /// Optimizer steps completed.
    public internal(set) var step = 0
    public internal(set) var skippedSteps = 0
    /// EWC's penalty on the trainable values (nil: none); added to every step's gradient and loss.
    public var ewcPenalty: EWCPenalty?
    /// Experience replay: a share of every global batch from earlier tasks' examples (nil: none).
    public var replay: ReplayMix?
    private var acts: DecoderActivations?
    private var longActs: DecoderActivations?
    /// Tests only (fault injection): called on this rank with (step, its Double gradient sums) before the
    /// all-reduce, and with (step, the normalised fp32 gradients) after it.
    var beforeGradientReduce: ((Int, UnsafeMutableBufferPointer<Double>) -> Void)?
    var afterGradientReduce: ((Int, UnsafeMutablePointer<Float>) -> Void)?

    public init(adapters: AdapterSet, options: TrainingOptions, comm: Communicator,
                train: [TrainingExample], validation: [TrainingExample]) throws {
        guard !train.isEmpty else { throw TrainingError.emptyTrainingSet }
        try DataOrder.validate(batchSize: options.batchSize, microBatch: options.microBatch, steps: options.steps)
        let microBatches = (options.batchSize + options.microBatch - 1) / options.microBatch
        guard microBatches >= comm.size else {
            throw TrainingError.tooFewMicroBatches(batchSize: options.batchSize, microBatch: options.microBatch,
                                                   microBatches: microBatches, ranks: comm.size)
        }
        self.adapters = adapters
        self.options = options
        self.comm = comm
        self.train = train
        self.validation = validation
        order = DataOrder(count: train.count, seed: options.seed)
        optimizer = AdamW(count: adapters.parameters.count, settings: options.adamw)
    }

    var model: DecoderModel { adapters.model }

    func activations(_ batch: TokenBatch, long: Bool = false) -> DecoderActivations {
        if let current = long ? longActs : acts, current.reuse(batch: batch.batch, length: batch.length) {
            return current
        }
        // Release the old set first, so that a change of shape never holds two sets at once.
        if long { longActs = nil } else { acts = nil }
        // The auxiliary pass (I-LoRA's long-term copy) is forward-only; the working pass keeps what backward needs.
        let mode: DecoderActivations.Mode = long ? .forwardOnly : options.recompute ? .recompute : .stored
        let fresh = DecoderActivations(config: model.config, batch: batch.batch, length: batch.length, mode: mode)
        if long { longActs = fresh } else { acts = fresh }
        return fresh
    }

    /// Runs one optimizer step.
    public func trainStep() throws -> StepReport {
        let start = DispatchTime.now().uptimeNanoseconds
        let params = adapters.parameters
        let acc = params.accumulator()
        acc.update(repeating: 0)
        let mine = try DataOrder.microBatches(step: step, batchSize: options.batchSize, microBatch: options.microBatch,
                                          rank: comm.rank, ranks: comm.size)
        var lossSum = 0.0, tokenCount = 0, processed = 0
        let g = params.gradients.storage.pointer
        for samples in mine {
            let examples = samples.map(example(at:))
            let (batch, targets) = TokenBatch.padded(examples, padToken: options.padToken)
            try model.validate(batch)
            processed += examples.reduce(0) { $0 + $1.tokens.count }
            adapters.context.rowSeeds = AdapterContext.rowSeeds(seed: options.seed, step: step, samples: samples,
                                                                length: batch.length)
            let a = activations(batch)
            model.forward(batch, into: a, training: true)
            let (sum, count) = model.crossEntropy(a, targets: targets)
            lossSum += sum
            tokenCount += count
            var logitGradient: ((UnsafeMutablePointer<Float>) -> Void)? = nil
            if let auxiliary = adapters.methodState?.auxiliaryLoss {
                let longA = activations(batch, long: true)
                auxiliary.withAuxiliaryModel(model) { model.forward(batch, into: longA, training: false) }
                let (term, gradient) = auxiliary.term(work: a, auxiliary: longA, targets: targets,
                                                      vocabSize: model.config.vocabSize)
                lossSum += term
                logitGradient = gradient
            }
            // Each micro-batch's gradient is computed on its own and summed in Double, so the result does
            // not depend on which rank (or after which other micro-batch) it was computed.
            params.gradients.zero()
            model.backward(batch, acts: a, targets: targets, lossWeight: 1, gradients: params.gradients,
                           logitGradient: logitGradient)
            for i in 0..<params.count { acc[i] += Double(g[i]) }
        }
        // One all-reduce: every gradient, then the loss sum and the scored-token count (Double).
        let reduceStart = DispatchTime.now().uptimeNanoseconds
        acc[params.count] = lossSum
        acc[params.count + 1] = Double(tokenCount)
        beforeGradientReduce?(step, acc)
        try comm.allReduceSum(acc)
        var reduceSeconds = Double(DispatchTime.now().uptimeNanoseconds - reduceStart) / 1e9
        let globalTokens = Int(acc[params.count + 1])
        guard globalTokens > 0 else { throw TrainingError.noScoredTokens(step: step) }
        let globalLoss = acc[params.count] / Double(globalTokens)
        let inv = 1 / Double(globalTokens)
        for i in 0..<params.count { g[i] = Float(acc[i] * inv) }
        afterGradientReduce?(step, g)
        let penalty = ewcPenalty?.apply(values: params.values.storage.pointer, gradients: g, count: params.count) ?? 0
        let lr = options.schedule.lr(at: step)
        var norm = GradientClipping.norm(g, count: params.count)
        // The NaN/Inf verdict is all-reduced (with the processed-token count, no extra collective): a value
        // that is non-finite on one rank only still makes every rank skip, or abort, at this same step.
        let secondReduceStart = DispatchTime.now().uptimeNanoseconds
        var totals = [Double(processed), norm.isFinite && (globalLoss + penalty).isFinite ? 0 : 1]
        try comm.allReduceSum(&totals)
        reduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - secondReduceStart) / 1e9
        var skipped = false
        if totals[1] > 0 {
            if options.onNaN == .abort { throw TrainingError.nonFiniteGradients(step: step) }
            skipped = true
            skippedSteps += 1
        } else {
            if let maxNorm = options.clipNorm { norm = GradientClipping.clip(g, count: params.count, maxNorm: maxNorm) }
            optimizer.update(values: params.values.storage.pointer, gradients: g, lr: Float(lr), ranges: groupRates(lr))
            adapters.methodState?.afterUpdate()
        }
        step += 1
        let mergeStart = DispatchTime.now().uptimeNanoseconds
        if !skipped, step % max(1, adapters.settings.fusionStep) == 0 {
            try adapters.method.merge(adapters, comm: comm)
        }
        let mergeSeconds = Double(DispatchTime.now().uptimeNanoseconds - mergeStart) / 1e9
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        comm.stepCompleted(step, seconds: seconds)
        return StepReport(step: step, loss: globalLoss + penalty, lr: lr, tokens: globalTokens,
                          processedTokens: Int(totals[0]), gradNorm: norm, seconds: seconds,
                          allReduceSeconds: reduceSeconds, mergeSeconds: mergeSeconds, skipped: skipped)
    }

    /// The training example of global sample `g` (a task example, or a replayed one).
    func example(at g: Int) -> TrainingExample {
        guard let replay, replay.perBatch > 0 else { return train[order.example(at: g)] }
        return replay.example(at: g, batchSize: options.batchSize) { train[order.example(at: $0)] }
    }

    /// Parts of the flat buffer with their own learning rate at the run's current `lr`: IMSM's gate, at
    /// its peak --imsm-lr scaled by the run's schedule (lr / peak), so warmup and decay apply to it too.
    func groupRates(_ lr: Double) -> [(range: Range<Int>, lr: Float)] {
        guard let imsm = adapters.settings.imsm, let range = adapters.imsmRange else { return [] }
        let base = options.schedule.base
        return [(range, Float(base > 0 ? imsm.lr * (lr / base) : 0))]
    }

    /// A checksum of everything the run persists (RunStateLayout: trainable values, AdamW moments, the
    /// method's own tensors, merged masters), which must be identical on every rank.
    public func stateChecksum() -> Double {
        RunStateLayout(adapters, optimizer: optimizer).checksum()
    }

    /// The consistency guard: every rank's checksum must equal rank 0's bit for bit.
    /// - Throws: `TrainingError.inconsistentRanks` naming the ranks that differ (on every rank).
    public func checkConsistency() throws {
        let mine = stateChecksum().bitPattern
        let all = try comm.allGather(bytes: withUnsafeBytes(of: mine) { Array($0) })
        let differing = all.enumerated().filter { $0.element != all[0] }.map(\.offset)
        if !differing.isEmpty { throw TrainingError.inconsistentRanks(step: step, ranks: differing) }
    }

    /// Mean cross-entropy per answer token over `examples` (default: the validation set), sharded over
    /// ranks by index and summed with one all-reduce.
    public func validationLoss(_ examples: [TrainingExample]? = nil) throws -> Double? {
        let set = examples ?? validation
        guard !set.isEmpty else { return nil }
        var totals = [0.0, 0.0]
        for i in stride(from: comm.rank, to: set.count, by: comm.size) {
            let (batch, targets) = TokenBatch.padded([set[i]], padToken: options.padToken)
            try model.validate(batch)
            let a = activations(batch)
            model.forward(batch, into: a, training: false)
            let (sum, count) = model.crossEntropy(a, targets: targets)
            totals[0] += sum
            totals[1] += Double(count)
        }
        try comm.allReduceSum(&totals)
        return totals[1] > 0 ? totals[0] / totals[1] : nil
    }
}
