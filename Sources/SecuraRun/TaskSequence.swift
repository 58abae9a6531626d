// Continual learning as a loop of runs over one model state: the tasks are trained one after another, and at
// every task switch the run's adapter is fused into the model (ModelContext.fused), so the next task starts
// from the fused weights with a fresh adapter. Each task's run lives in its own folder under the sequence's
// output; an interrupted sequence continues where it stopped: finished tasks (their summary.json written)
// are not retrained, their adapters are fused again in order (the fusion is deterministic, so the model
// state is the same bits), and a task cut short resumes from its last checkpoint.
import Foundation
import SecuraDistributed
import SecuraEval

public struct TaskSequence {
    /// The task files, in training order.
    public let tasks: [String]
    /// Every setting of each task's run except its data and output (taken from `tasks` and `folder`).
    public let template: TrainConfiguration
    /// The sequence's folder: one sub-folder per task, "1-NAME", "2-NAME", ...
    public let folder: URL
    public let comm: Communicator
    public let solvers: SVDSolvers?
    public let events: (RunEvent) -> Void

    public init(tasks: [String], template: TrainConfiguration, folder: URL, comm: Communicator, solvers: SVDSolvers?,
                events: @escaping (RunEvent) -> Void) {
        self.tasks = tasks
        self.template = template
        self.folder = folder
        self.comm = comm
        self.solvers = solvers
        self.events = events
    }

    /// The run folder of task `index` (0-based).
    public func taskFolder(_ index: Int) -> URL {
        folder.appendingPathComponent("\(index + 1)-\(EvalTask.taskName(tasks[index]))")
    }

    /// The configuration of task `index`'s run.
    public func configuration(_ index: Int) -> TrainConfiguration {
        var c = template
        c.data.path = tasks[index]
        c.output = OutputSettings(folder: taskFolder(index).path)
        c.output.resume = "auto"
        if index > 0, c.replay != nil {
            c.replay?.previousBuffer = taskFolder(index - 1).appendingPathComponent(TrainingSession.replayBufferName).path
        }
        if index > 0, c.ewc != nil {
            c.ewc?.previousState = taskFolder(index - 1).appendingPathComponent(TrainingSession.ewcStateName).path
        }
        return c
    }

    /// Trains every task in order starting from `model`, fusing each run into the model before the next.
    /// `afterTask(index, fused)` is called after each task with the model as it stands then (every rank).
    /// Returns the model after the last task. Collective over `comm`.
    @discardableResult
    public func run(model: ModelContext, afterTask: (Int, ModelContext) throws -> Void = { _, _ in }) throws -> ModelContext {
        var current = model
        for index in tasks.indices {
            let c = configuration(index)
            let summary = taskFolder(index).appendingPathComponent("summary.json")
            if FileManager.default.fileExists(atPath: summary.path),
               let done = try? TrainSummary.read(summary), done.final_step == c.optimizer.steps {
                events(.note("task \(index + 1)/\(tasks.count) \(EvalTask.taskName(tasks[index])): trained before (\(summary.path)); fusing it again"))
            } else {
                events(.note("task \(index + 1)/\(tasks.count) \(EvalTask.taskName(tasks[index])): \(c.optimizer.steps) steps"))
                try TrainingSession(c, comm: comm, solvers: solvers, events: events).run(model: current)
            }
            current = try current.fused(adapter: taskFolder(index).appendingPathComponent("adapter").path)
            try afterTask(index, current)
        }
        return current
    }
}
