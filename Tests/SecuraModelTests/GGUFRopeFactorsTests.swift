// Recovering RoPE scaling from `rope_freqs.weight`: the factors llama.cpp's converter writes for
// Llama 3.1 / 3.2 give back exactly their llama3 parameters; uniform factors are linear scaling;
// anything else is rejected with a message naming the file and tensor.

import SecuraKernels
import TestSupport
import XCTest
@testable import SecuraModel

final class GGUFRopeFactorsTests: XCTestCase {
    /// The converter's divisors (f32-rounded, as stored): base / scaled frequency.
    func factors(headDim: Int, theta: Double, _ scaling: RoPEScaling) -> [Double] {
        let base = RoPE.inverseFrequencies(headDim: headDim, theta: theta, scaling: .none)
        let scaled = RoPE.inverseFrequencies(headDim: headDim, theta: theta, scaling: scaling)
        return zip(base, scaled).map { Double(Float($0 / $1)) }
    }

    func fit(_ f: [Double], headDim: Int, theta: Double) throws -> RopeParameters? {
        try GGUFRopeFactors.scaling(factors: f, theta: theta, headDim: headDim, path: "m.gguf")
    }

    func testLlama31ParametersAreRecovered() throws {
        for (factor, headDim) in [(8.0, 128), (32.0, 64)] {  // Llama 3.1 8B, Llama 3.2 1B
            let scaling = RoPEScaling.llama3(factor: factor, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)
            let p = try XCTUnwrap(try fit(factors(headDim: headDim, theta: 500_000, scaling), headDim: headDim, theta: 500_000))
            XCTAssertEqual(p.kind, "llama3")
            XCTAssertEqual(p.factor!, factor, accuracy: 1e-4)
            XCTAssertEqual(p.low_freq_factor, 1)
            XCTAssertEqual(p.high_freq_factor!, 4, accuracy: 1e-4)
            XCTAssertEqual(p.original_max_position_embeddings!, 8192, accuracy: 0.1)
        }
    }

    func testFewSmoothedFrequenciesStillReproduceTheFrequencies() throws {
        // head_dim 16, theta 1e4: wavelengths 6.3, 20, 63, 199, 628, 1987, 6283, 19869. The smoothed band
        // (orig/high, orig/low) holds 0, 1, 1 and 2 of them; with fewer than two the band edges are not
        // unique, but the frequencies must be.
        for (orig, low, high) in [(512.0, 1.0, 1.05), (512, 1, 4), (1000, 1, 2), (4096, 1, 16)] {
            let scaling = RoPEScaling.llama3(factor: 8, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: orig)
            let want = RoPE.inverseFrequencies(headDim: 16, theta: 10_000, scaling: scaling)
            let p = try XCTUnwrap(try fit(factors(headDim: 16, theta: 10_000, scaling), headDim: 16, theta: 10_000))
            let got = RoPE.inverseFrequencies(headDim: 16, theta: 10_000, scaling: try DecoderConfig.scaling(p, path: "m"))
            assertAllClose(got.map(Float.init), want.map(Float.init), atol: 0, rtol: 1e-5, "orig \(orig) low \(low) high \(high)")
        }
    }

    func testUniformAndUnitFactors() throws {
        XCTAssertNil(try fit([Double](repeating: 1, count: 8), headDim: 16, theta: 10_000))
        let linear = try XCTUnwrap(try fit([Double](repeating: 4, count: 8), headDim: 16, theta: 10_000))
        XCTAssertEqual(linear.kind, "linear")
        XCTAssertEqual(linear.factor, 4)
    }

    func testOtherFactorsAreRejected() {
        for bad in [[1, 2, 1, 2, 1, 2, 1, 2], [1, 1, 1, 1, 3, 8, 2, 8], [1, 1, 1, 1, 2, 3, 2.5, 8], [0.5, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1]] as [[Double]] {
            XCTAssertThrowsError(try fit(bad, headDim: 16, theta: 10_000)) { error in
                XCTAssertTrue("\(error)".contains("m.gguf"), "\(error)")
                XCTAssertTrue("\(error)".contains("rope_freqs.weight"), "\(error)")
            }
        }
    }
}
