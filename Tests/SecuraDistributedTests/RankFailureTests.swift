// Failures cross ranks as typed values: `agree` gives every rank the lowest failing rank's value, and a
// dealt job's failure keeps its category (and so the job's exit status) on every rank.
import Foundation
import SecuraDistributed
import SecuraErrors
import XCTest

final class RankFailureTests: XCTestCase {
    private struct BadFile: CategorizedError, CustomStringConvertible {
        var category: ErrorCategory { .data }
        var description: String { "weights.bin: tab\there, newline\nthere" }
    }

    func testAgreeGivesEveryRankTheLowestFailingRanksValue() throws {
        let answers = try InProcessWorld.run(ranks: 4) { comm -> String in
            let mine: RankFailure? = comm.rank >= 2
                ? RankFailure(rank: comm.rank, category: comm.rank == 2 ? .io : .data, message: "rank \(comm.rank)\tfailed")
                : nil
            guard let agreed = try comm.agree(mine) else { return "none" }
            return "\(agreed.rank) \(agreed.failure.category) \(agreed.failure.message)"
        }
        XCTAssertEqual(answers, [String](repeating: "2 io rank 2\tfailed", count: 4))
    }

    func testAgreeWithoutFailuresIsNil() throws {
        let answers = try InProcessWorld.run(ranks: 3) { comm in try comm.agree(nil as RankFailure?) == nil }
        XCTAssertEqual(answers, [true, true, true])
    }

    func testADealtJobsFailureKeepsItsCategoryAndTextOnEveryRank() throws {
        let failures = try InProcessWorld.run(ranks: 3) { comm -> DealtRunError? in
            do {
                _ = try comm.runDealt(costs: [4, 3, 2, 1], resultCounts: [1, 1, 1, 1]) { i in
                    if i == 1 { throw BadFile() }
                    return [Float(i)]
                }
                return nil
            } catch let error as DealtRunError {
                return error
            }
        }
        XCTAssertEqual(failures.count, 3)
        for failure in failures {
            guard case let .jobFailed(job, rankFailure)? = failure else { return XCTFail("no failure on a rank") }
            XCTAssertEqual(job, 1)
            XCTAssertEqual(rankFailure, RankFailure(rank: 1, category: .data, message: "\(BadFile())"))
            XCTAssertEqual(failure?.category, .data)
            XCTAssertEqual(ErrorCategory(of: failure!), .data)
        }
    }

    func testRankFailureRoundTripsThroughJSON() throws {
        let failure = RankFailure(rank: 5, error: BadFile())
        XCTAssertEqual(failure.category, .data)
        let decoded = try JSONDecoder().decode(RankFailure.self, from: try JSONEncoder().encode(failure))
        XCTAssertEqual(decoded, failure)
        XCTAssertEqual(decoded.message, "weights.bin: tab\there, newline\nthere")
    }
}
