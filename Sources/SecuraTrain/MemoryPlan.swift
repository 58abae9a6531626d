// The memory a training run will need on one node, by part, computed before anything large is loaded
// (no weights dequantised, no masters allocated, no SVD), and the check that refuses a run that cannot
// fit. Parts are either node-wide (memory-mapped model files, node-shared dequantised GGUF tensors and
// SECURA-M1 merge masters: once per node whatever the rank count) or per rank (activations, the flat
// trainable buffers with gradients, AdamW moments and the Double accumulator, adapter constants and
// scratch, method extras, runtime). Mapped file pages can be evicted and re-read by the kernel, so they
// count towards the node's total but do not by themselves make a run refuse: the run would page, not die.
// Everything else is anonymous memory that the out-of-memory killer would reclaim by killing a rank.
import Foundation
import SecuraAdapters
import SecuraModel

/// The per-node memory estimate of a training run.
public struct MemoryPlan: Sendable, Equatable {
    /// Whether a part exists once per node or once per rank.
    public enum Scope: String, Sendable { case node, rank }

    /// One line of the plan.
    public struct Part: Sendable, Equatable {
        public var name: String
        /// Bytes of ONE copy (per node or per rank, as `scope` says).
        public var bytes: Int
        public var scope: Scope
        /// Memory-mapped file pages (evictable) rather than anonymous memory.
        public var fileBacked: Bool
        /// The flag that shrinks this part, if any.
        public var hint: String?
        /// Used only while the adapters are initialised and freed before the first step's activations exist:
        /// it competes with the activations for the same memory instead of adding to them.
        public var duringInitialisation: Bool
        /// The activations part (allocated at the first step).
        public var isActivations: Bool
        /// Used only after the run, at a task sequence's switch, when the run's activations are freed: it
        /// competes with them like an initialisation workspace.
        public var duringTaskSwitch: Bool

        public init(name: String, bytes: Int, scope: Scope, fileBacked: Bool = false, hint: String? = nil,
                    duringInitialisation: Bool = false, isActivations: Bool = false, duringTaskSwitch: Bool = false) {
            self.name = name
            self.bytes = bytes
            self.scope = scope
            self.fileBacked = fileBacked
            self.hint = hint
            self.duringInitialisation = duringInitialisation
            self.isActivations = isActivations
            self.duringTaskSwitch = duringTaskSwitch
        }

        /// Counted only in its own phase (initialisation, training's activations, the task switch).
        var isPhase: Bool { duringInitialisation || isActivations || duringTaskSwitch }

        /// Bytes on the node for `ranks` ranks.
        public func nodeBytes(ranks: Int) -> Int { scope == .node ? bytes : bytes * ranks }
    }

    public var parts: [Part]
    /// Ranks on this node.
    public var ranksPerNode: Int

    public init(parts: [Part], ranksPerNode: Int) {
        self.parts = parts
        self.ranksPerNode = ranksPerNode
    }

    /// Anonymous memory the node needs (what the out-of-memory killer counts).
    /// The largest of the phases: initialisation (its workspaces), training (its activations) and, in a task
    /// sequence, the switch after the run (the merge into fused weights).
    public var anonymousBytes: Int {
        func sum(_ keep: (Part) -> Bool) -> Int { parts.filter { !$0.fileBacked && keep($0) }.reduce(0) { $0 + $1.nodeBytes(ranks: ranksPerNode) } }
        let common = sum { !$0.isPhase }
        return common + max(sum(\.duringInitialisation), sum(\.isActivations), sum(\.duringTaskSwitch))
    }
    /// Memory-mapped model file pages the node reads (resident when memory allows).
    public var fileBytes: Int { parts.filter(\.fileBacked).reduce(0) { $0 + $1.nodeBytes(ranks: ranksPerNode) } }
    /// Everything: what the node's proportional set sum reaches when the mapped pages stay resident.
    public var totalBytes: Int { anonymousBytes + fileBytes }

    /// The part that costs the node the most anonymous memory.
    public var largestAnonymousPart: Part? {
        parts.filter { !$0.fileBacked }.max { $0.nodeBytes(ranks: ranksPerNode) < $1.nodeBytes(ranks: ranksPerNode) }
    }

