// The memory plan: part sizes at Llama-3-8B's real shapes, where they can be computed by hand, the
// verdicts, and the refusal's message (largest part, available memory, hint); a task sequence's EWC state,
// replay buffer and fused weights.
import XCTest
import SecuraAdapters
import SecuraModel
import SecuraTensor
@testable import SecuraTrain

final class MemoryPlanTests: XCTestCase {
    /// Llama-3-8B's config.json values (the shape catalogue's).
    func llama3_8B() throws -> DecoderConfig { try ModelShape.llama3_8b.decoderConfig() }

    func inputs(_ method: AdapterMethod, ranks: Int = 2, recompute: Bool = false) throws -> MemoryPlanInputs {
        var s = MethodSettings()
        s.method = method
        return MemoryPlanInputs(config: try llama3_8B(), settings: s, mappedFileBytes: 16_060_522_496,
                                dequantisedElements: 0, ranksPerNode: ranks, microBatch: 1, maxLength: 256,
                                recompute: recompute, trainingActivationBytes: (3_000_000_000, 500_000_000))
    }

    func part(_ plan: MemoryPlan, _ prefix: String, file: StaticString = #filePath, line: UInt = #line) throws -> MemoryPlan.Part {
        try XCTUnwrap(plan.parts.first { $0.name.hasPrefix(prefix) }, "no part named \(prefix)…", file: file, line: line)
    }

    func testSECURAM1PartsAtLlama3_8BShapes() throws {
        let plan = MemoryPlan(try inputs(.securaM1))
        // 32 layers × (q 4096×4096 + v 1024×4096) fp32, once per node.
        let masters = try part(plan, "SECURA-M1 fp32 merge masters")
        XCTAssertEqual(masters.bytes, 32 * (4096 * 4096 + 1024 * 4096) * 4)
        XCTAssertEqual(masters.scope, .node)
        XCTAssertEqual(masters.nodeBytes(ranks: 2), masters.bytes)
        // 120,000 trainable per layer; values, gradients, m, v in fp32 and the Double accumulator.
        let trainable = try part(plan, "trainable values")
        XCTAssertEqual(trainable.bytes, 32 * 120_000 * 24)
        XCTAssertEqual(trainable.nodeBytes(ranks: 2), 2 * trainable.bytes)
        // C [h, 150] and R [150, 4096] per site.
        let constants = try part(plan, "adapter constants")
        XCTAssertEqual(constants.bytes, 32 * ((4096 * 150 + 150 * 4096) + (1024 * 150 + 150 * 4096)) * 4)
        let activations = try part(plan, "activations")
        XCTAssertEqual(activations.bytes, 3_000_000_000)
        XCTAssertEqual(activations.hint, "--recompute")
        let mapped = try part(plan, "model weights")
        XCTAssertTrue(mapped.fileBacked)
        XCTAssertEqual(plan.fileBytes, 16_060_522_496)
        // The SVD workspace (freed before the first step) is smaller than the activations here: not added.
        let svd = try part(plan, "SVD workspace")
        XCTAssertEqual(svd.bytes, 8 * (4096 * 4096 * 3 + 4 * 4096 * 4096 + 7 * 4096))
        XCTAssertTrue(svd.duringInitialisation)
        XCTAssertEqual(plan.totalBytes, plan.parts.filter { !$0.duringInitialisation }.reduce(0) { $0 + $1.nodeBytes(ranks: 2) })
        XCTAssertEqual(plan.largestAnonymousPart?.name, activations.name)
    }

    func testRecomputeAndMethodExtras() throws {
        let recomputed = MemoryPlan(try inputs(.securaM1, recompute: true))
        XCTAssertEqual(try part(recomputed, "activations").bytes, 500_000_000)
        let lora = MemoryPlan(try inputs(.lora))
        XCTAssertNil(lora.parts.first { $0.name.hasPrefix("SECURA-M1") }, "LoRA has no merge masters")
        XCTAssertNil(lora.parts.first { $0.name.hasPrefix("adapter constants") })
        let iLoRA = MemoryPlan(try inputs(.iLoRA))
        let trainable = 32 * (8 * 4096 + 4096 * 8 + 8 * 4096 + 1024 * 8)
        XCTAssertEqual(try part(iLoRA, "I-LoRA EMA copy").bytes, trainable * 4)
        let m2 = MemoryPlan(try inputs(.securaM2))
        XCTAssertEqual(try part(m2, "adapter constants").bytes,
                       32 * ((4096 * 150 + 150 * 4096) + (1024 * 150 + 150 * 4096) + 2 * (2 * 150 * 200)) * 4)
    }

