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
