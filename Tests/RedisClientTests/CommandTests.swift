import NIOCore
import RedisClient
import TestInfrastructure
import Testing

extension RedisIntegrationTests {
    @Suite struct Strings {
        @Test(arguments: [RedisProtocolVersion.resp3, .resp2])
        func setGetWithExpiryAndConditions(_ version: RedisProtocolVersion) async throws {
            try await TestRedis.withClient(protocolVersion: version) { client in
                // given
                let key = TestRedis.prefix() + "greeting"

                // when
                let created = try await client.set(key, to: "hello", expiration: .seconds(30))
                let blockedByNX = try await client.set(key, to: "other", condition: .ifNotExists)
                let updatedByXX = try await client.set(key, to: "hi", expiration: .seconds(60), condition: .ifExists)
                let missingXX = try await client.set(key + ":missing", to: "x", condition: .ifExists)

                // then
                #expect(created)
                #expect(!blockedByNX)
                #expect(updatedByXX)
                #expect(!missingXX)
                #expect(try await client.getString(key) == "hi")
                #expect(try await client.get(key + ":missing") == nil)
                let ttl = try #require(try await client.timeToLive(key))
                #expect(ttl > .seconds(30) && ttl <= .seconds(60))
                #expect(try await client.timeToLive(key + ":missing") == nil)
            }
        }

        @Test(arguments: [RedisProtocolVersion.resp3, .resp2])
        func countersExpiryExistsAndDelete(_ version: RedisProtocolVersion) async throws {
            try await TestRedis.withClient(protocolVersion: version) { client in
                // given
                let prefix = TestRedis.prefix()
                try await client.set(prefix + "plain", to: 1)

                // when
                let first = try await client.increment(prefix + "counter")
                let second = try await client.increment(prefix + "counter", by: 41)
                let noExpiry = try await client.timeToLive(prefix + "counter")
                let expired = try await client.expire(prefix + "counter", after: .milliseconds(1500))
                let expireMissing = try await client.expire(prefix + "nothing", after: .seconds(1))

                // then
                #expect(first == 1)
                #expect(second == 42)
                #expect(noExpiry == nil)
                #expect(expired)
                #expect(!expireMissing)
                let ttl = try #require(try await client.timeToLive(prefix + "counter"))
                #expect(ttl > .zero && ttl <= .milliseconds(1500))
                #expect(try await client.exists([prefix + "counter", prefix + "plain", prefix + "nothing"]) == 2)
                #expect(try await client.delete([prefix + "counter", prefix + "plain", prefix + "nothing"]) == 2)
                #expect(try await client.exists([prefix + "counter"]) == 0)
            }
        }

        @Test func serverErrorsAreThrownWithTheirCode() async throws {
            try await TestRedis.withClient { client in
                // given
                let key = TestRedis.prefix() + "text"
                try await client.set(key, to: "not a number")

                // when
                let error = await expectRedisError { _ = try await client.increment(key) }

                // then
                #expect(error?.code == "ERR")
                #expect(error.map { "\($0)" }?.contains("not an integer") == true)
            }
        }

        @Test func tenMegabyteValueRoundTrips() async throws {
            try await TestRedis.withClient { client in
                // given
                let key = TestRedis.prefix() + "large"
                let pattern = ByteBuffer(bytes: (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 31) })
                var value = ByteBuffer()
                for _ in 0..<(10 * 1024 * 4) { value.writeImmutableBuffer(pattern) }

                // when
                try await client.set(key, to: value)
                let read = try await client.get(key)

                // then
                #expect(read?.readableBytes == value.readableBytes)
                #expect(read == value)
                try await client.delete([key])
            }
        }
    }

    @Suite struct Hashes {
        @Test(arguments: [RedisProtocolVersion.resp3, .resp2])
        func hashHelpers(_ version: RedisProtocolVersion) async throws {
            try await TestRedis.withClient(protocolVersion: version) { client in
                // given
                let key = TestRedis.prefix() + "beneficiary"

                // when
                let created = try await client.hset(key, fields: [("name", "Amina"), ("visits", 2), ("score", 1.5)])
                let updated = try await client.hset(key, fields: [("name", "Amina K")])
                let visits = try await client.hincrby(key, field: "visits", by: 3)
                let removed = try await client.hdel(key, fields: ["score", "absent"])

                // then
                #expect(created == 3)
                #expect(updated == 0)
                #expect(visits == 5)
                #expect(removed == 1)
                #expect(try await client.hget(key, field: "name") == ByteBuffer(string: "Amina K"))
                #expect(try await client.hget(key, field: "absent") == nil)
                let all = try await client.hgetall(key)
                #expect(all == ["name": ByteBuffer(string: "Amina K"), "visits": ByteBuffer(string: "5")])
                #expect(try await client.hgetall(key + ":missing").isEmpty)
            }
        }
    }

    @Suite struct SortedSets {
        @Test(arguments: [RedisProtocolVersion.resp3, .resp2])
        func sortedSetHelpers(_ version: RedisProtocolVersion) async throws {
            try await TestRedis.withClient(protocolVersion: version) { client in
                // given
                let key = TestRedis.prefix() + "queue"

                // when
                let added = try await client.zadd(
                    key,
                    members: [(1, "a"), (2.5, "b"), (5, "c"), (-.infinity, "low"), (10, "d")]
                )
                let readded = try await client.zadd(key, members: [(3, "b")])

                // then
                #expect(added == 5)
                #expect(readded == 0)
                #expect(try await client.zcard(key) == 5)
                #expect(try await client.zscore(key, member: "b") == 3)
                #expect(try await client.zscore(key, member: "low") == -.infinity)
                #expect(try await client.zscore(key, member: "absent") == nil)
                #expect(try await client.zrangeByScore(key, min: "(1", max: "5") == ["b", "c"])
                #expect(try await client.zrangeByScore(key, min: "-inf", max: "+inf", limit: (1, 2)) == ["a", "b"])
                let ranked = try await client.zrangeWithScores(key, start: 1, stop: 2)
                #expect(ranked.map(\.member) == ["a", "b"])
                #expect(ranked.map(\.score) == [1, 3])
                #expect(try await client.zrem(key, members: ["a", "absent"]) == 1)
                #expect(try await client.zcard(key) == 4)
            }
        }
    }

    @Suite struct Scripts {
        @Test(arguments: [RedisProtocolVersion.resp3, .resp2])
        func evalShaLoadsScriptAfterFlush(_ version: RedisProtocolVersion) async throws {
            // Its own server: SCRIPT FLUSH on a shared one would pull scripts from under other tests.
            try await TestRedis.withDedicatedClient(protocolVersion: version) { client in
                // given
                let key = TestRedis.prefix() + "scripted"
                let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) + 0")
                _ = try await client.send("SCRIPT", "FLUSH")

                // when
                let first = try await client.evalScript(script, keys: [key], arguments: [5])
                let second = try await client.evalScript(script, keys: [key], arguments: [10])

                // then
                #expect(first == .integer(5))
                #expect(second == .integer(15))
                let cached = try await client.send("SCRIPT", "EXISTS", script.sha1)
                #expect(cached.array == [.integer(1)])
            }
        }

        @Test func scriptErrorsSurfaceAsServerErrors() async throws {
            try await TestRedis.withClient { client in
                let error = await expectRedisError {
                    _ = try await client.evalScript(
                        RedisScript("return redis.error_reply('BOOM nope')"), keys: [], arguments: [])
                }
                #expect(error?.code == "BOOM")
            }
        }
    }
}
