// state.json and adapter_config.json name the key of a fraction where a whole number belongs
// (Foundation's decoder refuses it with no coding path).
import Foundation
import XCTest
@testable import SecuraTrain

final class JSONFractionMessageTests: XCTestCase {
    func testStateFractionIsNamed() {
        let json = #"{"format": "secura-dist/state-3", "step": 3.5}"#
        XCTAssertThrowsError(try Checkpoint.decodeState(Data(json.utf8), path: "ck/state.json")) { error in
            let text = "\(error)"
            XCTAssert(text.contains("ck/state.json") && text.contains("key 'step': 3.5 is not a whole number"), text)
        }
    }

    func testAdapterConfigFractionIsNamed() {
        let json = #"{"peft_type": "LORA", "r": 8.5, "lora_alpha": 16, "target_modules": ["q_proj"]}"#
        XCTAssertThrowsError(try PEFTFormat.decodeConfig(Data(json.utf8), path: "a/adapter_config.json")) { error in
            let text = "\(error)"
            XCTAssert(text.contains("a/adapter_config.json") && text.contains("key 'r': 8.5 is not a whole number"), text)
        }
    }
}
