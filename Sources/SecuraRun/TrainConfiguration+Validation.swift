// The documented range of every numeric training setting, checked before anything is read or allocated
// (a batch size of 2^31 must be a message, not an 17 GB allocation at the first step). README and the
// flags' help quote these ranges.
import Foundation
import SecuraAdapters

/// The ranges, in one place.
public enum SettingRanges {
    public static let steps = 1...1_000_000_000
    public static let batchSize = 1...1_048_576
    public static let microBatch = 1...65_536
    public static let maxLength = 2...1_048_576
    public static let cadence = 0...1_000_000_000
    public static let logEvery = 1...1_000_000_000
    public static let count = 1...1_000_000_000
    public static let adapterRank = 1...65_536
    public static let curRank = 1...1_048_576
    public static let imsmRank = 1...4_096
    public static let threads = 1...4_096
}

extension TrainConfiguration {
    /// Throws `RunSettingError` for the first setting outside its range.
    public func validate() throws {
        let o = optimizer, c = cadence, r = SettingRanges.self
        try SettingCheck.int(o.steps, r.steps, .steps)
        try SettingCheck.int(o.batchSize, r.batchSize, .batchSize)
        try SettingCheck.int(o.microBatch, r.microBatch, .microBatch)
        try SettingCheck.int(prompt.maxLength, r.maxLength, .maxLength)
        try SettingCheck.real(o.lr, 0...Double.greatestFiniteMagnitude, .lr, openBelow: true)
        try SettingCheck.int(o.warmup, r.cadence, .warmup)
        try SettingCheck.real(Double(o.weightDecay), 0...Double.greatestFiniteMagnitude, .weightDecay)
        try SettingCheck.real(o.clip, 0...Double.greatestFiniteMagnitude, .clip)
        try SettingCheck.real(data.trainFraction, 0...1, .split, openBelow: true)
        try SettingCheck.int(c.evalEvery, r.cadence, .evalEvery)
        try SettingCheck.int(c.saveEvery, r.cadence, .saveEvery)
        try SettingCheck.int(c.checkEvery, r.cadence, .checkEvery)
        try SettingCheck.int(c.logEvery, r.logEvery, .logEvery)
        if let v = data.validationLimit { try SettingCheck.int(v, r.count, .validationLimit) }
        if let m = memory.limitGiB { try SettingCheck.real(m, 0...1_048_576, .memoryLimit, openBelow: true) }
        try method.validateRanges()
        if let replay {
            try SettingCheck.int(replay.size, 1...10_000_000, .replaySize)
            try SettingCheck.real(replay.ratio, 0...1, .replayRatio)
            guard replay.ratio < 1 else { throw RunSettingError(.replayRatio, "1 leaves no room for the task's own examples: use a share below 1") }
        }
        if let ewc {
            try SettingCheck.real(ewc.lambda, 0...Double.greatestFiniteMagnitude, .ewcLambda)
            try SettingCheck.int(ewc.samples, r.count, .ewcSamples)
            // An adapter carried through the tasks (a sequence without fusion) has values to anchor; one fused
            // at every task's end restarts from its initialisation, so its anchor would mean nothing.
            guard method.method == .full || sequence?.fuseAtTaskEnd == false else {
                throw RunSettingError(.ewcLambda, "EWC anchors the trained values: it needs the method full, or an adapter carried through the tasks (--no-fuse-at-task-end); with fusion adapter methods restart from their initialisation at every task")
            }
        }
        for (setting, path) in [(RunSetting.model, model), (.data, data.path), (.output, output.folder)] where path.isEmpty {
            throw RunSettingError(setting, "is empty")
        }
    }
}

extension MethodSettings {
    /// Throws `RunSettingError` for a method setting outside its range.
    public func validateRanges() throws {
        let r = SettingRanges.self
        try SettingCheck.int(rank, r.adapterRank, .rank)
        try SettingCheck.int(curRank, r.curRank, .curRank)
        try SettingCheck.int(cabrM, r.curRank, .cabrM)
        try SettingCheck.int(fusionStep, r.steps, .fusionStep)
        guard dropout >= 0, dropout < 1 else { throw RunSettingError(.dropout, "\(dropout) is outside [0, 1)") }
        if let k = cabrSVDRank { try SettingCheck.int(k, r.curRank, .cabrSvdRank) }
        if let imsm {
            try SettingCheck.int(imsm.rank, r.imsmRank, .imsmRank)
            guard imsm.dropout >= 0, imsm.dropout < 1 else { throw RunSettingError(.imsmDropout, "\(imsm.dropout) is outside [0, 1)") }
            try SettingCheck.real(imsm.lr, 0...Double.greatestFiniteMagnitude, .imsmLr, openBelow: true)
        }
    }
}
