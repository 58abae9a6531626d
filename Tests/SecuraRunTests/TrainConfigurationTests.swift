// The run configuration's ranges, the setting → flag mapping, and JSON that holds non-finite numbers.
import Foundation
import SecuraAdapters
import SecuraRun
import XCTest

final class TrainConfigurationTests: XCTestCase {
    func configuration() -> TrainConfiguration {
        TrainConfiguration(model: "m.gguf", data: DataSettings(path: "d.jsonl"), output: OutputSettings(folder: "out"))
    }

    func testDefaultsAreValid() throws {
        XCTAssertNoThrow(try configuration().validate())
    }

    func testOutOfRangeSettingsAreNamed() {
        var c = configuration()
        c.optimizer.batchSize = 2_147_483_648
        XCTAssertThrowsError(try c.validate()) { error in
            let e = error as? RunSettingError
            XCTAssertEqual(e?.setting, .batchSize)
            XCTAssertEqual(e?.flagDescription, "--batch-size: 2147483648 is outside 1…1048576")
            XCTAssertEqual(e?.description, "batch size: 2147483648 is outside 1…1048576")
        }
        c = configuration()
        c.method.imsm = IMSMSettingsForTest.rank(2_147_483_648)
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? RunSettingError)?.setting, .imsmRank) }
        c = configuration()
        c.optimizer.lr = .nan
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? RunSettingError)?.setting, .lr) }
        c = configuration()
        c.data.trainFraction = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? RunSettingError)?.setting, .split) }
        c = configuration()
        c.output.folder = ""
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? RunSettingError)?.setting, .output) }
    }

    func testEverySettingHasAFlagSpelling() {
        XCTAssertEqual(RunSetting.cabrSvdRank.flag, "--cabr-svd-rank")
        XCTAssertEqual(RunSetting.maxNewTokens.words, "max new tokens")
        for s in RunSetting.allCases { XCTAssertTrue(s.flag.hasPrefix("--") && !s.flag.contains(where: \.isUppercase), s.flag) }
    }

    func testTemplateDateIsChecked() {
        XCTAssertNoThrow(try PromptSettings.date("2026-01-31"))
        XCTAssertThrowsError(try PromptSettings.date("2026-02-30")) { XCTAssertEqual(($0 as? RunSettingError)?.setting, .templateDate) }
    }

    func testNonFiniteNumbersRoundTripThroughJSON() throws {
        struct Numbers: Codable, Equatable { var a: Double; var b: Double; var c: Double; var d: Double }
        let value = Numbers(a: .nan, b: .infinity, c: -.infinity, d: 1.5)
        let text = try JSONText.line(value)
        XCTAssertEqual(text, #"{"a":"NaN","b":"Infinity","c":"-Infinity","d":1.5}"#)
        let back = try JSONText.decoder().decode(Numbers.self, from: Data(text.utf8))
        XCTAssertTrue(back.a.isNaN)
        XCTAssertEqual(back.b, .infinity)
        XCTAssertEqual(back.c, -.infinity)
        XCTAssertEqual(back.d, 1.5)
        XCTAssertEqual(JSONText.number(.nan) as? String, "NaN")
        XCTAssertEqual(JSONText.number(2) as? Double, 2)
    }

    func testConfigurationRoundTripsThroughJSON() throws {
        var c = configuration()
        c.method.method = .lora
        c.optimizer.recompute = true
        c.cadence.saveEvery = 5
        let back = try JSONText.decoder().decode(TrainConfiguration.self, from: JSONText.encoder().encode(c))
        XCTAssertEqual(back, c)
    }
}

/// IMSM settings with a given rank.
enum IMSMSettingsForTest {
    static func rank(_ r: Int) -> IMSMSettings {
        var s = IMSMSettings()
        s.rank = r
        return s
    }
}

final class ValidationCapTests: XCTestCase {
    func testTheValidationSplitIsCappedUnlessALimitIsSet() {
        XCTAssertEqual(DataSettings.validationCount(available: 2001, limit: nil), DataSettings.defaultValidationCap)
        XCTAssertEqual(DataSettings.validationCount(available: 30, limit: nil), 30)
        XCTAssertEqual(DataSettings.validationCount(available: 2001, limit: 2001), 2001)
        XCTAssertEqual(DataSettings.validationCount(available: 2001, limit: 20), 20)
    }
}
