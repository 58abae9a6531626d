// The activation-memory estimate against what the allocations really hold: every FloatBuffer (and
// the RoPE tables) reachable from the activations and the backward scratch, found by reflection, each
// shared buffer once.
import XCTest
import TestSupport
@testable import SecuraModel

final class ActivationMemoryTests: XCTestCase {
    /// Bytes of the distinct FloatBuffers and [Float] arrays reachable from `roots` through stored
    /// properties, arrays and optionals (lazy properties count once they are allocated).
    func reachableBytes(_ roots: [Any]) -> Int {
        var seen = Set<ObjectIdentifier>()
        var floats = 0
        func visit(_ value: Any) {
            if let buffer = value as? FloatBuffer {
                if seen.insert(ObjectIdentifier(buffer)).inserted { floats += buffer.count }
                return
            }
            if let array = value as? [Float] { floats += array.count; return }
            if let object = value as? AnyObject, Mirror(reflecting: value).displayStyle == .class {
                guard seen.insert(ObjectIdentifier(object)).inserted else { return }
            }
            for child in Mirror(reflecting: value).children { visit(child.value) }
        }
        roots.forEach(visit)
        return 4 * floats
    }

    func testEstimateEqualsTheAllocations() throws {
        for (type, tied) in [("llama", false), ("qwen2", true)] {
            let c = try DecoderGradientTests.tinyConfig(type, tied: tied)
            for (batch, length) in [(1, 5), (3, 7)] {
                for recompute in [false, true] {
                    for mixer in [false, true] {
                        let acts = DecoderActivations(config: c, batch: batch, length: length,
                                                      mode: recompute ? .recompute : .stored)
                        if mixer { _ = acts.mixedHidden }
                        _ = acts.backwardScratch(mixer: mixer)     // held by the activations once made
                        let actual = reachableBytes([acts])
                        let estimate = DecoderActivations.estimatedBytes(config: c, batch: batch, length: length,
                                                                         recompute: recompute, mixer: mixer)
                        XCTAssertEqual(estimate, actual, "\(type) \(batch)×\(length) recompute \(recompute) mixer \(mixer)")
                        XCTAssertGreaterThan(actual, 0)
                    }
                }
            }
            // Forward-only activations without logits (IMSM's frozen branch).
            let frozen = DecoderActivations(config: c, batch: 2, length: 6, mode: .forwardOnly, logits: false)
            XCTAssertEqual(DecoderActivations.allocatedBytes(config: c, batch: 2, length: 6, mode: .forwardOnly, logits: false),
                           reachableBytes([frozen]), "\(type) forward-only")
        }
    }

    func testRecomputeKeepsOneLayerOfValues() throws {
        let c = try ModelShape.llama3_8b.decoderConfig()
        let stored = DecoderActivations.estimatedBytes(config: c, batch: 1, length: 256, recompute: false)
        let recomputed = DecoderActivations.estimatedBytes(config: c, batch: 1, length: 256, recompute: true)
        // Per layer at T = 256: ln1, q, attn, mid, ln2 [N, C]; k, v [N, 1024]; gate, up, act [N, F]; 2 rstd [N]; probs [H, T, T].
        let n = 256
        let layer = 4 * (5 * n * 4096 + 2 * n * 1024 + 3 * n * 14336 + 2 * n + 32 * n * n)
        XCTAssertEqual(stored - recomputed, 31 * layer, "recomputation saves all but one layer's values")
        XCTAssertLessThan(recomputed, stored / 4)
    }
}
