// `--cabr-init-cache`: an entry written for a model and settings reads back bit for bit (also through the
// collective read on 3 in-process ranks), and a foreign, stale, corrupt or malformed entry is refused with
// a reason that names what differs.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel
import SecuraLinAlg
import SecuraTensor
import TestSupport
@testable import SecuraTrain

final class CABRInitCacheTests: XCTestCase {
    struct Setup {
        let model: String
        let loaded: LoadedModel
        let settings: MethodSettings
        let plans: [SitePlan]
        let values: [LinearSite: [Float]]
    }

    /// A copy of the tiny Llama fixture (so its files can be touched) with SVD-initialised A.
    func setup(_ dir: TempDirectory, curRank: Int = 16, cabrM: Int = 20) throws -> Setup {
        let model = dir.path("model")
        if !FileManager.default.fileExists(atPath: model) {
            try FileManager.default.copyItem(atPath: FixturePaths.fixture("tiny-llama").path, toPath: model)
        }
        let loaded = try ModelLoader.open(model)
        var s = MethodSettings()
        s.curRank = curRank
        s.cabrM = cabrM
        var layout = ParameterLayout()
        let plans = MethodPlanner.plan(loaded.config, s, layout: &layout)
        let values = try CABRInitBatch.initialA(plans: plans, base: loaded.source, settings: s,
                                                localSolver: LAPACKSVD(driver: .dgesdd), comm: SingleProcessCommunicator())
        return Setup(model: model, loaded: loaded, settings: s, plans: plans, values: values)
    }

    func key(_ s: Setup, settings: MethodSettings? = nil, solver: String = "LAPACK dgesdd") throws -> CABRInitCache.Key {
        try CABRInitCache.key(modelPath: s.model, base: s.loaded.source, plans: s.plans, settings: settings ?? s.settings,
                              solver: solver)
    }

    func assertMiss(_ lookup: CABRInitCache.Lookup, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        switch lookup {
        case .hit: XCTFail("a foreign or broken entry was used", file: file, line: line)
        case let .miss(reason): XCTAssertTrue(reason.contains(text), "reason: \(reason)", file: file, line: line)
        }
    }

    func testRoundTripIsBitIdenticalOnEveryRank() throws {
        let dir = try TempDirectory()
        let s = try setup(dir)
        let k = try key(s)
        let cache = dir.path("cache")
        assertMiss(CABRInitCache.read(folder: cache, key: k, plans: s.plans), containing: "no entry")
        let file = try CABRInitCache.write(folder: cache, key: k, plans: s.plans, values: s.values)
        XCTAssertEqual(file, CABRInitCache.path(in: cache, key: k))
        XCTAssertEqual(s.values.count, 4)
        let plans = s.plans
        let perRank = try InProcessWorld.run(ranks: 3) { comm -> [LinearSite: [Float]] in
            guard case let .hit(values) = try CABRInitCache.read(folder: cache, key: k, plans: plans, comm: comm) else {
                XCTFail("rank \(comm.rank): the entry was not used")
                return [:]
            }
            return values
        }
        for (rank, values) in perRank.enumerated() {
            XCTAssertEqual(values.keys.sorted(), s.values.keys.sorted())
            for (site, a) in s.values {
                XCTAssertEqual(values[site]?.map(\.bitPattern), a.map(\.bitPattern), "\(site.weightName) on rank \(rank)")
            }
        }
    }

    func testForeignSettingsAndSolverAreRefused() throws {
        let dir = try TempDirectory()
        let s = try setup(dir)
        let cache = dir.path("cache")
        let written = try key(s)
        let file = try CABRInitCache.write(folder: cache, key: written, plans: s.plans, values: s.values)
        // Other settings name another file: a miss, never the stored A.
        var other = s.settings
        other.cabrSVDRank = 4
        assertMiss(CABRInitCache.read(folder: cache, key: try key(s, settings: other), plans: s.plans), containing: "no entry")
        // The same file name with another key inside (copied over, or a hash collision) is refused by content.
        for (wanted, text) in [(try key(s, solver: "ScaLAPACK pdgesvd"), "solver"), (try key(s, settings: other), "(cabr_svd_rank) all (this run: 4)")] {
            let target = CABRInitCache.path(in: cache, key: wanted)
            if target != file {
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: file, toPath: target)
            }
            assertMiss(CABRInitCache.read(folder: cache, key: wanted, plans: s.plans), containing: text)
        }
    }

    func testChangedModelFileIsRefused() throws {
        let dir = try TempDirectory()
        let s = try setup(dir)
        let cache = dir.path("cache")
        let before = try key(s)
        _ = try CABRInitCache.write(folder: cache, key: before, plans: s.plans, values: s.values)
        // Same path and size, newer modification time.
        let weights = dir.path("model/model.safetensors")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: weights)
        let after = try key(s)
        XCTAssertEqual(CABRInitCache.path(in: cache, key: after), CABRInitCache.path(in: cache, key: before))
        assertMiss(CABRInitCache.read(folder: cache, key: after, plans: s.plans), containing: "modification time")
        // Other weights with the same identity: the W[:r, :m] sample catches them.
        var sampled = before
        sampled.weightSample = "0000000000000000"
        assertMiss(CABRInitCache.read(folder: cache, key: sampled, plans: s.plans), containing: "sample")
    }

    func testCorruptAndMalformedEntriesAreRefused() throws {
        let dir = try TempDirectory()
        let s = try setup(dir)
        let cache = dir.path("cache")
        let k = try key(s)
        let file = try CABRInitCache.write(folder: cache, key: k, plans: s.plans, values: s.values)
        // Truncated.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        try bytes.prefix(bytes.count - 40).write(to: URL(fileURLWithPath: file))
        assertMiss(CABRInitCache.read(folder: cache, key: k, plans: s.plans), containing: "unreadable")
        // Wrong shape for one tensor (an entry written by a buggy or other build).
        var shaped = s.values
        let first = s.plans[0].site
        shaped[first] = Array(shaped[first]!.dropLast(s.plans[0].innerRank))
        var writer = SafeTensorsWriter(path: file, metadata: [CABRInitCache.metadataKey: CABRInitCache.encode(k)])
        for p in s.plans {
            try writer.add(CABRDelta.names(p.site).a, floats: shaped[p.site]!, shape: [p.site == first ? p.rank - 1 : p.rank, p.innerRank])
        }
        try writer.write()
        assertMiss(CABRInitCache.read(folder: cache, key: k, plans: s.plans), containing: "expected F32")
        // A non-finite value.
        var nan = s.values
        nan[first]![3] = .nan
        _ = try CABRInitCache.write(folder: cache, key: k, plans: s.plans, values: nan)
        assertMiss(CABRInitCache.read(folder: cache, key: k, plans: s.plans), containing: "NaN")
        // Not a cache at all (no key metadata).
        var plain = SafeTensorsWriter(path: file)
        try plain.add("x", floats: [1], shape: [1])
        try plain.write()
        assertMiss(CABRInitCache.read(folder: cache, key: k, plans: s.plans), containing: "not a CABR init cache")
        // And the check can pass: a good entry again is used.
        _ = try CABRInitCache.write(folder: cache, key: k, plans: s.plans, values: s.values)
        guard case .hit = CABRInitCache.read(folder: cache, key: k, plans: s.plans) else { return XCTFail("good entry refused") }
    }
}
