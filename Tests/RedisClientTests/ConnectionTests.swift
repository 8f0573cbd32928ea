import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import RedisClient
import TestInfrastructure
import Testing

extension RedisIntegrationTests {
    @Suite struct Connections {
        @Test func serverRestartFailsFastThenRecoversWithoutNewClient() async throws {
            try await TestRedis.withServer { server in
                var configuration = try RedisConfiguration(url: server.url)
                configuration.poolSize = 4
                try await TestRedis.run(configuration) { client in
                    // given traffic in flight
                    let key = TestRedis.prefix() + "restart"
                    try await client.set(key, to: "before")
                    let traffic = Task {
                        var failures = 0
                        for _ in 0..<2000 {
                            do { _ = try await client.get(key) } catch { failures += 1 }
                        }
                        return failures
                    }
                    try await Task.sleep(for: .milliseconds(50))

                    // when the server goes away
                    await server.stop()

                    // then every call fails fast with a connection error (typically in microseconds; the bound
                    // leaves room for a loaded machine running the whole suite in parallel)
                    let failingStarted = ContinuousClock.now
                    for _ in 0..<20 {
                        let started = ContinuousClock.now
                        let error = await expectRedisError { _ = try await client.get(key) }
                        #expect(ContinuousClock.now - started < .milliseconds(1500))
                        guard case .connection = error else {
                            Issue.record("expected .connection, got \(String(describing: error))")
                            break
                        }
                    }
                    #expect(ContinuousClock.now - failingStarted < .seconds(3))
                    _ = await traffic.value

                    // when it comes back on the same port, the same client recovers by itself
                    try await server.restart()
                    let deadline = ContinuousClock.now + .seconds(5)
                    var recovered = false
                    while ContinuousClock.now < deadline {
                        if (try? await client.set(key, to: "after")) == true {
                            recovered = true
                            break
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    #expect(recovered)
                    #expect(try await client.getString(key) == "after")
                }
            }
        }

        @Test func wrongPasswordIsAServerErrorAndDoesNotSpin() async throws {
            try await TestRedis.withServer(TestRedisServer.Options(password: "right")) { server in
                var wrong = try RedisConfiguration(url: "redis://:wrong@127.0.0.1:\(server.port)")
                wrong.connectTimeout = .seconds(1)
                try await TestRedis.run(wrong) { client in
                    // when
                    var codes: [String?] = []
                    var errors: [RedisError?] = []
                    let started = ContinuousClock.now
                    for _ in 0..<50 {
                        let error = await expectRedisError { try await client.ping() }
                        codes.append(error?.code)
                        errors.append(error)
                    }

                    // then
                    #expect(ContinuousClock.now - started < .seconds(2))
                    #expect(codes.allSatisfy { $0 == "WRONGPASS" }, "\(errors)")
                    let admin = try RedisConfiguration(url: server.url)
                    let received = try await TestRedis.run(admin) { admin in
                        let info = try await admin.send("INFO", "stats").string ?? ""
                        let line = info.split(whereSeparator: \.isNewline)
                            .first { $0.hasPrefix("total_connections_received:") }
                        return line.flatMap { Int($0.split(separator: ":")[1]) } ?? -1
                    }
                    // Back-off lets only a handful of the 50 calls reach the server.
                    #expect(received > 0 && received < 15)
                }
            }
        }

        @Test func aclUserWithPercentEncodedPasswordAndDatabaseAndClientName() async throws {
            let options = TestRedisServer.Options(aclUser: ["alice", "on", ">p@ss:w0rd", "~*", "&*", "+@all"])
            try await TestRedis.withServer(options) { server in
                for version in [RedisProtocolVersion.resp3, .resp2] {
                    var configuration = try RedisConfiguration(
                        url: "redis://alice:p%40ss%3Aw0rd@127.0.0.1:\(server.port)/2")
                    configuration.clientName = "rahat-test"
                    configuration.protocolVersion = version
                    try await TestRedis.run(configuration) { client in
                        // when
                        try await client.set("where", to: "db2")
                        let (user, name, resp) = try await client.withConnection { connection in
                            (
                                try await connection.send("ACL", "WHOAMI").string,
                                try await connection.send("CLIENT", "GETNAME").string,
                                connection.protocolVersion
                            )
                        }

                        // then
                        #expect(user == "alice")
                        #expect(name == "rahat-test")
                        #expect(resp == (version == .resp3 ? 3 : 2))
                        #expect(try await client.send("SELECT", 0) == .simpleString("OK"))
                    }
                }
                var zero = try RedisConfiguration(url: "redis://alice:p%40ss%3Aw0rd@127.0.0.1:\(server.port)")
                zero.poolSize = 1
                let inZero = try await TestRedis.run(zero) { try await $0.getString("where") }
                #expect(inZero == nil)
            }
        }

        @Test func serverWithoutHelloFallsBackToRESP2() async throws {
            let options = TestRedisServer.Options(password: "pw", extraArguments: ["--rename-command", "HELLO", ""])
            try await TestRedis.withServer(options) { server in
                try await TestRedis.run(try RedisConfiguration(url: server.url)) { client in
                    // when
                    let version = try await client.withConnection { $0.protocolVersion }
                    try await client.hset("h", fields: [("a", 1), ("b", 2)])

                    // then
                    #expect(version == 2)
                    #expect(
                        try await client.hgetall("h") == ["a": ByteBuffer(string: "1"), "b": ByteBuffer(string: "2")])
                }
            }
        }

        @Test func closedPortFailsFastWithConnectionError() async throws {
            // given
            let port = try await TestRedisServer.freePort()
            var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
            configuration.connectTimeout = .seconds(2)
            try await TestRedis.run(configuration) { client in
                // when
                let started = ContinuousClock.now
                let error = await expectRedisError { try await client.ping() }
                let secondStarted = ContinuousClock.now
                let second = await expectRedisError { try await client.ping() }

                // then
                #expect(secondStarted - started < .seconds(1))
                #expect(ContinuousClock.now - secondStarted < .milliseconds(100))
                guard case .connection = error, case .connection = second else {
                    Issue.record(
                        "expected .connection errors, got \(String(describing: error)), \(String(describing: second))")
                    return
                }
            }
        }

        // A silent listener stands in for an unroutable address: this sandbox may only send traffic to loopback.
        @Test func unresponsiveServerTimesOutWithinConnectTimeout() async throws {
            // given
            let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(silent.localAddress?.port)
            var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
            configuration.connectTimeout = .milliseconds(300)
            try await TestRedis.run(configuration) { client in
                // when
                let started = ContinuousClock.now
                let error = await expectRedisError { try await client.ping() }

                // then
                let elapsed = ContinuousClock.now - started
                #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(1))
                guard case .timeout = error else {
                    Issue.record("expected .timeout, got \(String(describing: error))")
                    return
                }
            }
            try await silent.close()
        }

        @Test func commandTimeoutClosesConnectionAndNextCommandGetsItsOwnReply() async throws {
            try await TestRedis.withClient(configure: {
                $0.commandTimeout = .seconds(1)
                $0.poolSize = 1
            }) { client in
                // given
                let key = TestRedis.prefix() + "list"
                try await client.set(key + ":value", to: "mine")

                // when a command gets no reply in time (BLPOP without the blocking helper's extra time)
                let started = ContinuousClock.now
                let error = await expectRedisError { _ = try await client.send("BLPOP", key, 3) }
                let elapsed = ContinuousClock.now - started
                _ = try await client.send("RPUSH", key, "late")

                // then
                guard case .timeout = error else {
                    Issue.record("expected .timeout, got \(String(describing: error))")
                    return
                }
                #expect(elapsed >= .milliseconds(990) && elapsed < .milliseconds(2500))
                #expect(try await client.getString(key + ":value") == "mine")
                #expect(try await client.send("ECHO", "own reply") == .bulkString(ByteBuffer(string: "own reply")))
                #expect(try await client.send("LLEN", key) == .integer(1))
            }
        }

        @Test func debugSleepTimesOutOnDedicatedServer() async throws {
            try await TestRedis.withServer { server in
                var configuration = try RedisConfiguration(url: server.url)
                configuration.commandTimeout = .milliseconds(400)
                try await TestRedis.run(configuration) { client in
                    // when
                    let error = await expectRedisError { _ = try await client.send("DEBUG", "SLEEP", 1) }
                    try await Task.sleep(for: .seconds(1))

                    // then
                    guard case .timeout = error else {
                        Issue.record("expected .timeout, got \(String(describing: error))")
                        return
                    }
                    #expect(try await client.send("ECHO", "next") == .bulkString(ByteBuffer(string: "next")))
                }
            }
        }

        @Test func idleConnectionKilledServerSideIsReplacedByHealthCheck() async throws {
            try await TestRedis.withServer { server in
                var configuration = try RedisConfiguration(url: server.url)
                configuration.healthCheckInterval = .milliseconds(100)
                configuration.poolSize = 1
                configuration.clientName = "victim"
                try await TestRedis.run(configuration) { client in
                    // given
                    try await client.ping()
                    try await TestRedis.run(try RedisConfiguration(url: server.url)) { admin in
                        let killed = try await admin.send("CLIENT", "KILL", "USER", "default", "SKIPME", "yes")
                        #expect(killed.int == 1)
                    }
                    try await Task.sleep(for: .milliseconds(150))

                    // when
                    let reply = try await client.send("CLIENT", "GETNAME")

                    // then
                    #expect(reply.string == "victim")
                }
            }
        }

        @Test func shutdownFailsInFlightAndLaterCallsWithClosed() async throws {
            try await TestRedis.withClient { client in
                // given
                let key = TestRedis.prefix() + "blocked"
                let blocked = Task {
                    try await client.xreadgroup(group: "g", consumer: "c", streams: [(key, ">")], block: .seconds(5))
                }
                try await client.xgroupCreate(key, group: "g")
                try await Task.sleep(for: .milliseconds(100))

                // when
                await client.shutdown()
                await client.shutdown()

                // then
                let inFlight = await blocked.result
                #expect(throws: RedisError.closed) { try inFlight.get() }
                let later = await expectRedisError { try await client.ping() }
                #expect(later == .closed)
            }
        }

        @Test func tlsConnectionWithTrustedSelfSignedCertificate() async throws {
            try await TestRedis.withServer(TestRedisServer.Options(tls: true)) { server in
                // given
                let certificatePath = try #require(server.tlsFiles?.certificate)
                var configuration = try RedisConfiguration(url: server.url)
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificatePath))
                configuration.tlsConfiguration = tls
                #expect(configuration.tls)

                // when
                let value = try await TestRedis.run(configuration) { client in
                    try await client.set("secure", to: "yes")
                    return try await client.getString("secure")
                }

                // then
                #expect(value == "yes")
                // The default trust roots do not know the self-signed certificate.
                var untrusting = configuration
                untrusting.tlsConfiguration = nil
                let error = try await TestRedis.run(untrusting) { client in
                    await expectRedisError { try await client.ping() }
                }
                guard case .connection = error else {
                    Issue.record("expected .connection, got \(String(describing: error))")
                    return
                }
            }
        }
    }
}
