import Foundation
import Messaging
import RedisClient
import TestInfrastructure
import Testing

/// Event streams shrink only by what every consumer group has acknowledged.
@Suite("Event stream trimming", .enabled(if: SharedStateBackend.available.contains(.redis)))
struct StreamTrimmerTests {
    @Test("entries every group acknowledged go; a slow group's unread and unacknowledged entries stay")
    func keepsWhatAGroupStillNeeds() async throws {
        try await TestRedis.withClient { client in
            // given 600 events, a group that acknowledged all, and one that acknowledged 250 of the 300 it read
            let stream = RedisEventPublisher.streamKey(topic: "rahat.test.trim-\(UUID().uuidString.lowercased())")
            var ids: [String] = []
            for number in 0..<600 { ids.append(try await client.xadd(stream, fields: [("n", number)])) }
            for group in ["fast", "slow", "stalled"] {
                try await client.xgroupCreate(stream, group: group, startID: "0")
            }
            let all = try await client.xreadgroup(group: "fast", consumer: "f", streams: [(stream, ">")], count: 600)
            _ = try await client.xack(stream, group: "fast", ids: all[stream, default: []].map(\.id))
            let some = try await client.xreadgroup(group: "slow", consumer: "s", streams: [(stream, ">")], count: 300)
            _ = try await client.xack(stream, group: "slow", ids: some[stream, default: []].prefix(250).map(\.id))
            let trimmer = RedisStreamTrimmer(client: client, logger: .test)

            // when a third group has read nothing yet
            _ = try await trimmer.trimOnce()
            // then nothing goes
            #expect(try await client.xlen(stream) == 600)

            // when that group catches up
            let rest = try await client.xreadgroup(
                group: "stalled", consumer: "t", streams: [(stream, ">")], count: 600)
            _ = try await client.xack(stream, group: "stalled", ids: rest[stream, default: []].map(\.id))
            _ = try await trimmer.trimOnce()
            // then whole stream nodes before the slow group's oldest unacknowledged entry go, and
            // everything from that entry on stays
            let length = try await client.xlen(stream)
            #expect(length < 600)
            #expect(length >= 350)
            let kept = try await client.send("XRANGE", stream, ids[250], "+")
            #expect(kept.array?.count == 350)
            _ = try await client.send("DEL", stream)
        }
    }

    @Test("a trimmer whose task is cancelled stops, rather than retrying at once forever")
    func stopsWhenCancelled() async throws {
        try await TestRedis.withClient { client in
            // given a trimmer running every 10 ms
            let trimmer = RedisStreamTrimmer(client: client, interval: .milliseconds(10), logger: .test)
            let running = Task { try await trimmer.run() }
            try await Task.sleep(for: .milliseconds(50))
            // when its task is cancelled, as a service group that fails to start cancels its services
            running.cancel()
            let stopped = Stopped()
            Task {
                _ = await running.result
                await stopped.mark()
            }
            // then it returns
            let deadline = ContinuousClock.now + .seconds(5)
            while await !stopped.done, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(await stopped.done)
        }
    }
}

/// Whether a task has finished.
private actor Stopped {
    var done = false
    func mark() { done = true }
}
