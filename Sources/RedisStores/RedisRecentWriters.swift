package import RedisClient
import ServerKit

/// Recent writers shared by every gateway replica: one key per caller, expiring with its window,
/// so a read through another replica than the write's still goes to the primary.
package final class RedisRecentWriters: RecentWriters {
    private let client: RedisClient
    private let keyPrefix: String

    /// A store keeping its marks under `keyPrefix`.
    package init(client: RedisClient, keyPrefix: String = "rahat:wrote:") {
        self.client = client
        self.keyPrefix = keyPrefix
    }

    package func record(_ caller: String, for window: Duration) async throws {
        _ = try await client.set(keyPrefix + caller, to: "1", expiration: window)
    }

    package func contains(_ caller: String) async throws -> Bool {
        try await client.exists([keyPrefix + caller]) > 0
    }
}
