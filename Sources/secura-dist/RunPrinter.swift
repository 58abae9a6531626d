// The lines people read during a run: `RunEvent`s from the library turned into text on rank 0 (the
// progress line with throughput and ETA, the validation losses, the end-of-run timing, memory and done
// lines). Programs read OUTPUT/summary.json and metrics.jsonl instead.
import Foundation
import SecuraDistributed
import SecuraLinAlg
import SecuraMPI
import SecuraRun
import SecuraTrain

struct RunPrinter {
    let say: RootPrinter

    init(comm: Communicator) { say = RootPrinter(comm: comm) }

    func callAsFunction(_ event: RunEvent) {
        switch event {
        case let .note(line):
            say(line)
        case let .initialValidation(loss):
            say(String(format: "step 0  val_loss %.4f", loss))
        case let .step(e):
            if e.isLogStep { say(Self.progressLine(e)) }
        case .checkpoint:
            break
        case let .finished(s):
            finished(s)
        }
    }

    static func progressLine(_ e: StepEvent) -> String {
        let r = e.report
        var s = "step \(r.step)/\(e.totalSteps)  " + String(format: "loss %.4f  lr %.2e  %.0f tok/s", r.loss, r.lr, e.tokensPerSecond)
            + "  ETA " + durationText(e.etaSeconds)
        if let v = e.validationLoss { s += String(format: "  val_loss %.4f", v) }
        if r.skipped { s += "  (skipped: NaN/Inf gradients)" }
        return s
    }

    func finished(_ s: TrainSummary) {
        if s.seconds_in_steps > 0 {
            say("time in steps: " + String(format: "%.1f s (%.2f s/step); all-reduce %.1f%%, merges %.1f%%; init %.2f s",
                                           s.seconds_in_steps, s.seconds_per_step, 100 * s.allreduce_share, 100 * s.merge_share,
                                           s.init_seconds))
        }
        let mib = { (values: [Double]) in values.map { String(format: "%.0f", $0) }.joined(separator: ", ") }
        say("memory per rank (MiB): peak resident " + mib(s.peak_rss_mib)
            + "; proportional set now " + mib(s.pss_end_mib) + String(format: " (sum %.0f)", s.pss_end_mib.reduce(0, +))
            + "; sampled peak " + mib(s.pss_peak_mib) + String(format: " (sum %.0f)", s.pss_peak_sum_mib))
        if let m = s.weight_movement {
            say("weight movement ‖W_after − W_before‖/‖W_before‖: " + m.mean_by_projection.keys.sorted().map { p in
                String(format: "%@ mean %.2e max %.2e", p, m.mean_by_projection[p]!, m.max_by_projection[p] ?? 0)
            }.joined(separator: "; ") + (m.note.map { " (\($0))" } ?? ""))
        }
        say("done: \(s.final_step) steps in " + String(format: "%.1f s", s.wall_seconds)
            + (s.skipped_steps > 0 ? " (\(s.skipped_steps) skipped for NaN/Inf)" : "")
            + "; final state in \(s.adapter_folder)")
    }
}

/// The SVD solvers of this executable: ScaLAPACK over the ranks (LAPACK on one process) and LAPACK dgesdd
/// for matrices dealt to ranks.
func svdSolvers(_ comm: Communicator) -> SVDSolvers {
    let collective = ScaLAPACKSVD(communicator: comm)
    let local = LAPACKSVD(driver: .dgesdd)
    return SVDSolvers(collective: collective, collectiveName: collective.method, local: local, localName: "LAPACK \(LAPACKSVD.Driver.dgesdd.rawValue)")
}
