// The secura-dist command: one executable, one subcommand per file.
import ArgumentParser
import Foundation
import SecuraErrors

@main
struct SecuraDist: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secura-dist",
        abstract: "Fine-tune decoder LLMs with SECURA and PEFT methods on CPUs and CPU clusters over MPI.",
        discussion: """
            Run as a single process, or under mpirun (`mpirun -np N secura-dist ...`): the MPI transport is \
            used automatically when mpirun started the process. Only rank 0 prints.

            Exit status: 0 success; 64 usage (a bad flag or value); 65 bad input data (a malformed model, \
            data, tokenizer or config file); 70 internal error (a bug); 74 I/O (a missing file, no \
            permission, a full disk); 75 the collective watchdog or the MPI transport failed (requeue and \
            resume with --resume auto). Under mpirun the job ends with the failing rank's status.
            """,
        subcommands: [Train.self, Eval.self, Experiment.self, Generate.self, Inspect.self, MakeModel.self, Score.self, Tokenize.self, Export.self, Bench.self, Doctor.self, BenchSVD.self])

    /// ArgumentParser's entry point (after OpenBLAS's idle-thread timeout is set: BLASThreadTimeout), except that
    /// an error a subcommand lets escape (most go through `runReportingErrors`) gets its category's exit status
    /// instead of 1.
    static func main() {
        BLASThreadTimeout.applyBeforeStart()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)      // help, version and usage errors: ArgumentParser's text and status
        }
        do {
            try command.run()
        } catch {
            guard error is CategorizedError || ErrorReport.category(of: error) != .internal,
                  !(error is ValidationError) else {
                exit(withError: error)
            }
            FileHandle.standardError.write(Data("secura-dist: error: \(ErrorReport.message(for: error))\n".utf8))
            Foundation.exit(ErrorReport.exitCode(for: error))
        }
    }
}
