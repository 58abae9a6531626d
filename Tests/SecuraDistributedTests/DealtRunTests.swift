// Dealing independent jobs to ranks: the cost-balanced assignment is deterministic, complete and
// balanced, and `runDealt` gives every rank the owners' results bit for bit on 1, 2 and 3 in-process
// ranks, and turns a failing job on one rank into the same error on every rank.
import Foundation
import SecuraDistributed
import XCTest

final class DealtRunTests: XCTestCase {
    /// Llama-3-8B's CABR jobs: 32 layers of q_proj (4096×4096) and v_proj (1024×4096), interleaved.
    let llamaCosts: [Double] = (0..<64).map { $0 % 2 == 0 ? svdCost(rows: 4096, columns: 4096) : svdCost(rows: 1024, columns: 4096) }

    func testAssignmentIsDeterministicCompleteAndOrdered() {
        for ranks in 1...5 {
            let a = CostBalancedAssignment(costs: llamaCosts, ranks: ranks)
            XCTAssertEqual(a, CostBalancedAssignment(costs: llamaCosts, ranks: ranks), "ranks \(ranks)")
            XCTAssertEqual(a.jobs.flatMap { $0 }.sorted(), Array(0..<64), "every job exactly once (ranks \(ranks))")
            for (rank, jobs) in a.jobs.enumerated() {
                for job in jobs { XCTAssertEqual(a.owner[job], rank) }
                // Decreasing cost within a rank, so the jobs of one round have similar costs.
                XCTAssertEqual(jobs.map { llamaCosts[$0] }, jobs.map { llamaCosts[$0] }.sorted(by: >), "ranks \(ranks)")
            }
            XCTAssertEqual(a.load.reduce(0, +), llamaCosts.reduce(0, +), accuracy: 1)
        }
    }

    func testAssignmentIsBalanced() {
        let big = svdCost(rows: 4096, columns: 4096), small = svdCost(rows: 1024, columns: 4096)
        XCTAssertEqual(big / small, 32, accuracy: 1e-9)
        // 2 ranks: 16 big + 16 small each, exactly equal.
        let two = CostBalancedAssignment(costs: llamaCosts, ranks: 2)
        XCTAssertEqual(two.load[0], two.load[1])
        XCTAssertEqual(two.jobs[0].filter { llamaCosts[$0] == big }.count, 16)
        // Any rank count: no rank more than one big job above the mean (LPT's bound), and within 10 %.
        for ranks in 3...8 {
            let a = CostBalancedAssignment(costs: llamaCosts, ranks: ranks)
            let mean = llamaCosts.reduce(0, +) / Double(ranks)
            XCTAssertLessThanOrEqual(a.load.max()!, mean + big, "ranks \(ranks): loads \(a.load)")
            XCTAssertLessThan(a.imbalance, 1.1, "ranks \(ranks): loads \(a.load)")
        }
        // (Dealing job i to rank i mod 2 would give rank 0 every big job: 32·32 + 0 against 32 small ones.)
        XCTAssertEqual(CostBalancedAssignment(costs: [], ranks: 3).rounds, 0)
        XCTAssertEqual(CostBalancedAssignment(costs: [], ranks: 3).imbalance, 1)
    }

    func testDealtResultsAreIdenticalOnEveryRank() throws {
        let costs: [Double] = [5, 1, 3, 3, 8, 0.5, 2]
        let counts = costs.indices.map { 3 + $0 }
        // Job i's result depends on i only, so any rank count must give the same values.
        func job(_ i: Int) -> [Float] { (0..<counts[i]).map { Float(i) + Float($0) / 7 } }
        for ranks in [1, 2, 3] {
            let perRank = try InProcessWorld.run(ranks: ranks) { comm -> ([[Float]], [Int]) in
                var computedHere: [Int] = []
                var lines: [DealtProgress] = []
                let results = try comm.runDealt(costs: costs, resultCounts: counts, compute: { i in
                    computedHere.append(i)
                    return job(i)
                }, progress: { lines.append($0) })
                XCTAssertEqual(lines.last?.done, costs.count)
                XCTAssertEqual(lines.map(\.done), lines.map(\.done).sorted())
                return (results, computedHere)
            }
            XCTAssertEqual(perRank.flatMap(\.1).sorted(), Array(costs.indices), "each job computed once (ranks \(ranks))")
            for (results, _) in perRank {
                XCTAssertEqual(results.count, costs.count)
                for i in costs.indices {
                    XCTAssertEqual(results[i].map(\.bitPattern), job(i).map(\.bitPattern), "job \(i), ranks \(ranks)")
                }
            }
        }
    }

    func testAFailingJobFailsEveryRank() throws {
        let costs: [Double] = [4, 3, 2, 1]
        let errors = try InProcessWorld.run(ranks: 3) { comm -> String in
            do {
                _ = try comm.runDealt(costs: costs, resultCounts: [1, 1, 1, 1]) { i in
                    if i == 2 { throw CommunicatorError.transport(operation: "test", code: 7, message: "broken job") }
                    return i == 3 ? [1, 2] : [Float(i)]   // job 3 also returns the wrong count
                }
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(Set(errors).count, 1, "every rank reports the same error: \(errors)")
        XCTAssertTrue(errors[0].contains("job 2 failed on rank 2") && errors[0].contains("broken job"), errors[0])
    }
}
