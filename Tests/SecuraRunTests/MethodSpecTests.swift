// Method specs of the experiments ("lora@lr=1e-2,secura-m1@lr=1e-5,merge-precision=bf16") and the bootstrap
// interval of the experiment tables.
import Foundation
import SecuraAdapters
@testable import SecuraRun
import XCTest

final class MethodSpecTests: XCTestCase {
    func testListWithPerMethodSettings() throws {
        let specs = try MethodSpec.list("lora@lr=1e-2, secura-m1@lr=1e-5,merge-precision=bf16,cur-lora,lora+imsm:no-gate@rank=4")
        XCTAssertEqual(specs.map(\.name), ["lora@lr=1e-2", "secura-m1@lr=1e-5,merge-precision=bf16", "cur-lora", "lora+imsm:no-gate@rank=4"])
        XCTAssertEqual(specs.map(\.slug), ["lora", "secura-m1-merge-precision-bf16", "cur-lora", "lora-imsm-no-gate-rank-4"])
        var c = TrainConfiguration(model: "m", data: DataSettings(path: "d"), output: OutputSettings(folder: "o"))
        c.optimizer.lr = 3e-4
        try specs[1].apply(to: &c)
        XCTAssertEqual(c.method.method, .securaM1)
        XCTAssertEqual(c.optimizer.lr, 1e-5)
        XCTAssertEqual(c.method.mergePrecision, .bf16)
        var d = TrainConfiguration(model: "m", data: DataSettings(path: "d"), output: OutputSettings(folder: "o"))
        try specs[3].apply(to: &d)
        XCTAssertEqual(d.method.imsm?.mode, .noGate)
        XCTAssertEqual(d.method.rank, 4)
        XCTAssertEqual(d.optimizer.lr, OptimizerSettings().lr, "a method without lr keeps the common one")
    }

    /// The IMSM gate's settings per method; they need +imsm, and the run's summary records them.
    func testIMSMGateSettings() throws {
        let specs = try MethodSpec.list("lora+imsm@imsm-gate=authors,imsm-dropout=0.2,imsm-rank=4,imsm-lr=5e-4")
        var c = TrainConfiguration(model: "m", data: DataSettings(path: "d"), output: OutputSettings(folder: "o"))
        try specs[0].apply(to: &c)
        XCTAssertEqual(c.method.imsm?.gate, .authors)
        XCTAssertEqual(c.method.imsm?.dropout, 0.2)
        XCTAssertEqual(c.method.imsm?.rank, 4)
        XCTAssertEqual(c.method.imsm?.lr, 5e-4)
        XCTAssertEqual(specs[0].slug, "lora-imsm-imsm-gate-authors-imsm-dropout-0.2-imsm-rank-4-imsm-lr-5e-4")
        XCTAssertTrue(try JSONText.line(c).contains(#""gate":"authors""#), "summary.json's configuration holds the gate")
        for (text, needle) in [("lora@imsm-gate=authors", "needs IMSM"), ("lora+imsm@imsm-gate=sideways", "not a valid value")] {
            XCTAssertThrowsError(try MethodSpec.list(text), text) { error in
                XCTAssertTrue("\(error)".contains(needle), "\(text): \(error)")
            }
        }
    }

    /// The fidelity settings per method (the authors' configuration, the scale-free CABR), and every listed
    /// key is one `set` understands.
    func testFidelitySettingsAndEveryListedKeyIsAccepted() throws {
        let specs = try MethodSpec.list("secura-m1@lr=1e-3,smagnorm=output,merge-precision=bf16,delta-bias=true,smagnorm-eps=1e-8,secura-m2@cabr-scale=unit")
        var c = TrainConfiguration(model: "m", data: DataSettings(path: "d"), output: OutputSettings(folder: "o"))
        try specs[0].apply(to: &c)
        XCTAssertEqual(c.method.smagnorm, .output)
        XCTAssertEqual(c.method.mergePrecision, .bf16)
        XCTAssertTrue(c.method.deltaBias)
        XCTAssertEqual(c.method.smagnormEps, 1e-8)
        var d = TrainConfiguration(model: "m", data: DataSettings(path: "d"), output: OutputSettings(folder: "o"))
        try specs[1].apply(to: &d)
        XCTAssertEqual(d.method.cabrScale, .unit)
        let samples = ["schedule": "cosine", "cabr-init": "slice", "smagnorm": "off", "merge-precision": "bf16", "delta-bias": "true",
                       "cabr-scale": "unit", "imsm-gate": "authors"]
        for key in MethodSpec.keys {
            let method = key.hasPrefix("imsm-") ? "lora+imsm" : "secura-m1"
            XCTAssertNoThrow(try MethodSpec.list("\(method)@\(key)=\(samples[key] ?? "1")"), key)
        }
    }

    func testBadSpecsAreNamed() {
        for (text, needle) in [("lorax", "'lorax' is not a method"), ("lr=1e-3,lora", "comes before any method"),
                               ("lora@lr=fast", "lr=fast: not a valid value"), ("lora@colour=red", "'colour' is not a per-method setting"),
                               ("lora@lr=1,lr=2", "'lr' is set twice"), ("lora@merge-precision=fp8", "not a valid value")] {
            XCTAssertThrowsError(try MethodSpec.list(text), text) { error in
                XCTAssertEqual((error as? RunSettingError)?.setting, .methods)
                XCTAssertTrue("\(error)".contains(needle), "\(text): \(error)")
            }
        }
    }

    func testBootstrapIntervalHoldsTheMeanAndIsReproducible() throws {
        let xs = [0.50, 0.55, 0.61]
        let (low, high) = try XCTUnwrap(Bootstrap.interval(xs))
        let mean = xs.reduce(0, +) / 3
        XCTAssertTrue(low <= mean && mean <= high, "\(low) \(mean) \(high)")
        XCTAssertGreaterThanOrEqual(low, 0.50)
        XCTAssertLessThanOrEqual(high, 0.61)
        XCTAssertLessThan(low, high)
        let again = try XCTUnwrap(Bootstrap.interval(xs))
        XCTAssertEqual(again.0, low)
        XCTAssertEqual(again.1, high)
        XCTAssertNil(Bootstrap.interval([0.5]))
        let same = try XCTUnwrap(Bootstrap.interval([0.4, 0.4, 0.4]))
        XCTAssertEqual(same.0, 0.4, accuracy: 1e-15)
        XCTAssertEqual(same.1, 0.4, accuracy: 1e-15)
    }
}
