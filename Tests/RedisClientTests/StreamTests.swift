import NIOCore
import RedisClient
import TestInfrastructure
import Testing

extension RedisIntegrationTests {
    @Suite struct Streams {
        @Test(arguments: [RedisProtocolVersion.resp3, .resp2])
        func consumerGroupLifecycle(_ version: RedisProtocolVersion) async throws {
            try await TestRedis.withClient(protocolVersion: version) { client in
                // given
                let stream = TestRedis.prefix() + "events"
                let created = try await client.xgroupCreate(stream, group: "workers", startID: "0")
                let again = try await client.xgroupCreate(stream, group: "workers")
                var ids: [String] = []
                for index in 0..<3 {
                    ids.append(try await client.xadd(stream, fields: [("n", index), ("kind", "disbursed")]))
                }

                // when
                let read = try await client.xreadgroup(
                    group: "workers",
                    consumer: "alice",
                    streams: [(stream, ">")],
                    count: 2
                )

                // then
                #expect(created)
                #expect(!again)
                #expect(try await client.xlen(stream) == 3)
                let entries = try #require(read[stream])
                #expect(entries.map(\.id) == Array(ids.prefix(2)))
                #expect(
                    entries.first?.fields == ["n": ByteBuffer(string: "0"), "kind": ByteBuffer(string: "disbursed")])

                let summary = try await client.xpendingSummary(stream, group: "workers")
                #expect(summary.count == 2)
                #expect(summary.smallest == ids[0])
                #expect(summary.largest == ids[1])
                #expect(summary.consumers == ["alice": 2])

                let pending = try await client.xpending(stream, group: "workers", count: 10, consumer: "alice")
                #expect(pending.map(\.id) == Array(ids.prefix(2)))
                #expect(pending.allSatisfy { $0.consumer == "alice" && $0.deliveries == 1 })

                #expect(try await client.xack(stream, group: "workers", ids: [ids[0]]) == 1)
                #expect(try await client.xack(stream, group: "workers", ids: [ids[0]]) == 0)

                // An entry idle longer than minIdle moves to another consumer.
                try await Task.sleep(for: .milliseconds(120))
                let idle = try await client.xpending(stream, group: "workers", count: 10, minIdle: .milliseconds(100))
                #expect(idle.map(\.id) == [ids[1]])
                #expect(idle.first.map { $0.idle >= .milliseconds(100) } == true)
                let claimed = try await client.xautoclaim(
                    stream,
                    group: "workers",
                    consumer: "bob",
                    minIdle: .milliseconds(100)
                )
                #expect(claimed.entries.map(\.id) == [ids[1]])
                #expect(claimed.next == "0-0")
                #expect(claimed.deleted.isEmpty)
                #expect(try await client.xpendingSummary(stream, group: "workers").consumers == ["bob": 1])

                try await client.xack(stream, group: "workers", ids: [ids[1]])
                let drained = try await client.xpendingSummary(stream, group: "workers")
                #expect(drained.count == 0)
                #expect(drained.smallest == nil)
                #expect(drained.consumers.isEmpty)
            }
        }

        @Test func xaddTrimsApproximatelyWithMaxLength() async throws {
            try await TestRedis.withClient { client in
                // given
                let stream = TestRedis.prefix() + "capped"

                // when
                for index in 0..<1000 {
                    try await client.xadd(stream, fields: [("i", index)], maxLength: 100)
                }
                let exact = try await client.xadd(stream, id: "9999999999999-0", fields: [("i", "last")])

                // then
                let length = try await client.xlen(stream)
                #expect(length >= 100 && length < 1000)
                #expect(exact == "9999999999999-0")
            }
        }

        @Test(arguments: [RedisProtocolVersion.resp3, .resp2])
        func blockingReadTimesOutEmpty(_ version: RedisProtocolVersion) async throws {
            try await TestRedis.withClient(protocolVersion: version) { client in
                // given
                let stream = TestRedis.prefix() + "quiet"
                try await client.xgroupCreate(stream, group: "g")
                let started = ContinuousClock.now

                // when
                let read = try await client.xreadgroup(
                    group: "g",
                    consumer: "c",
                    streams: [(stream, ">")],
                    block: .milliseconds(300)
                )

                // then
                #expect(read.isEmpty)
                #expect(ContinuousClock.now - started >= .milliseconds(290))
            }
        }

        @Test func blockingReadLongerThanCommandTimeoutIsWokenByConcurrentAdd() async throws {
            try await TestRedis.withClient(configure: { $0.commandTimeout = .seconds(2) }) { client in
                // given
                let stream = TestRedis.prefix() + "wake"
                try await client.xgroupCreate(stream, group: "g")

                // when
                async let read = client.xreadgroup(
                    group: "g",
                    consumer: "c",
                    streams: [(stream, ">")],
                    count: 1,
                    block: .seconds(5)
                )
                try await Task.sleep(for: .milliseconds(2500))
                let id = try await client.xadd(stream, fields: [("wake", "up")])

                // then
                let entries = try await read
                #expect(entries[stream]?.map(\.id) == [id])
                #expect(entries[stream]?.first?.fields["wake"] == ByteBuffer(string: "up"))
            }
        }
    }
}
