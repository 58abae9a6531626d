// Locations of committed test fixtures and of the shared data folder beside the checkout.
import Foundation

public enum FixturePaths {
    /// The repository root (derived from this file's path).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Tests/Fixtures/<name>.
    public static func fixture(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }

    /// ../shared/data/<name> beside the checkout.
    public static func sharedData(_ name: String) -> URL {
        repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data").appendingPathComponent(name)
    }
}

extension FixturePaths {
    /// Where launch/fetch-model.sh puts the default model ($SECURA_CACHE or ~/.cache/secura-dist).
    public static var smolLM2Candidates: [String] {
        var caches: [String] = []
        if let cache = ProcessInfo.processInfo.environment["SECURA_CACHE"], !cache.isEmpty { caches.append(cache) }
        caches.append(NSHomeDirectory() + "/.cache/secura-dist")
        return caches.map { $0 + "/models/SmolLM2-135M-Instruct.Q4_1.gguf" }
    }

    /// The SmolLM2 GGUF, or nil when it has not been fetched.
    public static var smolLM2: String? {
        smolLM2Candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
