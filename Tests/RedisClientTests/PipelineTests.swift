import NIOCore
import RedisClient
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
