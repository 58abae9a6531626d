// The secura-dist command: one executable, one subcommand per file.
import ArgumentParser

@main
struct SecuraDist: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secura-dist",
        abstract: "Fine-tune decoder LLMs with SECURA and PEFT methods on CPUs and CPU clusters over MPI.",
        discussion: """
            Run as a single process, or under mpirun (`mpirun -np N secura-dist ...`): the MPI transport is \
            used automatically when mpirun started the process. Only rank 0 prints.
            """,
        subcommands: [Train.self, Eval.self, Experiment.self, Generate.self, Inspect.self, MakeModel.self, Score.self, Tokenize.self, Export.self, Bench.self, Doctor.self, BenchSVD.self])
}
