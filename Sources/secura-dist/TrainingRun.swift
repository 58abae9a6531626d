// The body of `secura-dist train`: load model, tokenizer and data, build the adapters, run the steps
// with progress, metrics, validation and checkpoints, and write the final state.
import Foundation
import SecuraAdapters
import SecuraData
import SecuraDistributed
import SecuraModel
import SecuraMPI
import SecuraTensor
import SecuraTrain

struct TrainingRun {
    let options: Train
    let comm: Communicator
    /// A model already opened for this job (the forgetting experiment trains several methods on one).
    var preloaded: LoadedModel? = nil

    func run() throws {
        let say = RootPrinter(comm: comm)
        let o = options
        let out = URL(fileURLWithPath: o.output)
        try ensureWritableFolder(out)
        try OutputFolder.ensureWritable(out)
        let started = Date()

        try describeRanks(say)
        var settings = try o.method.settings()
        if let initAdapter = o.initAdapter {
            // A PEFT folder fixes rank, alpha and targets.
            let peft = try PEFTFormat.settings(PEFTFormat.readConfig(URL(fileURLWithPath: initAdapter)), path: initAdapter)
            guard settings.method.definition.peftForm != nil else {
                let names = AdapterMethod.allCases.filter { $0.definition.peftForm != nil }.map(\.rawValue)
                throw ModelError.invalidInput("--init-adapter needs --method \(names.joined(separator: ", ")) (a method with a PEFT form)")
            }
            settings.rank = peft.rank
            settings.alpha = peft.alpha
            settings.targets = peft.targets
        }
        let loaded: LoadedModel
        if let preloaded {
            loaded = preloaded
        } else {
            // The memory plan needs only the configuration and the file sizes: check it before any weight is read.
            let opened = try ModelLoader.open(o.model)
            try checkMemory(opened, settings: settings, say: say)
            loaded = try shareDequantised(opened, comm: comm, say: say)
        }
        let tokenizer = try TokenizerLoader.load(o.model)
        let file = try DatasetLoader.read(o.data, skipBadLines: o.skipBadLines)
        let (trainRecords, testRecords) = DatasetSplit.split(file.records, trainFraction: o.split, seed: o.seed)
        var promptOptions = PromptOptions()
        promptOptions.chat = o.chat
        promptOptions.maxLength = o.maxLength
        try o.template.apply(to: &promptOptions)
        let builder = try PromptBuilder(tokenizer: tokenizer, options: promptOptions)
        let train = try builder.build(trainRecords), validation = try builder.build(testRecords)
        guard !train.examples.isEmpty else { throw DataError.empty(path: o.data) }
        say("data: \(o.data): \(file.records.count) examples (\(train.examples.count) train, \(validation.examples.count) validation)"
            + (file.skipped.isEmpty ? "" : ", \(file.skipped.count) malformed lines skipped")
            + (train.truncated + validation.truncated > 0
               ? ", \(train.truncated + validation.truncated) cut to \(o.maxLength) tokens (\(train.tokensCut + validation.tokensCut) tokens)" : "")
            + (train.dropped + validation.dropped > 0 ? ", \(train.dropped + validation.dropped) dropped (no answer token left)" : ""))

        let solver = ScaLAPACKSVD(communicator: comm)
        let initStart = Date()
        let cabrInit = CABRInitRun(options: o.method, modelPath: o.model, comm: comm, say: say)
        let prepared = try cabrInit.prepare(loaded: loaded, settings: settings)
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: settings, seed: o.seed,
                                      solver: solver, comm: comm, log: { line in if settings.cabrInit == .svd && prepared.values.isEmpty { say("  " + line) } },
                                      initialA: prepared.values)
        let initSeconds = Date().timeIntervalSince(initStart)
        let usesCABRInit = settings.method.definition.usesCABRInit
        let initMethod = !usesCABRInit ? "none"
            : prepared.method ?? (settings.cabrInit == .svd ? solver.method : "slice")
        if usesCABRInit {
            say("cabr init (\(initMethod)) of \(adapters.plans.count) matrices: "
                + String(format: "%.2f s", initSeconds))
        }
        cabrInit.store(prepared, adapters: adapters)
        if let initAdapter = o.initAdapter { try PEFTFormat.load(URL(fileURLWithPath: initAdapter), into: adapters) }
        describe(adapters, settings: settings, say: say)

