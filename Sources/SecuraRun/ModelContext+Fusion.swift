// Fusion at a task switch: a trained adapter folded into the model the adapter was trained on, in memory,
// so the next task of a sequence starts from the fused weights (LoRA/DoRA: W + ΔW and a fresh adapter;
// CUR-LoRA: W + C·U·R; I-LoRA: its working copy merged; SECURA-M1: its merge masters; SECURA-M2: its
// fused long pair; full fine-tuning: the trained weights). The fused weights are computed by the method's
// own merged-weight rule, `MergedExport.mergedWeight`, so they equal `export --format merged --dtype fp32`
// of the same adapter on the same model bit for bit.
import Foundation
import SecuraAdapters
import SecuraModel
import SecuraTensor
import SecuraTrain

/// A run that cannot be fused into the model.
public struct FusionError: Error, CustomStringConvertible {
    public let description: String
}

extension ModelContext {
    /// A context whose adapted weights are `adapterFolder`'s merged weights (fp32) on this context's
    /// weights; every other tensor, the tokenizer and the configuration are shared with this context.
    /// - Throws: `FusionError` for an IMSM run (a gate between two models has no merged form), and the
    ///   adapter loader's errors.
    public func fused(adapter adapterFolder: String) throws -> ModelContext {
        let source = loaded.source
        let adapters = try AdapterLoader.open(adapterFolder, config: config, base: source, loadMasters: false)
        guard adapters.settings.imsm == nil else {
            throw FusionError(description: "\(adapterFolder): an IMSM run has no merged form to fuse into the model")
        }
        let stored = try AdapterLoader.storedMasters(adapterFolder, adapters: adapters)
        // One overlay level: fused weights of later tasks replace earlier ones over the same original tensors.
        let overlay: OverlayWeights
        if let earlier = source as? OverlayWeights {
            overlay = OverlayWeights(base: earlier.base, overrides: earlier.overrides)
        } else {
            overlay = OverlayWeights(base: source)
        }
        for plan in adapters.plans {
            let name = plan.site.weightName
            let merged = try MergedExport.mergedWeight(adapters, site: plan.site, original: try source.view(name),
                                                       current: try stored?.weight(plan.site))
            let buffer = FloatBuffer(merged)
            overlay.set(name, WeightView(name: name, dtype: .f32, shape: [plan.outFeatures, plan.inFeatures],
                                         data: UnsafeRawPointer(buffer.pointer), owner: buffer))
        }
        return ModelContext(loaded.replacingSource(overlay), sharingTokenizerWith: self)
    }
}
