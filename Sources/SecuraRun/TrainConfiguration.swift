// A training run described by values: which model and data, how prompts are rendered, the method, the
// optimizer, the cadence of evaluation, checkpoints and logging, and where the output goes. The command
// line fills it from flags (and a TOML file) in one place; experiments build it directly. It is written
// whole into OUTPUT/summary.json, so a run's summary says exactly what ran.
import Foundation
import SecuraAdapters
import SecuraData
import SecuraTrain

/// Everything `TrainingSession.run` needs to know about a training run.
public struct TrainConfiguration: Codable, Sendable, Equatable {
    /// The model: a GGUF file or a Hugging Face folder.
    public var model: String
    public var data: DataSettings
    public var prompt: PromptSettings
    public var method: MethodSettings
    /// CABR's SVD initialisation: how it spreads over ranks and where its results are cached.
    public var cabrSVD: CABRSVDSettings
    /// A PEFT folder to start LoRA/DoRA/I-LoRA from (fixes rank, alpha and targets).
    public var initAdapter: String?
    public var optimizer: OptimizerSettings
    public var cadence: CadenceSettings
    public var output: OutputSettings
    public var memory: MemorySettings
    /// Elastic Weight Consolidation against earlier tasks (nil: none).
    public var ewc: EWCSettings?
    /// Experience replay of earlier tasks' examples (nil: none).
    public var replay: ReplaySettings?
    /// The run's place in a task sequence (nil: a run on its own).
    public var sequence: SequenceSettings?

    public init(model: String, data: DataSettings, output: OutputSettings, prompt: PromptSettings = PromptSettings(),
                method: MethodSettings = MethodSettings(), cabrSVD: CABRSVDSettings = CABRSVDSettings(),
                initAdapter: String? = nil, optimizer: OptimizerSettings = OptimizerSettings(),
                cadence: CadenceSettings = CadenceSettings(), memory: MemorySettings = MemorySettings()) {
        self.model = model
        self.data = data
        self.prompt = prompt
        self.method = method
        self.cabrSVD = cabrSVD
        self.initAdapter = initAdapter
        self.optimizer = optimizer
        self.cadence = cadence
        self.output = output
        self.memory = memory
    }
}

/// The task data and its split.
public struct DataSettings: Codable, Sendable, Equatable {
    /// JSON Lines ({"input","output"} or {"messages"}) or a BIG-bench task.json.
    public var path: String
    /// Fraction of the records used for training; the rest is the validation split.
    public var trainFraction = 0.9
    /// Skip and count malformed lines instead of stopping at the first.
    public var skipBadLines = false
    /// Validation loss over at most this many held-out examples (nil: all of them up to `defaultValidationCap`).
    public var validationLimit: Int?

    public init(path: String) { self.path = path }

    /// Held-out examples the validation loss uses when no limit is set: a 20,000-record task file has a
    /// validation split of 2,000, whose pass ran for minutes before the first step with nothing printed.
    public static let defaultValidationCap = 500

    /// How many of `available` held-out examples the validation loss uses under `limit`.
    public static func validationCount(available: Int, limit: Int?) -> Int {
        min(available, limit ?? defaultValidationCap)
    }
}

/// How records become token sequences.
public struct PromptSettings: Codable, Sendable, Equatable {
    /// Render with the model's chat template (else plain prompt + answer + EOS).
    public var chat = true
    /// Longest sequence in tokens.
    public var maxLength = 512
    /// A Jinja template file to use instead of the model's.
    public var chatTemplateFile: String?
    /// The date (YYYY-MM-DD, UTC) that templates printing today's date print (nil: today).
    public var templateDate: String?

    public init() {}

    /// The data layer's prompt options: reads the template file and parses the date.
    /// - Throws: `RunSettingError` naming the setting.
    public func options() throws -> PromptOptions {
        var p = PromptOptions()
        p.chat = chat
        p.maxLength = maxLength
        if let path = chatTemplateFile {
            do {
                p.chatTemplate = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw RunSettingError(.chatTemplateFile, "cannot read '\(path)': \(error.localizedDescription)")
            }
            p.chatTemplateOrigin = path
        }
        p.templateDate = try Self.date(templateDate)
        return p
    }

    /// "YYYY-MM-DD" as a UTC date; nil for nil.
    public static func date(_ text: String?) throws -> Date? {
        guard let text else { return nil }
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.timeZone = TimeZone(identifier: "UTC")
        parser.dateFormat = "yyyy-MM-dd"
        guard let date = parser.date(from: text), parser.string(from: date) == text else {
            throw RunSettingError(.templateDate, "'\(text)' is not a date in YYYY-MM-DD form")
        }
        return date
    }
}

