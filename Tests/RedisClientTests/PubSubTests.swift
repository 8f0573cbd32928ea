import NIOCore
import RedisClient
import TestInfrastructure
import Testing

extension RedisIntegrationTests {
    @Suite struct PubSub {
        @Test(arguments: [RedisProtocolVersion.resp3, .resp2])
        func subscriberReceivesMessagesAndUnsubscribesOnClose(_ version: RedisProtocolVersion) async throws {
            try await TestRedis.withClient(protocolVersion: version) { client in
                // given
                let channel = TestRedis.prefix() + "news"
                let other = TestRedis.prefix() + "other"
                let subscription = try await client.subscribe(to: [channel, other])

                // when
                let receivers = try await client.publish(channel, message: "first")
                try await client.publish(other, message: ByteBuffer(string: "second"))
                var received: [RedisPubSubMessage] = []
                for try await message in subscription {
                    received.append(message)
                    if received.count == 2 { break }
                }
                await subscription.close()

                // then
                #expect(receivers == 1)
                #expect(received.map(\.channel) == [channel, other])
                #expect(received.map { String(buffer: $0.message) } == ["first", "second"])
                let deadline = ContinuousClock.now + .seconds(2)
                var remaining = -1
                while ContinuousClock.now < deadline {
                    let counts = try await client.send("PUBSUB", "NUMSUB", channel).array ?? []
                    remaining = counts.count == 2 ? counts[1].int ?? -1 : -1
                    if remaining == 0 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(remaining == 0)
                #expect(try await client.publish(channel, message: "after close") == 0)
            }
        }

        @Test func breakingOutOfIterationUnsubscribes() async throws {
            try await TestRedis.withClient { client in
                // given
                let channel = TestRedis.prefix() + "once"
                let subscription = try await client.subscribe(to: [channel])
                try await client.publish(channel, message: "only")

                // when
                var first: String?
                for try await message in subscription {
                    first = String(buffer: message.message)
                    break
                }

                // then
                #expect(first == "only")
                let deadline = ContinuousClock.now + .seconds(2)
                var receivers = -1
                while ContinuousClock.now < deadline {
                    receivers = try await client.publish(channel, message: "ignored")
                    if receivers == 0 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(receivers == 0)
            }
        }
    }
}
