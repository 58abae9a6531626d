// How a failure leaves the process: one line on standard error and an exit status that says what kind
// of failure it was, so batch scripts can tell a bad request from bad data, a broken disk or a bug.
//
//   64  usage        bad flags or values, settings that cannot run together (EX_USAGE)
//   65  data         a malformed or inconsistent model, data, tokenizer or config file (EX_DATAERR)
//   70  internal     a bug: an invariant of secura-dist does not hold (EX_SOFTWARE)
//   74  io           a missing file, no permission, a full disk (EX_IOERR)
//   75  unavailable  the collective watchdog or a failing MPI transport; requeue and resume (EX_TEMPFAIL)
//
// Library messages name settings by their configuration keys ("the micro-batch size (micro_batch)");
// here they become the flags that set them ("the micro-batch size (--micro-batch)").
import ArgumentParser
import Foundation
import SecuraErrors
import SecuraRun

enum ErrorReport {
    /// The flag that sets each setting key the libraries name: every run setting by its own rule (key
    /// "batch_size" → "--batch-size", `RunSetting`), and the keys that PEFT and Hugging Face name differently.
    static let flags: [String: String] = Dictionary(RunSetting.allCases.map { ($0.key, $0.flag) }, uniquingKeysWith: { a, _ in a })
        .merging(otherFlags, uniquingKeysWith: { _, other in other })

    /// Keys whose flag does not follow from a run setting's name.
    static let otherFlags: [String: String] = [
        "on_nan": "--on-nan", "smagnorm": "--smagnorm", "force": "--force", "shard_size": "--shard-size",
        "r": "--rank", "lora_alpha": "--alpha", "target_modules": "--targets", "cabr_init": "--cabr-init",
        "chat_template": "--chat-template FILE", "no_chat": "--no-chat",
    ]

    /// The category of any error this process can end with: ArgumentParser's validation errors are
    /// usage, the rest as `ErrorCategory(of:)` classifies them.
    static func category(of error: Error) -> ErrorCategory {
        if error is ValidationError { return .usage }
        return ErrorCategory(of: error)
    }

    /// The exit status for `error` (see the table at the top of this file).
    static func exitCode(for error: Error) -> Int32 {
        category(of: error).exitCode
    }

    /// The error's message with every "(setting_key)" the flag table knows replaced by "(--flag)".
    /// A run setting error names its flag itself (`RunSettingError.flagDescription`).
    static func message(for error: Error) -> String {
        if let setting = error as? RunSettingError { return setting.flagDescription }
        return Setting.renaming("\(error)", flags)
    }
}