/// How the SVD initialisation of CABR's A uses the ranks.
public enum CABRSVDSolver: String, CaseIterable, Codable, Sendable {
    /// Whole matrices dealt to ranks, LAPACK dgesdd on each, A broadcast from its owner.
    case dealt
    /// ScaLAPACK pdgesvd over all ranks, one matrix at a time.
    case scalapack
}

public struct CABRSVDSettings: Codable, Sendable, Equatable {
    public var solver = CABRSVDSolver.dealt
    /// A folder caching CABR's initial A per model and settings.
    public var cacheFolder: String?
    public init() {}
}

/// The optimizer and the shape of a step.
public struct OptimizerSettings: Codable, Sendable, Equatable {
    public var steps = 100
    /// Sequences per optimizer step over all ranks.
    public var batchSize = 8
    /// Sequences per forward pass on a rank.
    public var microBatch = 1
    public var lr = 1e-4
    public var schedule = LRScheduleKind.constant
    public var warmup = 0
    public var weightDecay: Float = 0.01
    /// Global gradient-norm clip (0: none).
    public var clip = 1.0
    public var seed: UInt64 = 42
    public var onNaN = NaNPolicy.skip
    /// Activation recomputation in the backward pass.
    public var recompute = false
    public init() {}
}

/// When the run evaluates, checkpoints, reports and checks itself.
public struct CadenceSettings: Codable, Sendable, Equatable {
    /// Validation loss every this many steps (0: at the start and the end only).
    public var evalEvery = 0
    /// A checkpoint every this many steps (0: only at the end).
    public var saveEvery = 0
    /// A step event is marked for printing every this many steps (and at the last).
    public var logEvery = 1
    /// Cross-rank consistency check every this many steps (0: never).
    public var checkEvery = 10
    public init() {}
}

/// Where the run writes.
public struct OutputSettings: Codable, Sendable, Equatable {
    /// Checkpoints, metrics, final adapter state and summary.json.
    public var folder: String
    /// The metrics JSON Lines file (nil: OUTPUT/metrics.jsonl).
    public var metricsFile: String?
    /// A checkpoint folder to resume from, or "auto" for the newest in OUTPUT/checkpoints.
    public var resume: String?
    public init(folder: String) { self.folder = folder }
}

/// The memory preflight.
public struct MemorySettings: Codable, Sendable, Equatable {
    /// GiB this job may use per node instead of what the node reports.
    public var limitGiB: Double?
    /// Run even when the plan says it does not fit.
    public var skipCheck = false
    public init() {}
}

/// EWC in a task sequence: the penalty's weight, the examples of the Fisher estimate, and the state that the
/// previous task left (its summed Fisher diagonal and anchor values).
public struct EWCSettings: Codable, Sendable, Equatable {
    /// λ of (λ/2)·Σ F_i (θ_i − θ*_i)².
    public var lambda: Double
    /// Training examples of the task used for its Fisher estimate (the first ones of the split).
    public var samples = 200
    /// The previous task's OUTPUT/ewc.safetensors (nil for the first task: no penalty yet).
    public var previousState: String?

    public init(lambda: Double) { self.lambda = lambda }
}

/// Experience replay in a task sequence: the buffer's capacity, the share of every batch drawn from it, and the
/// buffer the previous task left.
public struct ReplaySettings: Codable, Sendable, Equatable {
    /// Examples the buffer keeps (reservoir sampling over every task's training examples so far).
    public var size: Int
    /// Share of every global batch replayed from the buffer, in [0, 1) (rounded to whole sequences).
    public var ratio = 0.25
    /// The previous task's OUTPUT/replay.json (nil for the first task: nothing to replay yet).
    public var previousBuffer: String?

    public init(size: Int) { self.size = size }
}

/// A run's place in a task sequence (TaskSequence sets it): whether the sequence fuses every task into the
/// model, and, without fusion, the previous task's final state that this run starts from.
public struct SequenceSettings: Codable, Sendable, Equatable {
    /// This run's task, 0-based.
    public var task: Int
    /// The sequence fuses each task's adapter into the model at the task's end (so from the second task on
    /// the run trains on an fp32 overlay of fused weights and starts with a fresh adapter).
    public var fuseAtTaskEnd: Bool
    /// Without fusion, from the second task on: the previous task's final checkpoint, whose whole state
    /// (values, AdamW moments and step count, the method's tensors, SECURA-M1's masters) this run starts from.
    public var startState: String?

    public init(task: Int, fuseAtTaskEnd: Bool, startState: String? = nil) {
        self.task = task
        self.fuseAtTaskEnd = fuseAtTaskEnd
        self.startState = startState
    }

    /// The run trains on a model holding earlier tasks' fused weights.
    public var trainsOnFusedWeights: Bool { fuseAtTaskEnd && task > 0 }
}
