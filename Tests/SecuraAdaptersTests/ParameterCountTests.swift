// Trainable parameter counts per layer from real shapes (Llama-3-8B), as the papers report them.
import XCTest
import SecuraModel
import SecuraTensor
@testable import SecuraAdapters

final class ParameterCountTests: XCTestCase {
    /// Llama-3-8B's shapes: width 4096, 32 heads, 8 KV heads (q_proj 4096×4096, v_proj 1024×4096).
    func llama3_8B() throws -> DecoderConfig { try ModelShape.llama3_8b.decoderConfig() }

    func perLayer(_ method: AdapterMethod, _ configure: (inout MethodSettings) -> Void = { _ in }) throws -> [Int] {
        var s = MethodSettings()
        s.method = method
        configure(&s)
        var layout = ParameterLayout()
        let config = try llama3_8B()
        return MethodPlanner.trainablePerLayer(MethodPlanner.plan(config, s, layout: &layout), layers: config.layers)
    }

    func testSecuraHas120000PerLayerOnQAndV() throws {
        // A (150×200) + B (200×150) on each of q_proj and v_proj.
        XCTAssertEqual(try perLayer(.securaM1), Array(repeating: 120_000, count: 32))
        XCTAssertEqual(try perLayer(.cabrLoRA), Array(repeating: 120_000, count: 32))
    }

    func testLoRARank8Has106496PerLayerWithRealShapes() throws {
        // q: 8·(4096 + 4096) = 65,536; v: 8·(4096 + 1024) = 40,960. (The paper's table assumed 4096×4096 for both: 131,072.)
        XCTAssertEqual(try perLayer(.lora), Array(repeating: 106_496, count: 32))
    }

    func testOtherMethods() throws {
        XCTAssertEqual(try perLayer(.dora)[0], 106_496 + 4096 + 1024)
        XCTAssertEqual(try perLayer(.curLoRA)[0], 2 * 150 * 150)
        XCTAssertEqual(try perLayer(.full)[0], 4096 * 4096 * 2 + 1024 * 4096 * 2 + 3 * 4096 * 14336)
    }

    func testIMSMGateFollowsTheSitesInTheLayout() throws {
        // Full mode: W_A (8×4·4096) + W_B (4096×8) = 5·4096·8 = 163,840; no-query 3·4096·8; no-gate nothing.
        let config = try llama3_8B()
        for (mode, gate) in [(IMSMMode.full, 163_840), (.noQuery, 98_304), (.noGate, 0)] {
            var s = MethodSettings()
            s.method = .lora
            var plain = ParameterLayout()
            let plans = MethodPlanner.plan(config, s, layout: &plain)
            var imsm = IMSMSettings()
            imsm.mode = mode
            s.imsm = imsm
            var layout = ParameterLayout()
            XCTAssertEqual(MethodPlanner.plan(config, s, layout: &layout), plans, "the sites do not change")
            XCTAssertEqual(layout.count, plain.count + gate)
            XCTAssertEqual(plain.count, 32 * 106_496)
            XCTAssertEqual(imsm.parameterCount(width: 4096), gate)
            XCTAssertEqual(Array(layout.entries.prefix(plain.entries.count)), plain.entries, "site offsets unchanged")
        }
    }

    func testRanksAreClampedToTheLayerShape() throws {
        var raw = ModelConfig()
        raw.model_type = "llama"; raw.hidden_size = 64; raw.intermediate_size = 96; raw.num_hidden_layers = 1
        raw.num_attention_heads = 4; raw.num_key_value_heads = 1; raw.vocab_size = 10
        let config = try DecoderConfig(raw, path: "tiny")
        var layout = ParameterLayout()
        let plans = MethodPlanner.plan(config, MethodSettings(), layout: &layout)   // secura-m1, r 150, m 200
        XCTAssertEqual(plans.map(\.rank), [64, 16])      // q: 64×64, v: 16×64
        XCTAssertEqual(plans.map(\.innerRank), [64, 64])
    }
}
