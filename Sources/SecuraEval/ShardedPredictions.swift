// Evaluation under mpirun: the records of a task are dealt to ranks by index (record i to rank
// i mod N), each rank predicts its share, and the answers are gathered back in record order. Every
// prediction depends only on its record, so the result is the same for any N.
import Foundation
import SecuraDistributed

public enum ShardedPredictions {
    /// The prediction of every record of `task`, in record order, on every rank. Collective over `comm`.
    /// - Parameter progress: called on each rank after each of its own records (done, its share).
    /// - Throws: what `predictor` throws (a rank's failure is the caller's to turn into an abort), or a
    ///   communicator error.
    public static func run(_ task: EvalTask, predictor: Predictor, comm: Communicator,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> [String] {
        try run(task.records, comm: comm, progress: progress, predict: predictor.predict)
    }

    /// `predict` of every record, in record order, on every rank; record i is computed on rank i mod N.
    public static func run<Record>(_ records: [Record], comm: Communicator, progress: (Int, Int) -> Void = { _, _ in },
                                   predict: (Record) throws -> String) throws -> [String] {
        let mine = Array(stride(from: comm.rank, to: records.count, by: comm.size))
        var answers: [String] = []
        for (k, i) in mine.enumerated() {
            answers.append(try predict(records[i]))
            progress(k + 1, mine.count)
        }
        let encoded = String(decoding: try JSONEncoder().encode(answers), as: UTF8.self)
        let all = try comm.allGather(string: encoded).map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        var out = [String](repeating: "", count: records.count)
        for (rank, list) in all.enumerated() {
            for (k, text) in list.enumerated() { out[rank + k * comm.size] = text }
        }
        return out
    }
}
