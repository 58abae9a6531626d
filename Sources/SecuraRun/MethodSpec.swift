// A method as an experiment names it: a training method, optionally wrapped in IMSM, optionally with its own
// settings — "lora", "lora+imsm:no-gate", "lora@lr=1e-2", "secura-m1@lr=1e-5,merge-precision=bf16". In a
// comma-separated list, a piece holding "=" and no method name continues the previous method's settings,
// so the example above is one method with two settings. Setting keys are train's long flag names.
import Foundation
import SecuraAdapters
import SecuraTrain

public struct MethodSpec: Sendable, Equatable {
    public let method: AdapterMethod
    public let imsmMode: IMSMMode?
    /// Settings of this method only, in the order given (key → value text).
    public private(set) var options: [(key: String, value: String)]

    public static func == (a: MethodSpec, b: MethodSpec) -> Bool {
        a.method == b.method && a.imsmMode == b.imsmMode && a.options.elementsEqual(b.options) { $0 == $1 }
    }

    /// One method without settings ("lora", "lora+imsm", "lora+imsm:no-query"); nil when it is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: "+", maxSplits: 1).map(String.init)
        guard let method = AdapterMethod(rawValue: parts[0]) else { return nil }
        self.method = method
        options = []
        if parts.count == 2 {
            let imsm = parts[1].split(separator: ":", maxSplits: 1).map(String.init)
            guard imsm[0] == "imsm" else { return nil }
            guard let mode = imsm.count == 2 ? IMSMMode(rawValue: imsm[1]) : .full else { return nil }
            imsmMode = mode
        } else {
            imsmMode = nil
        }
    }

    /// The keys a method may set, with what they change.
    public static let keys: [String] = ["lr", "steps", "batch-size", "warmup", "schedule", "weight-decay", "clip", "rank", "alpha",
                                        "dropout", "cur-rank", "cabr-m", "cabr-init", "fusion-step", "smagnorm", "smagnorm-scale",
                                        "merge-precision", "smagnorm-eps", "delta-bias", "cabr-scale", "ema-decay", "consistency-weight", "ewc-lambda", "ewc-samples",
                                        "replay-size", "replay-ratio",
                                        "imsm-gate", "imsm-rank", "imsm-dropout", "imsm-lr"]   // the imsm-* ones need +imsm

    /// Parses a comma-separated list of methods with their settings.
    /// - Throws: `RunSettingError(.methods, ...)` naming the piece that is neither a method nor a setting.
    public static func list(_ text: String) throws -> [MethodSpec] {
        var specs: [MethodSpec] = []
        for raw in text.split(separator: ",") {
            let piece = raw.trimmingCharacters(in: .whitespaces)
            let head = piece.split(separator: "@", maxSplits: 1).map(String.init)
            if head.count == 2 || !piece.contains("=") {
                guard var spec = MethodSpec(head[0]) else {
                    throw RunSettingError(.methods, "'\(head[0])' is not a method (a method, optionally with +imsm or +imsm:MODE, then @key=value)")
                }
                if head.count == 2 { try spec.add(head[1]) }
                specs.append(spec)
            } else {
                guard !specs.isEmpty else { throw RunSettingError(.methods, "'\(piece)' comes before any method") }
                try specs[specs.count - 1].add(piece)
            }
        }
        guard !specs.isEmpty else { throw RunSettingError(.methods, "no method given") }
        return specs
    }

    mutating func add(_ assignment: String) throws {
        let kv = assignment.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard kv.count == 2, !kv[1].isEmpty else { throw RunSettingError(.methods, "'\(assignment)' is not key=value") }
        guard Self.keys.contains(kv[0]) else {
            throw RunSettingError(.methods, "'\(kv[0])' is not a per-method setting (one of \(Self.keys.joined(separator: ", ")))")
        }
        guard !options.contains(where: { $0.key == kv[0] }) else { throw RunSettingError(.methods, "'\(kv[0])' is set twice for \(name)") }
        var probe = TrainConfiguration(model: "-", data: DataSettings(path: "-"), output: OutputSettings(folder: "-"))
        if imsmMode != nil { probe.method.imsm = IMSMSettings() }
        try Self.set(kv[0], kv[1], in: &probe)
        options.append((kv[0], kv[1]))
    }

    /// The method's settings applied over `c` (which holds the experiment's common ones).
    public func apply(to c: inout TrainConfiguration) throws {
        c.method.method = method
        if let imsmMode {
            var imsm = IMSMSettings()
            imsm.mode = imsmMode
            c.method.imsm = imsm
        }
        for (key, value) in options { try Self.set(key, value, in: &c) }
    }

    static func set(_ key: String, _ value: String, in c: inout TrainConfiguration) throws {
        func bad() -> RunSettingError { RunSettingError(.methods, "\(key)=\(value): not a valid value") }
        func int() throws -> Int { guard let v = Int(value) else { throw bad() }; return v }
        func real() throws -> Double { guard let v = Double(value), v.isFinite else { throw bad() }; return v }
        func of<T: RawRepresentable>(_: T.Type) throws -> T where T.RawValue == String { guard let v = T(rawValue: value) else { throw bad() }; return v }
        switch key {
        case "lr": c.optimizer.lr = try real()
        case "steps": c.optimizer.steps = try int()
        case "batch-size": c.optimizer.batchSize = try int()
        case "warmup": c.optimizer.warmup = try int()
        case "schedule": c.optimizer.schedule = try of(LRScheduleKind.self)
        case "weight-decay": c.optimizer.weightDecay = Float(try real())
        case "clip": c.optimizer.clip = try real()
        case "rank": c.method.rank = try int()
        case "alpha": c.method.alpha = Float(try real())
        case "dropout": c.method.dropout = Float(try real())
        case "cur-rank": c.method.curRank = try int()
        case "cabr-m": c.method.cabrM = try int()
        case "cabr-init": c.method.cabrInit = try of(CABRInit.self)
        case "fusion-step": c.method.fusionStep = try int()
        case "smagnorm": c.method.smagnorm = try of(SMagNormMode.self)
        case "smagnorm-scale": c.method.smagnormScale = Float(try real())
        case "merge-precision": c.method.mergePrecision = try of(MergePrecision.self)
        case "smagnorm-eps": c.method.smagnormEps = Float(try real())
        case "cabr-scale": c.method.cabrScale = try of(CABRScale.self)
        case "delta-bias":
            guard let v = ["true": true, "false": false, "1": true, "0": false][value] else { throw bad() }
            c.method.deltaBias = v
        case "ema-decay": c.method.emaDecay = Float(try real())
        case "consistency-weight": c.method.consistencyWeight = Float(try real())
        case "ewc-lambda":
            var ewc = c.ewc ?? EWCSettings(lambda: 0)
            ewc.lambda = try real()
            c.ewc = ewc
        case "replay-size":
            var replay = c.replay ?? ReplaySettings(size: 1)
            replay.size = try int()
            c.replay = replay
        case "replay-ratio":
            var replay = c.replay ?? ReplaySettings(size: 1000)
            replay.ratio = try real()
            c.replay = replay
        case "ewc-samples":
            var ewc = c.ewc ?? EWCSettings(lambda: 0)
            ewc.samples = try int()
            c.ewc = ewc
        case "imsm-gate", "imsm-rank", "imsm-dropout", "imsm-lr":
            guard var imsm = c.method.imsm else { throw RunSettingError(.methods, "\(key) needs IMSM: write the method as METHOD+imsm") }
            switch key {
            case "imsm-gate": imsm.gate = try of(IMSMGateVariant.self)
            case "imsm-rank": imsm.rank = try int()
            case "imsm-dropout": imsm.dropout = Float(try real())
            default: imsm.lr = try real()
            }
            c.method.imsm = imsm
        default: throw RunSettingError(.methods, "'\(key)' is not a per-method setting")
        }
    }

    /// As written: "secura-m1+imsm@lr=1e-5,merge-precision=bf16".
    public var name: String {
        let base = method.rawValue + (imsmMode.map { $0 == .full ? "+imsm" : "+imsm:" + $0.rawValue } ?? "")
        return options.isEmpty ? base : base + "@" + options.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// A folder-friendly name ("lora-imsm-no-gate", "secura-m1@merge-precision=bf16" → "secura-m1-merge-precision-bf16";
    /// the learning rate is in the run folder's name already).
    public var slug: String {
        let base = method.rawValue + (imsmMode.map { $0 == .full ? "-imsm" : "-imsm-" + $0.rawValue } ?? "")
        let rest = options.filter { $0.key != "lr" }.map { "\($0.key)-\($0.value)" }
        return ([base] + rest).joined(separator: "-")
    }
}
