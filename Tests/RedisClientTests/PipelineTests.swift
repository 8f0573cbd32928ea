import NIOCore
import RedisClient
import Synchronization
import TestInfrastructure
import Testing

extension RedisIntegrationTests {
    @Suite struct Pipelining {
        @Test func tenThousandCommandsInOnePipelineReturnInOrder() async throws {
            try await TestRedis.withClient { client in
                // given
                let key = TestRedis.prefix() + "counter"
                let commands = (0..<10_000).map { _ in RedisCommand("INCR", key) }

                // when
                let results = try await client.pipeline(commands)

                // then
                #expect(results.count == 10_000)
                let values = results.map { try? $0.get().int }
                #expect(values == (1...10_000).map { Optional($0) })
            }
        }

        @Test func pipelineReportsEachCommandsOutcome() async throws {
            try await TestRedis.withClient(protocolVersion: .resp2) { client in
                // given
                let key = TestRedis.prefix() + "mixed"

                // when
                let results = try await client.pipeline([
                    RedisCommand("SET", key, "text"), RedisCommand("INCR", key), RedisCommand("GET", key),
                ])

                // then
                #expect(try results[0].get() == .simpleString("OK"))
                #expect(throws: RedisError.self) { try results[1].get() }
                #expect(try results[2].get() == .bulkString(ByteBuffer(string: "text")))
            }
        }

        @Test func twoHundredConcurrentSendsShareThePool() async throws {
            try await TestRedis.withClient(configure: { $0.poolSize = 4 }) { client in
                // given
                let prefix = TestRedis.prefix()

                // when
                let echoed = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            try await client.set(prefix + "\(index)", to: "value-\(index)")
                            return (index, try await client.getString(prefix + "\(index)"))
                        }
                    }
                    var results: [Int: String?] = [:]
                    for try await (index, value) in group { results[index] = value }
                    return results
                }

                // then
                #expect(echoed.count == 200)
                #expect(echoed.allSatisfy { $0.value == "value-\($0.key)" })
                let clients = try await client.send("CLIENT", "LIST").string ?? ""
                let names = clients.split(separator: "\n").count
                #expect(names >= 1)
            }
        }

        @Test func sharedCommandsDoNotQueueBehindBlockingReads() async throws {
            try await TestRedis.withClient(configure: { $0.poolSize = 1 }) { client in
                // given one connection, which a caller leases twice in a row for one-second blocking reads
                let prefix = TestRedis.prefix()
                let block = Duration.seconds(1)
                let clock = ContinuousClock()
                try await client.set(prefix + "value", to: "v")

                // when ten callers keep sending meanwhile
                let slowest = try await withThrowingTaskGroup(of: Duration?.self) { group in
                    let leasers = Finished()
                    group.addTask {
                        for _ in 0..<2 {
                            _ = try await client.withConnection { connection in
                                try await connection.send(
                                    RedisCommand("BLPOP", prefix + "empty", "1"), extraTime: block)
                            }
                        }
                        leasers.count.add(1, ordering: .relaxed)
                        return nil
                    }
                    for _ in 0..<10 {
                        group.addTask {
                            var slowest = Duration.zero
                            while leasers.count.load(ordering: .relaxed) < 1 {
                                let started = clock.now
                                _ = try await client.getString(prefix + "value")
                                slowest = max(slowest, clock.now - started)
                            }
                            return slowest
                        }
                    }
                    var slowest = Duration.zero
                    for try await result in group { slowest = max(slowest, result ?? .zero) }
                    return slowest
                }

                // then a shared command waits for the lease in progress at most: the caller that leases again
                // right after its first lease waits until the commands of callers already given the connection
                // are sent, which would otherwise sit behind its next blocking read
                #expect(slowest < block * 3 / 2, "a shared command took \(slowest)")
            }
        }

        @Test func exclusiveLeaseIsNotStarvedBySharedTraffic() async throws {
            try await TestRedis.withClient(configure: { $0.poolSize = 1 }) { client in
                // given one connection that 20 callers keep busy
                let key = TestRedis.prefix() + "busy"
                let clock = ContinuousClock()
                let stop = clock.now + .seconds(3)

                // when a caller asks for the connection for itself
                let waited = try await withThrowingTaskGroup(of: Duration?.self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            while clock.now < stop { _ = try await client.send("INCR", key) }
                            return nil
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(300))
                        let started = clock.now
                        _ = try await client.withConnection { try await $0.send("PING") }
                        return clock.now - started
                    }
                    var waited: Duration?
                    for try await result in group where result != nil { waited = result }
                    return waited
                }

                // then it got it while the traffic went on, not after
                let lease = try #require(waited)
                #expect(lease < .seconds(1), "the lease waited \(lease)")
            }
        }

        @Test(arguments: [RedisProtocolVersion.resp3, .resp2])
        func transactionReturnsExecResults(_ version: RedisProtocolVersion) async throws {
            try await TestRedis.withClient(protocolVersion: version) { client in
                // given
                let key = TestRedis.prefix() + "tx"

                // when
                let results = try await client.transaction([
                    RedisCommand("SET", key, "5"), RedisCommand("INCRBY", key, 10), RedisCommand("GET", key),
                ])

                // then
                #expect(results == [.simpleString("OK"), .integer(15), .bulkString(ByteBuffer(string: "15"))])
            }
        }

        @Test func transactionSurfacesFailingQueuedCommands() async throws {
            try await TestRedis.withClient { client in
                // given
                let key = TestRedis.prefix() + "tx"
                try await client.set(key, to: "text")

                // when a command fails at run time, the others still run and the failure is in its slot
                let results = try await client.transaction([
                    RedisCommand("INCR", key), RedisCommand("APPEND", key, "!"),
                ])
                // when a command is rejected while queuing, Redis discards the whole transaction
                let aborted = await expectRedisError {
                    _ = try await client.transaction([RedisCommand("SET", key, "x"), RedisCommand("NOSUCHCOMMAND")])
                }

                // then
                guard case .error(let message) = results.first else {
                    Issue.record("expected an error element, got \(results)")
                    return
                }
                #expect(message.hasPrefix("ERR"))
                #expect(results.last == .integer(5))
                #expect(aborted?.code == "EXECABORT")
                #expect(try await client.getString(key) == "text!")
            }
        }

        @Test func watchAbortsTransactionOnConcurrentChange() async throws {
            try await TestRedis.withClient { client in
                // given
                let key = TestRedis.prefix() + "watched"
                try await client.set(key, to: 1)

                // when
                let outcome = try await client.withConnection { connection in
                    _ = try await connection.send("WATCH", key)
                    try await client.set(key, to: 2)
                    return try await connection.transaction([RedisCommand("SET", key, 3)])
                }

                // then
                #expect(outcome == nil)
                #expect(try await client.getString(key) == "2")
            }
        }
    }
}

/// How many of a test's tasks have finished, shared with the tasks still running.
private final class Finished: Sendable {
    let count = Atomic<Int>(0)
}
