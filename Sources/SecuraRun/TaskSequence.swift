// Continual learning as a loop of runs over one model state: the tasks are trained one after another. With
// fusion at task end (the default), at every task switch the run's adapter is fused into the model
// (ModelContext.fused), so the next task starts from the fused weights with a fresh adapter and a fresh
// optimizer. Without fusion, the model stays the original one and the next task starts from the previous
// task's whole final state (values, AdamW moments and step count, the method's own tensors, SECURA-M1's
// masters): one adapter carried through the sequence, as one long run resumed on a new data set (only the
// step counter, data position and learning-rate schedule start again). Each task's run lives in its own
// folder under the sequence's output; an interrupted sequence continues where it stopped: finished tasks
// (their summary.json written) are not retrained, their adapters are fused again in order (the fusion is
// deterministic, so the model state is the same bits) or, without fusion, the next task starts from their
// final checkpoint, and a task cut short resumes from its last checkpoint.
import Foundation
import SecuraDistributed
import SecuraEval
import SecuraModel
import SecuraTrain

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
    /// Fuse each task's adapter into the model at the task's end (false: carry the run's state to the next task).
    public let fuseAtTaskEnd: Bool

    public init(tasks: [String], template: TrainConfiguration, folder: URL, comm: Communicator, solvers: SVDSolvers?,
                fuseAtTaskEnd: Bool = true, events: @escaping (RunEvent) -> Void) {
        self.tasks = tasks
        self.fuseAtTaskEnd = fuseAtTaskEnd
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

    /// The final checkpoint of task `index`'s run (with optimizer state): where the next task starts without fusion.
    public func finalCheckpoint(_ index: Int) -> URL {
        taskFolder(index).appendingPathComponent("checkpoints").appendingPathComponent(Checkpoint.name(step: template.optimizer.steps))
    }

    /// The configuration of task `index`'s run.
    public func configuration(_ index: Int) -> TrainConfiguration {
        var c = template
        c.data.path = tasks[index]
        c.output = OutputSettings(folder: taskFolder(index).path)
        c.output.resume = "auto"
        c.sequence = SequenceSettings(task: index, fuseAtTaskEnd: fuseAtTaskEnd,
                                      startState: !fuseAtTaskEnd && index > 0 ? finalCheckpoint(index - 1).path : nil)
        if index > 0, c.replay != nil {
            c.replay?.previousBuffer = taskFolder(index - 1).appendingPathComponent(TrainingSession.replayBufferName).path
        }
        if index > 0, c.ewc != nil {
            c.ewc?.previousState = taskFolder(index - 1).appendingPathComponent(TrainingSession.ewcStateName).path
        }
        return c
    }

    /// Trains every task in order starting from `model`, fusing each run into the model before the next (or,
    /// without fusion, carrying its state into the next run on the unchanged `model`).
    /// `afterTask(index, fused)` is called after each task with the model as it stands then (every rank):
    /// without fusion, `model` with the task's adapter merged (a view for scoring; training goes on from the
    /// adapter on `model`). Returns the model after the last task in the same sense. Collective over `comm`.
    @discardableResult
    public func run(model: ModelContext, afterTask: (Int, ModelContext) throws -> Void = { _, _ in }) throws -> ModelContext {
        var current = model, last = model
        for index in tasks.indices {
            let c = configuration(index)
            let summary = taskFolder(index).appendingPathComponent("summary.json")
            if FileManager.default.fileExists(atPath: summary.path),
               let done = try? TrainSummary.read(summary), done.final_step == c.optimizer.steps {
                events(.note("task \(index + 1)/\(tasks.count) \(EvalTask.taskName(tasks[index])): trained before (\(summary.path)); "
                             + (fuseAtTaskEnd ? "fusing it again" : "the next task starts from its final state")))
            } else {
                events(.note("task \(index + 1)/\(tasks.count) \(EvalTask.taskName(tasks[index])): \(c.optimizer.steps) steps"))
                try TrainingSession(c, comm: comm, solvers: solvers, events: events).run(model: current)
            }
            let after = try current.fused(adapter: taskFolder(index).appendingPathComponent("adapter").path)
            if fuseAtTaskEnd { current = after }
            try afterTask(index, after)
            last = after
        }
        return last
    }
}

extension TaskSequence {
    /// Prints the memory plan of the sequence's heaviest run, its last task (an earlier task's EWC penalty,
    /// with fusion the earlier tasks' fused weights, then the merge after it), and refuses the sequence when it
    /// cannot fit, before any weight of `opened` is read. Collective (one all-reduce).
    /// - Throws: `MemoryPlanError`.
    public func checkMemory(_ opened: LoadedModel) throws {
        let last = TrainingSession(configuration(tasks.count - 1), comm: comm, solvers: solvers, events: events)
        events(.note("memory plan of the sequence's last task (\(tasks.count) of \(tasks.count)):"))
        try last.checkMemory(opened, settings: last.methodSettings())
    }
}
