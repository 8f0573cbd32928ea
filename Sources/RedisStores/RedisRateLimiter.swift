package import RedisClient
package import ServerKit
import SharedModels

/// The limiter every gateway replica shares: ``GCRA`` as one Lua script, so each check is one
/// round trip and atomic, timed by the Redis server's clock so replicas' clocks need not agree.
package final class RedisRateLimiter: RateLimiter {
    private let client: RedisClient
    private let keyPrefix: String

    /// A limiter storing its TATs under `keyPrefix`.
    package init(client: RedisClient, keyPrefix: String = "rahat:ratelimit:") {
        self.client = client
        self.keyPrefix = keyPrefix
    }

    /// ``GCRA/evaluate(tat:now:limit:cost:)`` in Lua. TATs are stored with `%.0f`: Lua's default
    /// number formatting keeps 14 digits, and microseconds since 1970 need 16.
    static let script = RedisScript(
        """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
        local period = tonumber(ARGV[1])
        local limit = tonumber(ARGV[2])
        local cost = tonumber(ARGV[3])
        local emission = math.max(1, math.floor(period / limit))
        local tat = tonumber(redis.call('GET', KEYS[1])) or now
        if tat < now then tat = now end
        local new_tat = math.max(tat + emission * cost, now)
        local allow_at = new_tat - period
        if cost > 0 and now < allow_at then
          return {0, 0, allow_at - now, tat - now}
        end
        if cost ~= 0 then
          if new_tat > now then
            redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
          else
            redis.call('DEL', KEYS[1])
          end
        end
        local remaining = math.min(limit, math.max(0, math.floor((now - allow_at) / emission)))
        return {1, remaining, 0, new_tat - now}
        """)

    package func check(_ key: String, limit: RateLimit, cost: Int) async throws -> RateLimitDecision {
        let reply = try await client.evalScript(
            Self.script, keys: [keyPrefix + key],
            arguments: [Int(limit.period.microseconds), limit.limit, cost])
        guard let values = reply.array?.compactMap(\.int), values.count == 4 else {
            throw RedisError.unexpectedReply("rate limit script answered \(reply)")
        }
        return RateLimitDecision(
            allowed: values[0] == 1, limit: limit.limit, remaining: values[1],
            retryAfter: .microseconds(values[2]), resetAfter: .microseconds(values[3]))
    }
}
