import NIOCore
package import RedisClient
import ServerKit

/// Browser sessions shared by every gateway replica: one key per session, expiring with it, so a
/// user's next request may go to any replica and a sign-out ends the session on all of them.
package final class RedisSessionStore: SessionStore {
    private let client: RedisClient
    private let keyPrefix: String

    /// A store keeping its sessions under `keyPrefix`.
    package init(client: RedisClient, keyPrefix: String = "rahat:session:") {
        self.client = client
        self.keyPrefix = keyPrefix
    }

    package func load(_ key: String) async throws -> [UInt8]? {
        try await client.get(keyPrefix + key).map { Array(buffer: $0) }
    }

    package func save(_ key: String, value: [UInt8], ttl: Duration) async throws {
        try await client.set(keyPrefix + key, to: value, expiration: ttl)
    }

    package func remove(_ key: String) async throws {
        try await client.delete([keyPrefix + key])
    }
}