    func testInitialisationWorkspaceCountsWhenLargerThanTheActivations() throws {
        var x = try inputs(.securaM1)
        x.trainingActivationBytes = (100, 50)
        let plan = MemoryPlan(x)
        let svd = try part(plan, "SVD workspace")
        let steady = plan.parts.filter { !$0.fileBacked && !$0.duringInitialisation && !$0.isActivations }
            .reduce(0) { $0 + $1.nodeBytes(ranks: 2) }
        XCTAssertEqual(plan.anonymousBytes, steady + 2 * svd.bytes)
        var slice = x
        slice.settings.cabrInit = .slice
        XCTAssertNil(MemoryPlan(slice).parts.first { $0.name.hasPrefix("SVD") }, "no SVD, no workspace")
    }

    func testVerdicts() throws {
        let plan = MemoryPlan(try inputs(.securaM1))
        XCTAssertEqual(plan.verdict(availableBytes: plan.totalBytes), .fits)
        XCTAssertEqual(plan.verdict(availableBytes: plan.anonymousBytes), .pages(shortBytes: plan.fileBytes))
        XCTAssertEqual(plan.verdict(availableBytes: plan.anonymousBytes - 1), .doesNotFit(shortBytes: 1))
    }

    func testRefusalNamesTheLargestPartTheAvailableMemoryAndAHint() throws {
        let plan = MemoryPlan(try inputs(.full, ranks: 1))
        let error = MemoryPlanError(plan: plan, availableBytes: 24 << 30, availableSource: "--memory-limit")
        let text = error.description
        XCTAssertTrue(text.contains("does not fit"), text)
        XCTAssertTrue(text.contains("24.00 GiB are available (--memory-limit)"), text)
        XCTAssertTrue(text.contains("the largest part is trainable values"), text)
        XCTAssertTrue(text.contains("a parameter-efficient --method instead of full"), text)
        // Full fine-tuning of an 8B model needs over 150 GiB for its fp32 buffers alone.
        XCTAssertGreaterThan(plan.anonymousBytes, 150 << 30)
        XCTAssertEqual(plan.verdict(availableBytes: 24 << 30), .doesNotFit(shortBytes: plan.anonymousBytes - (24 << 30)))
    }

    func testTableListsEveryPartAndTheTotals() throws {
        let plan = MemoryPlan(try inputs(.securaM1))
        let lines = plan.table(availableBytes: 20 << 30, availableSource: "test")
        XCTAssertTrue(lines[0].contains("2 rank(s)"))
        for p in plan.parts where p.bytes > 0 { XCTAssertTrue(lines.contains { $0.contains(p.name) }, p.name) }
        XCTAssertTrue(lines.contains { $0.contains("needed") && $0.contains(MemoryPlan.format(plan.totalBytes)) })
        XCTAssertTrue(lines.last!.contains("20.00 GiB  available on this node (test)"), lines.last!)
    }

    /// Trainable values of `method` on Llama-3-8B with the default targets (the layout the run allocates).
    func trainableCount(_ method: AdapterMethod) throws -> Int {
        var s = MethodSettings()
        s.method = method
        var layout = ParameterLayout()
        _ = MethodPlanner.plan(try llama3_8B(), s, layout: &layout)
        return layout.count
    }

