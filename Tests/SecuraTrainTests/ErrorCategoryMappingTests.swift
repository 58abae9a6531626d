// Each library's errors map to the exit status of their kind: one representative case per category
// and module, through the same function the command line uses (ErrorCategory(of:).exitCode).
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraErrors
import SecuraIO
import SecuraModel
import SecuraTrain
import XCTest

final class ErrorCategoryMappingTests: XCTestCase {
    private func status(_ error: Error) -> Int32 { ErrorCategory(of: error).exitCode }

    func testUsageErrorsExit64() {
        XCTAssertEqual(status(MethodError.imsmCannotWrap(method: "full", wrappable: ["lora"])), 64)
        XCTAssertEqual(status(TrainingError.settingOutOfRange(TrainingError.batchSize, found: "0", expected: "at least 1")), 64)
        XCTAssertEqual(status(ShapedModelError.unknownShape(name: "x", known: [])), 64)
        XCTAssertEqual(status(ModelError.promptTooLong(tokens: 9, contextLimit: 8)), 64)
    }

    func testBadInputDataExits65() {
        XCTAssertEqual(status(GGUFError.badMagic(path: "m.gguf", found: [0, 0, 0, 0])), 65)
        XCTAssertEqual(status(IOError.dataPastEnd(path: "m.safetensors", tensor: "w", end: 9, dataSize: 8)), 65)
        XCTAssertEqual(status(ModelError.layerCountMismatch(path: "config.json", key: "num_hidden_layers", declared: 3, found: 2)), 65)
        XCTAssertEqual(status(ModelError.configValueOutOfRange(path: "config.json", key: "vocab_size", value: 1 << 40, limit: 1 << 24)), 65)
        XCTAssertEqual(status(CheckpointError.incompatible(path: "run/adapter", reason: "format")), 65)
        XCTAssertEqual(status(TrainingError.nonFiniteGradients(step: 3)), 65)
        XCTAssertEqual(status(SVDError.nonFiniteInput(rank: 1, row: 2, column: 3)), 65)
    }

    func testInternalErrorsExit70() {
        XCTAssertEqual(status(IOError.invalidTensorToWrite(path: "a", tensor: "b", reason: "c")), 70)
        XCTAssertEqual(status(TrainingError.inconsistentRanks(step: 1, ranks: [1])), 70)
        XCTAssertEqual(status(CommunicatorError.lengthMismatch(operation: "allReduce", rank: 1, expected: 2, found: 3)), 70)
        XCTAssertEqual(status(MethodError.mixerCacheMismatch(frozen: 1, tuned: 2)), 70)
    }

    func testIOErrorsExit74() {
        XCTAssertEqual(status(IOError.fileNotFound(path: "m.safetensors")), 74)
        XCTAssertEqual(status(IOError.cannotWrite(path: "out", reason: "No space left on device")), 74)
        XCTAssertEqual(status(ModelError.missingFile(path: "config.json", what: "model configuration")), 74)
        XCTAssertEqual(status(CheckpointError.missing(path: "run/adapter")), 74)
        XCTAssertEqual(status(CocoaError(.fileWriteOutOfSpace)), 74)
    }

    func testTransportFailuresExit75() {
        XCTAssertEqual(status(CommunicatorError.transport(operation: "MPI_Allreduce", code: 15, message: "peer gone")), 75)
    }

    func testErrorsWrappedByRanksKeepTheirStatus() {
        let failure = RankFailure(rank: 2, error: IOError.fileNotFound(path: "data.jsonl"))
        XCTAssertEqual(status(DealtRunError.jobFailed(job: 4, failure: failure)), 74)
        XCTAssertEqual(status(SVDError.fillFailed(failure)), 74)
        XCTAssertEqual(status(InProcessWorldError.rankFailed(rank: 1, underlying: GGUFError.tensorNotFound(path: "m", tensor: "t"))), 65)
    }
}
