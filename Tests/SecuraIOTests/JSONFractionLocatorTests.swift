// JSONFractionLocator names the key whose fraction Foundation's decoder refused without a coding path.
import Foundation
import XCTest
@testable import SecuraIO

final class JSONFractionLocatorTests: XCTestCase {
    struct Inner: Decodable { var count: Int?; var scale: Double? }
    struct Outer: Decodable { var name: String; var width: Int?; var ratio: Double?; var inner: Inner?; var sizes: [Int]? }

    func locate(_ json: String) -> JSONFractionLocator.Finding? {
        JSONFractionLocator.locate(Outer.self, in: Data(json.utf8))
    }

    func testTopLevelNestedAndListFractionsAreNamed() {
        XCTAssertEqual(locate(#"{"name": "a", "ratio": 0.5, "width": 3.5}"#), .init(key: "width", value: "3.5"))
        XCTAssertEqual(locate(#"{"name": "a", "inner": {"scale": 0.25, "count": 2.75}}"#), .init(key: "inner.count", value: "2.75"))
        XCTAssertEqual(locate(#"{"name": "a", "sizes": [1, 2, 7.5]}"#), .init(key: "sizes[2]", value: "7.5"))
        XCTAssert("\(locate(#"{"name": "a", "width": 3.5}"#)!)".contains("key 'width': 3.5 is not a whole number"))
    }

    /// Nothing to find: fractions only where fractions belong, no fraction, or not an object.
    func testNoFindingWhenNoFractionIsRefused() {
        XCTAssertNil(locate(#"{"name": "a", "ratio": 0.5, "inner": {"scale": 1.5}}"#))
        XCTAssertNil(locate(#"{"name": "a", "width": "wide"}"#))
        XCTAssertNil(locate(#"[1.5]"#))
        XCTAssertNil(locate(#"{"name": "#))
    }
}