    func testEWCOnFullFineTuningOfAn8BModelIsRefusedNamingTheEWCPart() throws {
        var x = try inputs(.full, ranks: 1)
        let plain = MemoryPlan(x)
        // A later task of a sequence: the earlier tasks' penalty, then this task's estimate at its end.
        x.sequence.ewcHasPenalty = true
        let ewcPlan = MemoryPlan(x)
        let ewc = try part(ewcPlan, "EWC")
        let n = try trainableCount(.full)
        XCTAssertGreaterThan(n, 1_000_000_000)
        // Fisher + anchor (fp32) held, plus fisherDiagonal's Double sum and the Float estimate it returns.
        XCTAssertEqual(ewc.bytes, n * (2 * 4 + 8 + 4))
        XCTAssertEqual(ewc.scope, .rank)
        XCTAssertEqual(ewcPlan.anonymousBytes, plain.anonymousBytes + ewc.bytes)
        // The first task has no penalty yet: only its estimate.
        x.sequence.ewcHasPenalty = false
        XCTAssertEqual(try part(MemoryPlan(x), "EWC").bytes, n * (8 + 4))

        // Memory that holds the plain run is refused with EWC, and the refusal names EWC's part and its hint.
        let available = plain.anonymousBytes + (1 << 30)
        if case .doesNotFit = plain.verdict(availableBytes: available) { XCTFail("the plain run should fit") }
        guard case .doesNotFit = ewcPlan.verdict(availableBytes: available) else { return XCTFail("EWC should not fit") }
        let text = MemoryPlanError(plan: ewcPlan, availableBytes: available, availableSource: "--memory-limit").description
        XCTAssertTrue(text.contains("the largest part is trainable values"), text)
        XCTAssertTrue(text.contains("(then EWC: earlier tasks' Fisher and anchor"), text)
        XCTAssertTrue(text.contains("or no EWC, or EWC on fewer trainable values"), text)
    }

    func testTheFusedOverlayAppearsForASequencesLaterTask() throws {
        let matrices = 32 * (4096 * 4096 + 1024 * 4096)   // q and v of 32 layers
        var x = try inputs(.lora)
        XCTAssertNil(MemoryPlan(x).parts.first { $0.name.hasPrefix("fused weights") || $0.name.hasPrefix("merge at") }, "a plain run fuses nothing")
        // First task of a fused sequence: no overlay while training, the merge after it.
        x.sequence.fusesAfterRun = true
        let first = MemoryPlan(x)
        XCTAssertNil(first.parts.first { $0.name.hasPrefix("fused weights") })
        let merge = try part(first, "merge at the task's end")
        XCTAssertTrue(merge.duringTaskSwitch)
        let loraValues = try trainableCount(.lora)
        XCTAssertEqual(merge.bytes, (matrices + loraValues * 2 + 2 * 4096 * 4096) * 4)
        // A later task trains on the fused weights: an fp32 copy of every adapted matrix on every rank.
        x.sequence.trainsOnFusedWeights = true
        let later = MemoryPlan(x)
        let overlay = try part(later, "fused weights of the earlier tasks")
        XCTAssertEqual(overlay.bytes, matrices * 4)
        XCTAssertEqual(overlay.scope, .rank)
        XCTAssertEqual(overlay.nodeBytes(ranks: 2), 2 * overlay.bytes)
        XCTAssertTrue(overlay.hint?.contains("--no-fuse-at-task-end") == true)
        // The merge competes with the activations (freed by then): the larger of the two counts.
        let steady = later.parts.filter { !$0.fileBacked && !$0.isPhase }.reduce(0) { $0 + $1.nodeBytes(ranks: 2) }
        let activations = try part(later, "activations")
        XCTAssertEqual(later.anonymousBytes, steady + 2 * max(activations.bytes, merge.bytes))
        XCTAssertTrue(later.table(availableBytes: nil, availableSource: "").contains { $0.contains("fused weights") && $0.contains("per rank") })
    }

    func testReplayBufferPart() throws {
        var x = try inputs(.lora)
        x.sequence.replaySize = 1000
        // Two copies (the batches' mix and the buffer extended at the task's end), a token id and a mask byte per token.
        XCTAssertEqual(try part(MemoryPlan(x), "replay buffer").bytes, 2 * 1000 * 256 * (4 + 1))
    }
}
