// Settings a run rejects, named as settings (the library knows no flags). The command line maps a
// setting to its flag: the case name in kebab case ("batchSize" → "--batch-size").
import Foundation

/// A run setting, by the name of its command-line flag in camel case.
public enum RunSetting: String, CaseIterable, Sendable {
    case model, data, output, steps, batchSize, microBatch, lr, warmup, weightDecay, clip, split, maxLength
    case evalEvery, saveEvery, logEvery, checkEvery, validationLimit, resume, initAdapter, chatTemplate
    case templateDate, memoryLimit, method, rank, curRank, cabrM, fusionStep, dropout, cabrSvdRank, imsmRank
    case imsmDropout, imsmLr, targets, task, methods, suiteLimit, taskLimit, limit, maxNewTokens, seed, seeds, ewcLambda, ewcSamples, replaySize, replayRatio

    /// What people call it in a message from the library ("batch size").
    public var words: String {
        rawValue.reduce(into: "") { text, c in
            if c.isUppercase { text += " " + c.lowercased() } else { text.append(c) }
        }
    }

    /// Its key in configuration files and library messages ("batch_size"), as SecuraErrors' `Setting` keys.
    public var key: String {
        rawValue.reduce(into: "") { text, c in
            if c.isUppercase { text += "_" + c.lowercased() } else { text.append(c) }
        }
    }

    /// The command-line flag that sets it ("--batch-size").
    public var flag: String {
        "--" + rawValue.reduce(into: "") { text, c in
            if c.isUppercase { text += "-" + c.lowercased() } else { text.append(c) }
        }
    }

    /// The template file setting, spelled as its flag.
    public static let chatTemplateFile = RunSetting.chatTemplate
}

/// A setting outside its range, or one that cannot be used.
public struct RunSettingError: Error, CustomStringConvertible, Equatable {
    public let setting: RunSetting
    public let reason: String

    public init(_ setting: RunSetting, _ reason: String) {
        self.setting = setting
        self.reason = reason
    }

    /// The library's wording: the setting in words.
    public var description: String { "\(setting.words): \(reason)" }

    /// The command line's wording: the setting as its flag.
    public var flagDescription: String { "\(setting.flag): \(reason)" }
}

/// Checks of one numeric setting against its documented range.
enum SettingCheck {
    /// `value` in `range`, else an error naming the setting and the range.
    static func int(_ value: Int, _ range: ClosedRange<Int>, _ setting: RunSetting) throws {
        guard range.contains(value) else {
            throw RunSettingError(setting, "\(value) is outside \(range.lowerBound)…\(range.upperBound)")
        }
    }

    /// A finite `value` in `range` (open at the bottom when `open`).
    static func real(_ value: Double, _ range: ClosedRange<Double>, _ setting: RunSetting, openBelow: Bool = false) throws {
        let inside = value.isFinite && range.contains(value) && !(openBelow && value == range.lowerBound)
        guard inside else {
            let low = openBelow ? "(\(range.lowerBound)" : "[\(range.lowerBound)"
            throw RunSettingError(setting, "\(value) is outside \(low), \(range.upperBound)]")
        }
    }
}
