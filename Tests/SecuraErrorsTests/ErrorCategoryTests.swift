// Each error category maps to its sysexits status, and errors nobody categorised map as documented.
import Foundation
import SecuraErrors
import XCTest

final class ErrorCategoryTests: XCTestCase {
    private struct Tagged: CategorizedError { let category: ErrorCategory }
    private struct Unclassified: Error {}

    func testEveryCategoryHasItsSysexitsStatus() {
        let expected: [ErrorCategory: Int32] = [.usage: 64, .data: 65, .internal: 70, .io: 74, .unavailable: 75]
        XCTAssertEqual(expected.count, ErrorCategory.allCases.count, "a category without an expected status")
        for category in ErrorCategory.allCases {
            XCTAssertEqual(category.exitCode, expected[category], "\(category)")
        }
        XCTAssertEqual(Set(ErrorCategory.allCases.map(\.exitCode)).count, ErrorCategory.allCases.count,
                       "two categories share an exit status")
    }

    func testCategorizedErrorsKeepTheirCategory() {
        for category in ErrorCategory.allCases {
            XCTAssertEqual(ErrorCategory(of: Tagged(category: category)), category)
        }
    }

    func testFileSystemErrorsAreIO() throws {
        let missing = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/file")
        do {
            _ = try Data(contentsOf: missing)
            XCTFail("reading a missing file succeeded")
        } catch {
            XCTAssertEqual(ErrorCategory(of: error), .io, "\(error)")
        }
        XCTAssertEqual(ErrorCategory(of: CocoaError(.fileWriteOutOfSpace)), .io)
        XCTAssertEqual(ErrorCategory(of: CocoaError(.fileReadNoPermission)), .io)
        XCTAssertEqual(ErrorCategory(of: POSIXError(.ENOSPC)), .io)
    }

    func testMalformedJSONIsData() {
        struct Shape: Decodable { let n: Int }
        do {
            _ = try JSONDecoder().decode(Shape.self, from: Data("{\"n\": \"x\"}".utf8))
            XCTFail("decoded a string as an integer")
        } catch {
            XCTAssertEqual(ErrorCategory(of: error), .data, "\(error)")
        }
        do {
            _ = try JSONSerialization.jsonObject(with: Data("{".utf8))
            XCTFail("parsed truncated JSON")
        } catch {
            XCTAssertEqual(ErrorCategory(of: error), .data, "\(error)")
        }
    }

    func testUnclassifiedErrorsAreInternal() {
        XCTAssertEqual(ErrorCategory(of: Unclassified()), .internal)
        XCTAssertEqual(ErrorCategory(of: CocoaError(.featureUnsupported)), .internal)
    }

    func testSettingNamesItsKey() {
        XCTAssertEqual("\(Setting("the LoRA rank", key: "r"))", "the LoRA rank (r)")
    }

    func testRenamingReplacesOnlyKnownKeysInParentheses() {
        let message = "the micro-batch size (micro_batch) must be at least 1 (r) (batch_size); micro_batch stays"
        XCTAssertEqual(Setting.renaming(message, ["micro_batch": "--micro-batch", "r": "--rank"]),
                       "the micro-batch size (--micro-batch) must be at least 1 (--rank) (batch_size); micro_batch stays")
        XCTAssertEqual(Setting.renaming(message, [:]), message)
    }
}