    /// What the check concluded.
    public enum Verdict: Sendable, Equatable {
        /// Everything, mapped model pages included, fits.
        case fits
        /// Anonymous memory fits but the mapped model pages do not all stay resident: the run pages
        /// model weights from disk (slow, not fatal).
        case pages(shortBytes: Int)
        /// Anonymous memory alone exceeds what is available.
        case doesNotFit(shortBytes: Int)
    }

    /// Compares the plan with `availableBytes` (the node's available memory).
    public func verdict(availableBytes: Int) -> Verdict {
        if anonymousBytes > availableBytes { return .doesNotFit(shortBytes: anonymousBytes - availableBytes) }
        if totalBytes > availableBytes { return .pages(shortBytes: totalBytes - availableBytes) }
        return .fits
    }

    /// The human-readable table, one line per part, then the totals against `availableBytes`.
    public func table(availableBytes: Int?, availableSource: String) -> [String] {
        var lines = ["memory plan per node (\(ranksPerNode) rank(s) on this node; estimates):"]
        for p in parts where p.bytes > 0 {
            let each = p.scope == .rank && ranksPerNode > 1 ? " (\(Self.format(p.bytes)) per rank)" : ""
            lines.append("  " + Self.format(p.nodeBytes(ranks: ranksPerNode)).leftPadded(to: 10) + "  " + p.name + each
                         + (p.fileBacked ? " [mapped file pages]" : "")
                         + (p.duringInitialisation ? " [initialisation only: the larger of this and the activations counts]" : "")
                         + (p.duringTaskSwitch ? " [after the run only: the larger of this and the activations counts]" : ""))
        }
        lines.append("  " + Self.format(totalBytes).leftPadded(to: 10) + "  needed (" + Self.format(anonymousBytes)
                     + " anonymous + " + Self.format(fileBytes) + " mapped)")
        if let availableBytes {
            lines.append("  " + Self.format(availableBytes).leftPadded(to: 10) + "  available on this node (\(availableSource))")
        }
        return lines
    }

    /// "1.23 GiB" / "456 MiB".
    public static func format(_ bytes: Int) -> String {
        let gib = Double(bytes) / 1_073_741_824
        return gib >= 1 ? String(format: "%.2f GiB", gib) : String(format: "%.0f MiB", Double(bytes) / 1_048_576)
    }
}

/// The reason a run was refused before loading.
public struct MemoryPlanError: Error, CustomStringConvertible {
    public let plan: MemoryPlan
    public let availableBytes: Int
    public let availableSource: String

    public init(plan: MemoryPlan, availableBytes: Int, availableSource: String) {
        self.plan = plan
        self.availableBytes = availableBytes
        self.availableSource = availableSource
    }

    public var description: String {
        let largest = plan.largestAnonymousPart
        let runnerUp = plan.parts.filter { !$0.fileBacked && $0.name != largest?.name }
            .max { $0.nodeBytes(ranks: plan.ranksPerNode) < $1.nodeBytes(ranks: plan.ranksPerNode) }
        var hints = [String]()
        if let h = largest?.hint { hints.append(h) }
        for p in plan.parts.sorted(by: { $0.nodeBytes(ranks: plan.ranksPerNode) > $1.nodeBytes(ranks: plan.ranksPerNode) })
            where !p.fileBacked { if let h = p.hint, !hints.contains(h) { hints.append(h) } }
        if plan.ranksPerNode > 1 && !hints.contains(where: { $0.contains("ranks") }) {
            hints.append("fewer ranks per node (per-rank parts are paid \(plan.ranksPerNode) times)")
        }
        return "the run does not fit in this node's memory: it needs " + MemoryPlan.format(plan.anonymousBytes)
            + " of anonymous memory (plus " + MemoryPlan.format(plan.fileBytes) + " of mapped model pages), "
            + MemoryPlan.format(availableBytes) + " are available (\(availableSource)); the largest part is "
            + (largest.map { "\($0.name): " + MemoryPlan.format($0.nodeBytes(ranks: plan.ranksPerNode)) } ?? "none")
            + (runnerUp.map { " (then \($0.name): " + MemoryPlan.format($0.nodeBytes(ranks: plan.ranksPerNode)) + ")" } ?? "")
            + (hints.isEmpty ? "" : "; try " + hints.joined(separator: ", or "))
            + " (--memory-limit sets what counts as available, --skip-memory-check runs anyway)"
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
