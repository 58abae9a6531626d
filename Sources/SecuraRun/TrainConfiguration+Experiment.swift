// A training run inside an experiment (forgetting, continual): one builder, so that the two experiments'
// runs share their fixed choices (a progress line every 10 steps, the validation loss on 20 held-out
// examples at the start and end, the method's own settings applied last) and differ only in what their
// settings pass.
import SecuraAdapters

extension TrainConfiguration {
    /// One run of an experiment: `spec`'s method on the data file `data`, written to `folder`, with the
    /// experiment's optimizer settings; `spec`'s per-method settings (e.g. lr) override them. `saveEvery` > 0
    /// keeps a checkpoint every that many steps. Throws what `MethodSpec.apply(to:)` throws.
    static func experimentRun(_ spec: MethodSpec, model: String, data: String, folder: String, cabrInit: CABRInit,
                              steps: Int, batchSize: Int, lr: Double, seed: UInt64, maxLength: Int,
                              saveEvery: Int = 0) throws -> TrainConfiguration {
        var dataSettings = DataSettings(path: data)
        dataSettings.validationLimit = 20
        var c = TrainConfiguration(model: model, data: dataSettings, output: OutputSettings(folder: folder))
        c.method.cabrInit = cabrInit
        c.optimizer.steps = steps
        c.optimizer.batchSize = batchSize
        c.optimizer.lr = lr
        c.optimizer.seed = seed
        c.prompt.maxLength = maxLength
        c.cadence.logEvery = 10
        c.cadence.evalEvery = 0
        c.cadence.saveEvery = saveEvery
        try spec.apply(to: &c)
        return c
    }
}
