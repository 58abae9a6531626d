// Batch sizes are refused before they size anything: a global batch of 2³¹ sequences made the sampler
// list 17 GB of sample indices at the first step. The refusal names the setting.
import SecuraErrors
import XCTest
@testable import SecuraTrain

final class BatchBoundsTests: XCTestCase {
    func testHugeBatchIsRefusedBeforeListingSamples() {
        XCTAssertThrowsError(try DataOrder.microBatches(step: 0, batchSize: 1 << 31, microBatch: 1, rank: 0, ranks: 1)) { error in
            guard case let TrainingError.settingOutOfRange(setting, found, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(setting.key, "batch_size")
            XCTAssertEqual(found, "\(1 << 31)")
            XCTAssertEqual(ErrorCategory(of: error), .usage)
        }
    }

    func testNonPositiveSizesAndOverflowingStepsAreRefused() {
        XCTAssertThrowsError(try DataOrder.microBatches(step: 0, batchSize: 0, microBatch: 1, rank: 0, ranks: 1))
        XCTAssertThrowsError(try DataOrder.microBatches(step: 0, batchSize: 8, microBatch: 0, rank: 0, ranks: 1)) { error in
            XCTAssert("\(error)".contains("the micro-batch size (micro_batch) must be at least 1"), "\(error)")
        }
        XCTAssertThrowsError(try DataOrder.microBatches(step: Int.max / 4, batchSize: 8, microBatch: 1, rank: 0, ranks: 1))
        XCTAssertThrowsError(try DataOrder.validate(batchSize: DataOrder.maxBatchSize, microBatch: 1, steps: Int.max / 2))
    }

    func testTheLargestAllowedBatchIsServed() throws {
        let batches = try DataOrder.microBatches(step: 1, batchSize: DataOrder.maxBatchSize, microBatch: DataOrder.maxBatchSize,
                                                 rank: 0, ranks: 1)
        XCTAssertEqual(batches.map(\.count), [DataOrder.maxBatchSize])
        XCTAssertEqual(batches[0].first, DataOrder.maxBatchSize)
        // A micro-batch larger than the batch is one micro-batch of the whole batch.
        XCTAssertEqual(try DataOrder.microBatches(step: 0, batchSize: 3, microBatch: 1 << 40, rank: 0, ranks: 1), [[0, 1, 2]])
    }
}