        var t = TrainingOptions()
        t.steps = o.steps
        t.batchSize = o.batchSize
        t.microBatch = o.microBatch
        t.schedule = LRSchedule(kind: o.schedule, base: o.lr, warmup: o.warmup, total: o.steps)
        t.adamw.weightDecay = o.weightDecay
        t.clipNorm = o.clip > 0 ? o.clip : nil
        t.seed = o.seed
        t.padToken = Int32(tokenizer.specialTokens.padding ?? tokenizer.specialTokens.eos ?? 0)
        t.evalEvery = o.evalEvery
        t.saveEvery = o.saveEvery
        t.onNaN = o.onNan
        t.recompute = o.recompute
        let trainer = try Trainer(adapters: adapters, options: t, comm: comm, train: train.examples,
                                  validation: Array(validation.examples.prefix(o.validationLimit ?? validation.examples.count)))
        let checkpoints = out.appendingPathComponent("checkpoints")
        if let resume = o.resume {
            let folder = resume == "auto" ? Checkpoint.latest(in: checkpoints) : URL(fileURLWithPath: resume)
            if let folder {
                let state = try trainer.resume(from: folder)
                say("resumed from \(folder.path) at step \(state.step)")
            } else {
                say("no checkpoint in \(checkpoints.path): starting from scratch")
            }
        }
        let metrics = comm.isRoot ? try MetricsLog(path: o.metrics ?? out.appendingPathComponent("metrics.jsonl").path,
                                                   fresh: trainer.step == 0) : nil
        if trainer.step == 0, let v = try trainer.validationLoss() {
            say(String(format: "step 0  val_loss %.4f", v))
            try metrics?.write(["step": 0, "val_loss": v])
        }
        var progress = Progress(total: o.steps, start: trainer.step)
        var timing = (steps: 0.0, allReduce: 0.0, merge: 0.0)
        var pssPeak = PeakPSS()
        pssPeak.sample(force: true)
        var lastLoss: Double?
        while trainer.step < o.steps {
            let r = try trainer.trainStep()
            pssPeak.sample()
            lastLoss = r.loss
            progress.add(tokens: r.processedTokens, seconds: r.seconds)
            timing.steps += r.seconds
            timing.allReduce += r.allReduceSeconds
            timing.merge += r.mergeSeconds
            if o.checkEvery > 0, r.step % o.checkEvery == 0 || r.step == o.steps { try trainer.checkConsistency() }
            var record: [String: Any] = ["step": r.step, "loss": r.loss, "lr": r.lr, "tokens": r.tokens,
                                         "processed_tokens": r.processedTokens, "grad_norm": r.gradNorm,
                                         "seconds": r.seconds, "allreduce_seconds": r.allReduceSeconds,
                                         "merge_seconds": r.mergeSeconds, "skipped": r.skipped]
            if o.evalEvery > 0, r.step % o.evalEvery == 0 || r.step == o.steps, let v = try trainer.validationLoss() {
                record["val_loss"] = v
            } else if o.evalEvery == 0, r.step == o.steps, let v = try trainer.validationLoss() {
                record["val_loss"] = v
            }
            try metrics?.write(record)
            if r.step % o.logEvery == 0 || r.step == o.steps {
                say(progress.line(r, validation: record["val_loss"] as? Double))
            }
            if o.saveEvery > 0, r.step % o.saveEvery == 0, r.step < o.steps {   // collective: every rank writes its master rows
                try Checkpoint.save(trainer, modelPath: o.model, to: checkpoints.appendingPathComponent(Checkpoint.name(step: r.step)),
                                    optimizer: true)
            }
        }
        pssPeak.sample(force: true)
        // Collective: every rank writes its master rows (Checkpoint.save).
        let checkpointStart = Date()
        let finalCheckpoint = checkpoints.appendingPathComponent(Checkpoint.name(step: trainer.step))
        try Checkpoint.save(trainer, modelPath: o.model, to: finalCheckpoint, optimizer: true)
        let checkpointSeconds: Double? = comm.isRoot ? Date().timeIntervalSince(checkpointStart) : nil
        try Checkpoint.save(trainer, modelPath: o.model, to: out.appendingPathComponent("adapter"), optimizer: false)
        if comm.isRoot {
            let hasPEFTForm = settings.method.definition.peftForm != nil
            if hasPEFTForm && settings.imsm == nil {
                try PEFTFormat.export(adapters, to: out.appendingPathComponent("adapter-peft"), baseModel: o.model)
            } else if hasPEFTForm {
                say("no adapter-peft folder: PEFT has no form for the IMSM gate (OUTPUT/adapter holds adapter and gate)")
            }
        }
        try comm.barrier()
        if timing.steps > 0 {
            say("time in steps: " + String(format: "%.1f s (%.2f s/step); all-reduce %.1f%%, merges %.1f%%; init %.2f s",
                                           timing.steps, timing.steps / Double(max(1, progress.steps)),
                                           100 * timing.allReduce / timing.steps, 100 * timing.merge / timing.steps, initSeconds))
        }
        // VmHWM counts shared pages in full on every rank; PSS splits them, so its sum is the real total.
        let peaks = try comm.allGather(value: Double(ProcessMemory.peakResidentBytes() ?? 0) / 1_048_576)
        let pss = try comm.allGather(value: Double(ProcessMemory.proportionalSetBytes() ?? 0) / 1_048_576)
        let pssPeaks = try comm.allGather(value: Double(pssPeak.peakBytes) / 1_048_576)
        say("memory per rank (MiB): peak resident " + peaks.map { String(format: "%.0f", $0) }.joined(separator: ", ")
            + "; proportional set now " + pss.map { String(format: "%.0f", $0) }.joined(separator: ", ")
            + String(format: " (sum %.0f)", pss.reduce(0, +))
            + "; sampled peak " + pssPeaks.map { String(format: "%.0f", $0) }.joined(separator: ", ")
            + String(format: " (sum %.0f)", pssPeaks.reduce(0, +)))
        let hosts = try comm.allGather(string: comm.hostName)
        if comm.isRoot {
            let summary = RunSummary(
                model: o.model, method: settings.method.rawValue, ranks: comm.size, nodes: Set(hosts).count, hosts: hosts,
                threads_per_rank: BLAS.threads, batch_size: o.batchSize, micro_batch: o.microBatch, max_length: o.maxLength,
                recompute: o.recompute, allreduce_values: adapters.parameters.count + 2, steps_run: progress.steps, final_step: trainer.step, final_loss: lastLoss,
                seconds_in_steps: timing.steps, seconds_per_step: timing.steps / Double(max(1, progress.steps)),
                tokens_per_second: progress.seconds > 0 ? Double(progress.tokens) / progress.seconds : 0,
                allreduce_share: timing.steps > 0 ? timing.allReduce / timing.steps : 0,
                merge_share: timing.steps > 0 ? timing.merge / timing.steps : 0,
                allreduce_seconds_per_step: timing.allReduce / Double(max(1, progress.steps)),
                merge_seconds_per_step: timing.merge / Double(max(1, progress.steps)),
                init_seconds: initSeconds, init_method: initMethod,
                checkpoint_seconds: checkpointSeconds, checkpoint_bytes: Self.folderBytes(finalCheckpoint),
                peak_rss_mib: peaks, pss_end_mib: pss, pss_peak_mib: pssPeaks, pss_peak_sum_mib: pssPeaks.reduce(0, +),
                pss_peak_by_host_mib: Dictionary(zip(hosts, pssPeaks), uniquingKeysWith: +),
                wall_seconds: Date().timeIntervalSince(started))
            try summary.write(to: out.appendingPathComponent("summary.json"))
        }
        say("done: \(trainer.step) steps in " + String(format: "%.1f s", Date().timeIntervalSince(started))
            + (trainer.skippedSteps > 0 ? " (\(trainer.skippedSteps) skipped for NaN/Inf)" : "")
            + "; final state in \(out.appendingPathComponent("adapter").path)")
    }

    /// Rank → host map and threads per rank (rank 0 prints).
    func describeRanks(_ say: RootPrinter) throws {
        guard comm.size > 1 else {
            say("1 process, \(BLAS.threads) thread(s) (OpenBLAS \(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { "core " + $0 } ?? "default kernels"))")
            return
        }
        let entries = try comm.allGather(string: "\(comm.hostName) local \(comm.localRank)/\(comm.localSize)")
        let hosts = Set(entries.map { $0.split(separator: " ").first.map(String.init) ?? "" })
        say("\(comm.size) ranks on \(hosts.count) node(s), \(BLAS.threads) thread(s) per rank:")
        for (r, e) in entries.enumerated() { say("  rank \(r) → \(e)") }
    }

    func describe(_ adapters: AdapterSet, settings: MethodSettings, say: RootPrinter) {
        let perLayer = adapters.trainablePerLayer
        let total = perLayer.reduce(0, +)
        let sites = adapters.plans.prefix(2).map { p in
            "\(p.site.projection.rawValue) [\(p.outFeatures)×\(p.inFeatures)]" + (p.rank > 0 ? " r=\(p.rank)" : "") + (p.innerRank > 0 ? " m=\(p.innerRank)" : "")
        }
        say("method \(settings.method.rawValue) on \(settings.targets.map(\.rawValue).joined(separator: ",")): "
            + "\(total.formatted()) trainable parameters (\(perLayer.first ?? 0) per layer; \(sites.joined(separator: ", ")))")
        if Set(perLayer).count > 1 { say("  trainable per layer: \(perLayer)") }
        if let imsm = settings.imsm {
            say("imsm \(imsm.mode.rawValue) gate: \(adapters.imsmParameterCount.formatted()) trainable parameters"
                + (imsm.mode == .noGate ? "" : " (r=\(imsm.rank), dropout \(imsm.dropout), lr \(imsm.lr))")
                + "; frozen branch on the original weights; \(adapters.parameters.count.formatted()) trainable in all")
        }
    }

    /// Bytes of the regular files in `folder` (nil when it does not exist).
    static func folderBytes(_ folder: URL) -> Int? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        return names.reduce(0) { total, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)
            return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    func ensureWritableFolder(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ModelError.invalidInput("\(url.path): cannot create the output folder (\(error.localizedDescription))")
        }
        guard FileManager.default.isWritableFile(atPath: url.path) else {
            throw ModelError.invalidInput("\(url.path): the output folder is not writable")
        }
    }
}

