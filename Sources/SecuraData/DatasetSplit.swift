// The deterministic train/test split: a seeded permutation, the first ⌈fraction·n⌉ for training.
import SecuraTensor

public enum DatasetSplit {
    /// (train, test) with `trainFraction` of the records (at least one each when n ≥ 2) in training.
    public static func split<T>(_ records: [T], trainFraction: Double, seed: UInt64) -> (train: [T], test: [T]) {
        guard records.count >= 2, trainFraction < 1 else { return (records, []) }
        var order = Array(records.indices)
        var rng = SeededRandom(seed: seed ^ 0x5EED_5EED_5EED_5EED)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        let cut = min(records.count - 1, max(1, Int((Double(records.count) * trainFraction).rounded(.toNearestOrAwayFromZero))))
        return (order[..<cut].map { records[$0] }, order[cut...].map { records[$0] })
    }
}
