import NIOCore
package import RedisClient
package import ServerKit
import SharedModels

/// The cache shared by every replica: values and leases in Redis, each operation one round trip.
///
/// A key's lease lives beside it as `<key>:lease`; callers put the variable part of a key in
/// `{…}` so a value and its lease share a cluster slot, as scripts require.
package final class RedisCacheStore: CacheStore {
    private let client: RedisClient

    /// A store over `client`.
    package init(client: RedisClient) {
        self.client = client
    }

    /// GET, and on a miss take the lease in the same step so no invalidation can slip between.
    /// Only a free lease is taken: replacing a held one would let a stream of readers on several
    /// replicas refuse each other's fills for as long as the traffic lasts. Answers the value,
    /// 1 for a miss with the lease, 0 for a miss without.
    static let lookupScript = RedisScript(
        """
        local value = redis.call('GET', KEYS[1])
        if value then return value end
        if redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
        return 0
        """)

    /// SET only while the caller's lease is still the key's lease.
    static let fillScript = RedisScript(
        """
        if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        redis.call('DEL', KEYS[2])
        return 1
        """)

    package func lookup(_ key: String) async throws -> CacheLookup {
        let lease = CacheLease.make()
        let reply = try await client.evalScript(
            Self.lookupScript, keys: [key, key + ":lease"],
            arguments: [lease.token, Int(CacheLease.lifetime.milliseconds)])
        switch reply {
        case .bulkString(let buffer): return .hit(Array(buffer.readableBytesView))
        case .integer(1): return .miss(lease)
        default: return .miss(nil)
        }
    }

    package func fill(_ key: String, value: [UInt8], ttl: Duration, lease: CacheLease) async throws -> Bool {
        let reply = try await client.evalScript(
            Self.fillScript, keys: [key, key + ":lease"],
            arguments: [lease.token, value, Int(max(1, ttl.milliseconds))])
        return reply.int == 1
    }

    package func invalidate(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        _ = try await client.delete(keys.flatMap { [$0, $0 + ":lease"] })
    }
}