/// Throughput and ETA for the progress line.
struct Progress {
    let total: Int
    let start: Int
    var tokens = 0
    var seconds = 0.0
    var steps = 0

    init(total: Int, start: Int) {
        self.total = total
        self.start = start
    }

    mutating func add(tokens t: Int, seconds s: Double) {
        tokens += t
        seconds += s
        steps += 1
    }

    func line(_ r: StepReport, validation: Double?) -> String {
        let rate = seconds > 0 ? Double(tokens) / seconds : 0
        let eta = steps > 0 ? seconds / Double(steps) * Double(total - r.step) : 0
        var s = "step \(r.step)/\(total)  " + String(format: "loss %.4f  lr %.2e  %.0f tok/s", r.loss, r.lr, rate)
            + "  ETA " + Self.duration(eta)
        if let validation { s += String(format: "  val_loss %.4f", validation) }
        if r.skipped { s += "  (skipped: NaN/Inf gradients)" }
        return s
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" : t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}

/// Appends one JSON object per line.
final class MetricsLog {
    let handle: FileHandle
    /// Opens `path` for appending (a resumed run continues its file). With `fresh`, an existing file is
    /// first moved to `path.previous` (replacing an older one), so a new run starts a new file and the
    /// old lines are kept, not mixed in.
    init(path: String, fresh: Bool) throws {
        if fresh, FileManager.default.fileExists(atPath: path) {
            let previous = path + ".previous"
            try? FileManager.default.removeItem(atPath: previous)
            do {
                try FileManager.default.moveItem(atPath: path, toPath: previous)
            } catch {
                throw ModelError.invalidInput("\(path): cannot move the previous run's metrics aside (\(error.localizedDescription))")
            }
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ModelError.invalidInput("\(path): cannot create the metrics file")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw ModelError.invalidInput("\(path): cannot open the metrics file") }
        h.seekToEndOfFile()
        handle = h
    }

    func write(_ record: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        handle.write(data + Data("\n".utf8))
    }
}
