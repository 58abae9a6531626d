// The watchdog's deadline rule (CollectiveTimeout): the start allowance, max(floor, 10 × slowest step),
// the fixed override, slow-but-progressing ranks, and the verdict's wording.
import SecuraDistributed
import XCTest

final class CollectiveTimeoutTests: XCTestCase {
    func testStartAllowanceBeforeTheFirstStep() {
        let rule = CollectiveTimeout()
        XCTAssertEqual(rule.seconds, 600)
        XCTAssertNil(rule.slowestStep)
        XCTAssertEqual(rule.phase, "start-up (before the first step)")
    }

    func testDerivedFromTheSlowestStepWithAFloor() {
        var rule = CollectiveTimeout()
        rule.stepCompleted(1, seconds: 0.5, at: 100)
        XCTAssertEqual(rule.seconds, 60, "10 × 0.5 s is below the 60 s floor")
        rule.stepCompleted(2, seconds: 9, at: 109)
        XCTAssertEqual(rule.seconds, 90)
        rule.stepCompleted(3, seconds: 2, at: 111)
        XCTAssertEqual(rule.seconds, 90, "a faster step does not shorten the deadline")
        XCTAssertEqual(rule.phase, "step 4")
    }

    func testTheIntervalBetweenStepsCounts() {
        // A checkpoint written between steps 1 and 2 makes the interval 30 s although each step took 1 s.
        var rule = CollectiveTimeout()
        rule.stepCompleted(1, seconds: 1, at: 10)
        rule.stepCompleted(2, seconds: 1, at: 40)
        XCTAssertEqual(rule.slowestStep, 30)
        XCTAssertEqual(rule.seconds, 300)
    }

    func testFixedTimeoutWins() {
        var rule = CollectiveTimeout(fixed: 20)
        XCTAssertEqual(rule.seconds, 20)
        rule.stepCompleted(1, seconds: 50, at: 50)
        XCTAssertEqual(rule.seconds, 20)
        XCTAssertEqual(rule.censusGrace, 5)
        XCTAssertEqual(CollectiveTimeout(fixed: 2).censusGrace, 1)
        XCTAssertEqual(CollectiveTimeout().censusGrace, 10)
    }

    func testASlowRankIsNotKilled() {
        // Rank B takes 8 s per step, rank A 4 s: A waits about 4 s per all-reduce. A measures its step
        // (compute + wait) at 8 s, so its deadline is 80 s, far above the 4 s it waits.
        var a = CollectiveTimeout()
        var now = 0.0
        for step in 1...5 {
            now += 8
            a.stepCompleted(step, seconds: 8, at: now)
            XCTAssertGreaterThan(a.seconds, 4 * 10)
        }
    }

    func testALongComputePhaseExtendsTheDeadline() {
        var rule = CollectiveTimeout()
        rule.stepCompleted(1, seconds: 1, at: 1)
        XCTAssertEqual(rule.seconds(computedFor: 0.5), 60)
        XCTAssertEqual(rule.seconds(computedFor: 200), 400, "200 s of generation before an evaluation gather")
        XCTAssertEqual(rule.seconds(computedFor: .infinity), 60)
        XCTAssertEqual(CollectiveTimeout(fixed: 20).seconds(computedFor: 200), 20, "a fixed deadline is fixed")
    }

    func testResumedRunsCountFromTheTrainersStep() {
        var rule = CollectiveTimeout()
        rule.stepCompleted(11, seconds: 1, at: 5)
        XCTAssertEqual(rule.phase, "step 12")
    }

    func testVerdictNamesTheMissingRanks() {
        var rule = CollectiveTimeout(fixed: 20)
        rule.stepCompleted(7, seconds: 1, at: 1)
        let text = rule.verdict(operation: "MPI_Allreduce(SUM, DOUBLE)", waited: 20.4,
                                missing: [(1, "no answer within 5 s")])
        XCTAssertEqual(text, "step 8: MPI_Allreduce(SUM, DOUBLE) did not complete within 20 s (waited 20.4 s); "
                       + "ranks that did not arrive: 1 (no answer within 5 s)")
        let unknown = rule.verdict(operation: "ScaLAPACK pdgesvd", waited: 21, missing: nil, why: "blocking")
        XCTAssertTrue(unknown.hasSuffix("ranks that did not arrive: could not be determined (blocking)"), unknown)
        let none = rule.verdict(operation: "MPI_Barrier", waited: 21, missing: [])
        XCTAssertTrue(none.contains("none found"), none)
    }

    func testNonFiniteStepTimesAreIgnored() {
        var rule = CollectiveTimeout()
        rule.stepCompleted(1, seconds: .nan, at: 3)
        XCTAssertEqual(rule.slowestStep, 0)
        XCTAssertEqual(rule.seconds, 60)
        XCTAssertTrue(rule.seconds.isFinite)
    }
}
