// A task of a sequence without fusion starts from the previous task's final checkpoint
// (Trainer.start(fromFinalStateOf:)): every persisted tensor (values, AdamW moments, SECURA-M1's masters)
// equal to the checkpoint's, AdamW's step count carried, the run's own step counter still at 0.
import Foundation
import SecuraAdapters
import TestSupport
@testable import SecuraTrain
import XCTest

final class SequenceStartTests: XCTestCase {
    func testAStartFromAFinalStateCarriesEverythingButTheStepCounter() throws {
        for method in [AdapterMethod.lora, .securaM1] {
            let dir = try TempDirectory()
            let previous = try TrainingTests.makeTrainer(method, steps: 4)
            for _ in 0..<2 { _ = try previous.trainStep() }
            let final = URL(fileURLWithPath: dir.path("final"))
            try Checkpoint.save(previous, modelPath: "tiny-llama", to: final, optimizer: true)

            let next = try TrainingTests.makeTrainer(method, steps: 4)
            // The check can fail: a fresh run's state is not the trained one.
            XCTAssertFalse(runStateDifferences(next, previous).isEmpty, "\(method): a fresh trainer already equals the trained one")
            let state = try next.start(fromFinalStateOf: final)
            assertSameRunState(next, previous, "\(method) started from the final state")
            if method == .securaM1 {
                XCTAssertTrue(RunStateLayout(next.adapters, optimizer: nil).entries.contains { $0.kind == .master }, "M1's masters are compared")
            }
            XCTAssertEqual(state.step, 2)
            XCTAssertEqual(next.optimizer.step, previous.optimizer.step)
            XCTAssertEqual(next.step, 0, "a new task counts its own steps")
            _ = try next.trainStep()
            XCTAssertEqual(next.step, 1)

            // An adapter folder has no optimizer state: not a state a task can continue.
            let adapter = URL(fileURLWithPath: dir.path("adapter"))
            try Checkpoint.save(previous, modelPath: "tiny-llama", to: adapter, optimizer: false)
            XCTAssertThrowsError(try TrainingTests.makeTrainer(method, steps: 4).start(fromFinalStateOf: adapter)) { error in
                XCTAssertTrue("\(error)".contains("no optimizer state"), "\(error)")
            }
        }
    }
}
