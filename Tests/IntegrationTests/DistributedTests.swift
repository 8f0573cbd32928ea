import AuthAPI
import AuthService
import C2CService
import CoreService
import FluentKit
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LedgerService
import Messaging
import NIOCore
import Persistence
import RahatApp
import SQLKit
import ServerKit
import ServiceLifecycle
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// `rahat serve auth` and `rahat serve gateway` as separate servers talking gRPC over HTTP/2 on
/// loopback, against real PostgreSQL, driven over real HTTP.
@Suite("Distributed mode", .enabled(if: DatabaseEngine.available.contains(.postgres)))
struct DistributedTests {
    /// Calls between the processes may wait a minute: the whole suite shares two cores, and a
    /// call that takes ten seconds there is slow, not broken.
    static let rpcTimeout = "60000"

    /// Where distributed c2c and workers write text messages: no SMS gateway runs in the tests.
    static let smsFile = FileManager.default.temporaryDirectory
        .appendingPathComponent("rahat-distributed-sms-\(UUID().uuidString).jsonl").path

    /// Starts the auth process on free ports; returns its gRPC port and a way to stop it.
    static func startAuth(
        databaseURL: URL, extra: [String: String] = [:]
    ) async throws -> (
        port: Int, group: ServiceGroup, task: Task<Void, any Error>
    ) {
        let environment = [
            "DATABASE_URL": databaseURL.absoluteString,
            "RAHAT_AUTH_GRPC_PORT": "0",
            "RAHAT_RPC_TIMEOUT_MS": Self.rpcTimeout,
            "RAHAT_AUTH_HTTP_PORT": "0",
            "RAHAT_BCRYPT_COST": "10",
            "RAHAT_ADMIN_EMAIL": ServiceHarness.adminEmail,
            "RAHAT_ADMIN_PASSWORD": ServiceHarness.adminPassword,
            "RAHAT_SERVICE_SECRET": ServiceHarness.serviceSecret,
            // The seal the in-process harness uses, so a token it issues over this database verifies.
            "RAHAT_JWT_SEAL_KEY": Data(repeating: 5, count: 32).base64EncodedString(),
        ].merging(extra) { _, new in new }
        let configuration = try AuthProcessConfiguration.load(from: ConfigurationSource(environment: environment))
        return try await launch { onPort in
            try await Platform.authProcess(configuration: configuration, logger: .test, onGRPCRunning: onPort).services
        }
    }

    /// Starts the core process on free ports, pointed at the auth service for its keys.
    static func startCore(
        databaseURL: URL, authPort: Int, extra: [String: String] = [:]
    ) async throws -> (
        port: Int, group: ServiceGroup, task: Task<Void, any Error>
    ) {
        let configuration = try CoreProcessConfiguration.load(
            from: ConfigurationSource(
                environment: [
                    "DATABASE_URL": databaseURL.absoluteString,
                    "RAHAT_CORE_GRPC_PORT": "0",
                    "RAHAT_RPC_TIMEOUT_MS": Self.rpcTimeout,
                    "RAHAT_CORE_HTTP_PORT": "0",
                    "RAHAT_PII_KEYS": "k1:\(Data(repeating: 7, count: 32).base64EncodedString())",
                    "RAHAT_PII_INDEX_KEY": Data(repeating: 9, count: 32).base64EncodedString(),
                    "RAHAT_AUTH_ADDRESS": "127.0.0.1:\(authPort)",
                    "RAHAT_SMS_FILE": Self.smsFile,
                ].merging(extra) { $1 })
        )
        return try await launch { onPort in
            try await Platform.coreProcess(configuration: configuration, logger: .test, onGRPCRunning: onPort)
        }
    }

    /// Starts the ledger process on free ports, pointed at the auth service for its keys.
    static func startLedger(
        databaseURL: URL, authPort: Int, extra: [String: String] = [:]
    ) async throws -> (
        port: Int, group: ServiceGroup, task: Task<Void, any Error>
    ) {
        let configuration = try LedgerProcessConfiguration.load(
            from: ConfigurationSource(
                environment: [
                    "DATABASE_URL": databaseURL.absoluteString,
                    "RAHAT_LEDGER_GRPC_PORT": "0",
                    "RAHAT_LEDGER_HTTP_PORT": "0",
                    "RAHAT_RPC_TIMEOUT_MS": Self.rpcTimeout,
                    "RAHAT_AUTH_ADDRESS": "127.0.0.1:\(authPort)",
                ].merging(extra) { $1 })
        )
        return try await launch { onPort in
            try await Platform.ledgerProcess(configuration: configuration, logger: .test, onGRPCRunning: onPort)
        }
    }

    /// Starts project-c2c on free ports, pointed at the auth, core and ledger processes.
    static func startC2C(
        databaseURL: URL, authPort: Int, corePort: Int, ledgerPort: Int, extra: [String: String] = [:]
    ) async throws -> (
        port: Int, group: ServiceGroup, task: Task<Void, any Error>
    ) {
        let configuration = try C2CProcessConfiguration.load(
            from: ConfigurationSource(
                environment: [
                    "DATABASE_URL": databaseURL.absoluteString,
                    "RAHAT_C2C_GRPC_PORT": "0",
                    "RAHAT_C2C_HTTP_PORT": "0",
                    "RAHAT_RPC_TIMEOUT_MS": Self.rpcTimeout,
                    "RAHAT_SERVICE_SECRET": ServiceHarness.serviceSecret,
                    "RAHAT_AUTH_ADDRESS": "127.0.0.1:\(authPort)",
                    "RAHAT_CORE_ADDRESS": "127.0.0.1:\(corePort)",
                    "RAHAT_LEDGER_ADDRESS": "127.0.0.1:\(ledgerPort)",
                    "RAHAT_SMS_FILE": Self.smsFile,
                ].merging(extra) { $1 })
        )
        return try await launch { onPort in
            try await Platform.c2cProcess(configuration: configuration, logger: .test, onGRPCRunning: onPort)
        }
    }

    /// Runs the services `build` makes in a group of their own, once the one it hands the
    /// callback to reports its port.
    static func launch(
        _ build: (@escaping @Sendable (Int) async -> Void) async throws -> [any Service]
    ) async throws -> (port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let services = try await build { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: .test))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return (port, group, task)
    }

    /// Starts a worker process (`rahat serve worker`) on the Redis job queue.
    static func startWorker(
        databaseURL: URL, authPort: Int, redis: [String: String], extra: [String: String] = [:]
    ) async throws -> (group: ServiceGroup, task: Task<Void, any Error>) {
        let configuration = try WorkerProcessConfiguration.load(
            from: ConfigurationSource(
                environment: [
                    "DATABASE_URL": databaseURL.absoluteString,
                    "RAHAT_WORKER_HTTP_PORT": "0",
                    "RAHAT_RPC_TIMEOUT_MS": Self.rpcTimeout,
                    "RAHAT_PII_KEYS": "k1:\(Data(repeating: 7, count: 32).base64EncodedString())",
                    "RAHAT_PII_INDEX_KEY": Data(repeating: 9, count: 32).base64EncodedString(),
                    "RAHAT_AUTH_ADDRESS": "127.0.0.1:\(authPort)",
                    "RAHAT_SERVICE_SECRET": ServiceHarness.serviceSecret,
                    "RAHAT_SMS_FILE": Self.smsFile,
                ].merging(redis) { $1 }.merging(extra) { $1 })
        )
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let services = try await Platform.workerProcess(
            configuration: configuration, logger: .test, onOpsRunning: { port in continuation.yield(port) })
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: .test))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard await iterator.next() != nil else { throw CancellationError() }
        return (group, task)
    }

    /// A gateway in front of the given processes; without a ledger or c2c port, calls to them find
    /// nothing listening (for tests that do not reach them).
    static func gatewayConfiguration(
        authPort: Int, corePort: Int, ledgerPort: Int? = nil, c2cPort: Int? = nil, extra: [String: String] = [:]
    ) throws -> GatewayProcessConfiguration {
        try GatewayProcessConfiguration.load(
            from: ConfigurationSource(
                environment: [
                    "RAHAT_AUTH_ADDRESS": "127.0.0.1:\(authPort)",
                    "RAHAT_CORE_ADDRESS": "localhost:\(corePort)",
                    "RAHAT_LEDGER_ADDRESS": "127.0.0.1:\(ledgerPort ?? 1)",
                    "RAHAT_C2C_ADDRESS": "127.0.0.1:\(c2cPort ?? 1)",
                    "RAHAT_HTTP_PORT": "0",
                    "RAHAT_GATEWAY_OPS_PORT": "0",
                    "RAHAT_RPC_TIMEOUT_MS": Self.rpcTimeout,
                ].merging(extra) { $1 })
        )
    }

    /// Gives `database` one role per service (`rahat database roles`, named after the database so
    /// that tests running at once do not share roles) and returns the settings that make each
    /// process log in as its own.
    static func serviceRoles(_ database: TestDatabase) async throws -> [String: String] {
        let name = try #require(database.postgresName)
        try await database.executeAsSuperuser(DatabaseRoles.statements(database: name, prefix: "\(name)_"))
        var environment: [String: String] = [:]
        for service in ["auth", "core", "ledger", "c2c"] {
            let url = try #require(database.url(as: "\(name)_\(service)"))
            environment["RAHAT_\(service.uppercased())_DATABASE_URL"] = url.absoluteString
        }
        return environment
    }

    @Test("a distributed gateway serves its metrics on its operations port, not on the public listener")
    func metricsOffThePublicListener() async throws {
        // given a gateway process (its services need not be up for this)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let gateway = try Platform.gatewayProcess(
            configuration: Self.gatewayConfiguration(authPort: 1, corePort: 1), logger: .test,
            onOpsRunning: { port in continuation.yield(port) })
        try await GatewayHarness.run(gateway, testing: .live) { client in
            var iterator = ports.makeAsyncIterator()
            let opsPort = try #require(await iterator.next())
            // when
            let publicMetrics = try await client.send(.get, "/metrics")
            let opsMetrics = try await RawHTTPClient.send(
                port: opsPort, head: "GET /metrics HTTP/1.1\r\nHost: localhost", chunk: ByteBuffer(), repeats: 0,
                chunked: false)
            let opsHealth = try await RawHTTPClient.send(
                port: opsPort, head: "GET /health HTTP/1.1\r\nHost: localhost", chunk: ByteBuffer(), repeats: 0,
                chunked: false)
            // then
            #expect(publicMetrics.status == .notFound, "\(publicMetrics)")
            #expect(opsMetrics == 200)
            #expect(opsHealth == 200)
        }
    }

    @Test(
        "with REDIS_URL, gateway replicas share one count per caller and the core's cached reads stay fresh",
        .enabled(if: SharedStateBackend.available.contains(.redis)))
    func sharedRedis() async throws {
        let redisURL = try #require(TestRedis.url)
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            let auth = try await Self.startAuth(databaseURL: url)
            // Its own job queue: no other test's worker takes the checks of its beneficiary.
            let jobs = TestRedis.jobsKeyPrefix()
            let core = try await Self.startCore(
                databaseURL: url, authPort: auth.port,
                extra: ["REDIS_URL": redisURL, "RAHAT_REDIS_TIMEOUT_MS": "10000", "RAHAT_JOBS_KEY_PREFIX": jobs])
            defer {
                auth.task.cancel()
                core.task.cancel()
            }
            let shared = ["REDIS_URL": redisURL, "RAHAT_REDIS_TIMEOUT_MS": "10000", "RAHAT_RATE_LIMIT_READ": "4/1h"]
            let first = try Platform.gatewayProcess(
                configuration: Self.gatewayConfiguration(authPort: auth.port, corePort: core.port, extra: shared),
                logger: .test)
            let second = try Platform.gatewayProcess(
                configuration: Self.gatewayConfiguration(authPort: auth.port, corePort: core.port, extra: shared),
                logger: .test)
            try await GatewayHarness.run(first, testing: .live) { one in
                try await GatewayHarness.run(second, testing: .live) { two in
                    // given
                    let tokens = try await one.login()
                    let created = try await one.send(
                        .post, "/v1/beneficiaries", json: ["name": "Sunita Rai", "gender": "female"],
                        bearer: tokens.access)
                    let id = try #require(try created.json["id"] as? String, "\(created)")
                    // when: reads alternate between the replicas
                    let cached = try await two.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                    let updated = try await one.send(
                        .patch, "/v1/beneficiaries/\(id)", json: ["location": "Ilam"], bearer: tokens.access)
                    let fresh = try await two.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                    let third = try await one.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                    let fourth = try await two.send(.get, "/v1/auth/me", bearer: tokens.access)
                    let refused = try await one.send(.get, "/v1/auth/me", bearer: tokens.access)
                    // then
                    #expect(cached.status == .ok)
                    #expect(updated.status == .ok)
                    #expect(try fresh.json["location"] as? String == "Ilam")
                    #expect(third.headers[HTTPField.Name("RateLimit-Remaining")!] == "1")
                    #expect(fourth.status == .ok)
                    #expect(refused.status == .tooManyRequests)
                }
            }
        }
    }

    @Test(
        "the walkthrough works across processes over HTTP/2, imports run by a worker",
        .enabled(if: SharedStateBackend.available.contains(.redis)))
    func walkthrough() async throws {
        let redisURL = try #require(TestRedis.url)
        // This test's own queue on the shared test server: other tests' workers never see its jobs.
        let redis = [
            "REDIS_URL": redisURL, "RAHAT_REDIS_TIMEOUT_MS": "10000",
            "RAHAT_JOBS_KEY_PREFIX": TestRedis.jobsKeyPrefix(),
        ]
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            // Each process logs in as its service's own role, which can reach only its schema.
            let roles = try await Self.serviceRoles(database)
            let auth = try await Self.startAuth(databaseURL: url, extra: roles)
            let core = try await Self.startCore(
                databaseURL: url, authPort: auth.port, extra: redis.merging(roles) { $1 })
            let ledger = try await Self.startLedger(databaseURL: url, authPort: auth.port, extra: roles)
            let c2c = try await Self.startC2C(
                databaseURL: url, authPort: auth.port, corePort: core.port, ledgerPort: ledger.port, extra: roles)
            let worker = try await Self.startWorker(
                databaseURL: url, authPort: auth.port, redis: redis, extra: roles)
            defer {
                auth.task.cancel()
                core.task.cancel()
                ledger.task.cancel()
                c2c.task.cancel()
                worker.task.cancel()
            }
            let gateway = try Platform.gatewayProcess(
                configuration: Self.gatewayConfiguration(
                    authPort: auth.port, corePort: core.port, ledgerPort: ledger.port, c2cPort: c2c.port,
                    extra: redis),
                logger: .test
            )
            try await GatewayHarness.run(gateway, testing: .live) { client in
                // given
                let tokens = try await client.login()
                // when
                let me = try await client.send(.get, "/v1/auth/me", bearer: tokens.access)
                let created = try await client.send(
                    .post,
                    "/v1/api-keys",
                    json: ["name": "partner", "permissions": ["user:read"]],
                    bearer: tokens.access
                )
                let key = try #require(try created.json["key"] as? String)
                let withKey = try await client.send(.get, "/v1/users", headers: [.authorization: "ApiKey \(key)"])
                let readiness = try await client.readiness()
                let project = try await client.send(
                    .post,
                    "/v1/projects",
                    json: ["name": "Flood response", "type": "c2c", "asset": "NPR", "assetScale": 2],
                    bearer: tokens.access
                )
                let projectID = try #require(try project.json["id"] as? String)
                let fetched = try await client.send(.get, "/v1/projects/\(projectID)", bearer: tokens.access)
                // The core service creates the vendor's login at the auth service, over HTTP/2.
                let vendor = try await client.send(
                    .post,
                    "/v1/vendors",
                    json: [
                        "name": "Hari Hardware", "email": "hari@example.org", "password": "hari's long passphrase",
                        "payoutAccount": [
                            "type": "mobile_money", "provider": "eSewa", "mobileNumber": "+9779811112222",
                        ],
                    ],
                    bearer: tokens.access
                )
                let vendorLogin = try await client.send(
                    .post, "/v1/auth/login", json: ["email": "hari@example.org", "password": "hari's long passphrase"])
                // A file streams from the gateway to the core service and is imported in the background.
                let rows = (1...300).map { "Person \($0),+97798\(String(format: "%08d", $0))" }
                let accepted = try await client.send(
                    .post, "/v1/imports?projectId=\(projectID)", raw: "name,phone\n" + rows.joined(separator: "\n"),
                    bearer: tokens.access, headers: [.contentType: "text/csv"])
                let location = try #require(accepted.headers[.location])
                var imported = try await client.send(.get, location, bearer: tokens.access)
                for _ in 0..<300 where try imported.json["status"] as? String != "completed" {
                    try await Task.sleep(for: .milliseconds(100))
                    imported = try await client.send(.get, location, bearer: tokens.access)
                }
                let stats = try await client.send(.get, "/v1/projects/\(projectID)/stats", bearer: tokens.access)
                // project-c2c funds the project through the ledger, each in its own process, as itself.
                let funding = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding", json: ["amount": 2_500_000, "reference": "GRANT-1"],
                    bearer: tokens.access)
                // The ledger answers from its own process: the chain, and the project's books.
                let chain = try await client.send(.get, "/v1/ledger/verify", bearer: tokens.access)
                let books = try await client.send(
                    .get, "/v1/projects/\(projectID)/reconciliation", bearer: tokens.access)
                let jobID = try #require(try imported.json["jobId"] as? String)
                // The job ends just after the import it ran.
                var job = try await client.send(.get, "/v1/jobs/\(jobID)", bearer: tokens.access)
                for _ in 0..<100 where try job.json["status"] as? String != "completed" {
                    try await Task.sleep(for: .milliseconds(100))
                    job = try await client.send(.get, "/v1/jobs/\(jobID)", bearer: tokens.access)
                }
                // then
                #expect(me.status == .ok)
                #expect(withKey.status == .ok)
                #expect(readiness.status == .ok)
                #expect(project.status == .created)
                #expect(try fetched.json["status"] as? String == "draft")
                #expect(vendor.status == .created)
                #expect(vendorLogin.status == .ok)
                #expect(accepted.status == .accepted)
                #expect(try imported.json["created"] as? Int == 300)
                #expect(try stats.json["beneficiaries"] as? Int == 300)
                #expect(try chain.json["ok"] as? Bool == true, "\(chain)")
                #expect(funding.status == .created, "\(funding)")
                #expect(try books.json["balanced"] as? Bool == true, "\(books)")
                #expect(try books.json["funded"] as? Int == 2_500_000, "\(books)")
                #expect(try job.json["status"] as? String == "completed")
                #expect(try job.json["queue"] as? String == "imports")
                #expect(try (job.json["result"] as? [String: Any])?["created"] as? Int == 300)
            }
            await worker.group.triggerGracefulShutdown()
            try await worker.task.value
            await c2c.group.triggerGracefulShutdown()
            try await c2c.task.value
            await ledger.group.triggerGracefulShutdown()
            try await ledger.task.value
            await core.group.triggerGracefulShutdown()
            try await core.task.value
            await auth.group.triggerGracefulShutdown()
            try await auth.task.value
        }
    }

    @Test(
        "every caller gets what the authorization matrix says across processes, over HTTP/2 and gRPC",
        .enabled(if: SharedStateBackend.available.contains(.redis)))
    func authorizationMatrix() async throws {
        let redisURL = try #require(TestRedis.url)
        let redis = [
            "REDIS_URL": redisURL, "RAHAT_REDIS_TIMEOUT_MS": "10000",
            "RAHAT_JOBS_KEY_PREFIX": TestRedis.jobsKeyPrefix(),
        ]
        // The table asks about authorization; the limits have tests of their own.
        let unlimited = ["LOGIN", "READ", "WRITE", "BULK", "AUTH_FAILURES"].reduce(into: [String: String]()) {
            $0["RAHAT_RATE_LIMIT_\($1)"] = "off"
        }
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            let auth = try await Self.startAuth(databaseURL: url)
            let core = try await Self.startCore(databaseURL: url, authPort: auth.port, extra: redis)
            let ledger = try await Self.startLedger(databaseURL: url, authPort: auth.port)
            let c2c = try await Self.startC2C(
                databaseURL: url, authPort: auth.port, corePort: core.port, ledgerPort: ledger.port, extra: redis)
            // Disbursement and settlement jobs call core and the ledger from the worker.
            let worker = try await Self.startWorker(
                databaseURL: url, authPort: auth.port, redis: redis,
                extra: [
                    "RAHAT_CORE_ADDRESS": "127.0.0.1:\(core.port)", "RAHAT_LEDGER_ADDRESS": "127.0.0.1:\(ledger.port)",
                ])
            defer {
                auth.task.cancel()
                core.task.cancel()
                ledger.task.cancel()
                c2c.task.cancel()
                worker.task.cancel()
            }
            let gateway = try Platform.gatewayProcess(
                configuration: Self.gatewayConfiguration(
                    authPort: auth.port, corePort: core.port, ledgerPort: ledger.port, c2cPort: c2c.port,
                    extra: redis.merging(unlimited) { $1 }),
                logger: .test
            )
            // A service's token as the c2c process holds one: issued by the auth service for the
            // deployment's secret, from the same database and signing key.
            let serviceToken = try await ServiceHarness.serviceToken(
                "c2c", configuration: ServiceHarness.configuration(database: database.configuration))
            try await GatewayHarness.run(gateway, testing: .live) { client in
                let report = try await AuthorizationMatrix.run(
                    client: client, serviceToken: serviceToken, smsFile: Self.smsFile)
                #expect(report.mismatches.isEmpty, "\(report)")
            }
        }
    }

    @Test(
        "with mutual TLS, only holders of the internal authority's certificates reach a service, and only the gateway's client address is believed"
    )
    func mutualTLS() async throws {
        let authority = try TestCertificates()
        let outsider = try TestCertificates(authority: "Someone else's CA")
        defer {
            authority.remove()
            outsider.remove()
        }
        let services = try authority.issue("services", dnsNames: ["localhost", "auth", "core"])
        let gatewayIdentity = try authority.issue("gateway", dnsNames: ["gateway"])
        let workerIdentity = try authority.issue("worker", dnsNames: ["worker"])
        let forged = try outsider.issue("forged", dnsNames: ["gateway"])
        func tls(_ identity: (certificate: String, key: String), authorityPath: String? = nil) -> [String: String] {
            [
                "RAHAT_GRPC_TLS_CERT": identity.certificate, "RAHAT_GRPC_TLS_KEY": identity.key,
                "RAHAT_GRPC_TLS_CA": authorityPath ?? authority.authorityPath,
            ]
        }
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            let auth = try await Self.startAuth(databaseURL: url, extra: tls(services))
            let core = try await Self.startCore(databaseURL: url, authPort: auth.port, extra: tls(services))
            defer {
                auth.task.cancel()
                core.task.cancel()
            }
            // given: a gateway calling auth by address and core by name, over mutual TLS
            let gateway = try Platform.gatewayProcess(
                configuration: Self.gatewayConfiguration(
                    authPort: auth.port, corePort: core.port, extra: tls(gatewayIdentity)),
                logger: .test)
            try await GatewayHarness.run(gateway, testing: .live) { client in
                // when
                let tokens = try await client.login()
                let created = try await client.send(
                    .post, "/v1/beneficiaries", json: ["name": "Maya Gurung", "gender": "female"],
                    bearer: tokens.access)
                // then
                #expect(created.status == .created, "\(created)")
            }
            // when: callers on the internal network sign in directly, each naming an end user's address
            func attempt(
                _ security: HTTP2ClientTransport.Posix.TransportSecurity, claiming address: String
            )
                async -> RPCError.Code?
            {
                await Self.directFailedLogin(port: auth.port, security: security, clientIP: address)
            }
            func client(_ environment: [String: String]) throws -> HTTP2ClientTransport.Posix.TransportSecurity {
                var source = ConfigurationSource(environment: environment)
                return try #require(InternalTLS.read(from: &source)).clientSecurity
            }
            let fromGateway = await attempt(try client(tls(gatewayIdentity)), claiming: "203.0.113.7")
            let fromWorker = await attempt(try client(tls(workerIdentity)), claiming: "203.0.113.8")
            let inPlaintext = await attempt(.plaintext, claiming: "203.0.113.9")
            let withForgedCertificate = await attempt(
                try client(tls(forged, authorityPath: authority.authorityPath)), claiming: "203.0.113.10")
            // then: both certified callers reached auth; the others never did
            #expect(fromGateway == .unauthenticated)
            #expect(fromWorker == .unauthenticated)
            #expect(inPlaintext != nil && inPlaintext != .unauthenticated)
            #expect(withForgedCertificate != nil && withForgedCertificate != .unauthenticated)
            // and only the gateway's forwarded address was recorded; the worker's attempt counts
            // against its own address
            let recorded = try await Self.loginAddresses(database)
            #expect(recorded.contains("203.0.113.7"), "\(recorded)")
            #expect(recorded.contains("127.0.0.1"), "\(recorded)")
            #expect(recorded.isDisjoint(with: ["203.0.113.8", "203.0.113.9", "203.0.113.10"]), "\(recorded)")
        }
    }

    /// Signs in to auth's gRPC port directly with a wrong password, sending `clientIP` as the
    /// gateway would; returns the code the call failed with.
    static func directFailedLogin(
        port: Int, security: HTTP2ClientTransport.Posix.TransportSecurity, clientIP: String
    ) async -> RPCError.Code? {
        do {
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: security)
            return try await withGRPCClient(transport: transport) { client in
                var options = CallOptions.defaults
                options.timeout = .seconds(20)
                do {
                    _ = try await Rahat_Auth_V1_AuthService.Client(wrapping: client).login(
                        .with {
                            $0.email = ServiceHarness.adminEmail
                            $0.password = "not the password"
                        },
                        metadata: [IncomingCall.Key.clientIP: .string(clientIP)],
                        options: options)
                    return nil
                } catch let error as RPCError {
                    return error.code
                }
            }
        } catch {
            return .unknown
        }
    }

    /// The client addresses the auth service recorded sign-in attempts from.
    static func loginAddresses(_ database: TestDatabase) async throws -> Set<String> {
        let auth = try ServiceDatabase(
            configuration: database.configuration, schema: AuthService.schema, logger: .test)
        do {
            let rows = try await auth.sql.raw("SELECT ip FROM login_attempts WHERE ip IS NOT NULL").all()
            let addresses = try Set(rows.map { try $0.decode(column: "ip", as: String.self) })
            await auth.shutdown()
            return addresses
        } catch {
            await auth.shutdown()
            throw error
        }
    }

    @Test("when the auth service is down the gateway says so: 503 problems and not ready")
    func authDown() async throws {
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            let auth = try await Self.startAuth(databaseURL: url)
            let core = try await Self.startCore(databaseURL: url, authPort: auth.port)
            let ledger = try await Self.startLedger(databaseURL: url, authPort: auth.port)
            let c2c = try await Self.startC2C(
                databaseURL: url, authPort: auth.port, corePort: core.port, ledgerPort: ledger.port)
            defer {
                core.task.cancel()
                ledger.task.cancel()
                c2c.task.cancel()
            }
            let gateway = try Platform.gatewayProcess(
                configuration: Self.gatewayConfiguration(
                    authPort: auth.port, corePort: core.port, ledgerPort: ledger.port, c2cPort: c2c.port),
                logger: .test
            )
            try await GatewayHarness.run(gateway, testing: .live) { client in
                // given: a fresh channel may still be backing off from its first connection attempt
                // on a loaded machine, so wait for the gateway to report ready as a probe would
                let before = try await client.readiness()
                // when
                await auth.group.triggerGracefulShutdown()
                try await auth.task.value
                let readiness = try await client.readiness(until: .serviceUnavailable)
                let login = try await client.send(
                    .post,
                    "/v1/auth/login",
                    json: ["email": ServiceHarness.adminEmail, "password": ServiceHarness.adminPassword]
                )
                // then
                #expect(before.status == .ok)
                #expect(readiness.status == .serviceUnavailable)
                #expect(try readiness.json["status"] as? String == "not_ready")
                #expect([.serviceUnavailable, .gatewayTimeout].contains(login.status))
                #expect(login.headers[.contentType] == "application/problem+json")
                // Unavailable is temporary: the client is told when to try again.
                if login.status == .serviceUnavailable { #expect(login.headers[.retryAfter] == "1") }
            }
        }
    }

    @Test("a service refuses to start on an unmigrated database unless told to migrate")
    func noImplicitMigration() async throws {
        try await TestDatabase.with(.postgres, empty: true) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            await #expect(throws: ConfigurationError.self) {
                _ = try await Self.startAuth(databaseURL: url)
            }
            let auth = try await Self.startAuth(databaseURL: url, extra: ["RAHAT_MIGRATE_ON_START": "true"])
            await auth.group.triggerGracefulShutdown()
            try await auth.task.value
        }
    }
}

@Suite("Migrations")
struct MigrationTests {
    @Test("rahat migrate applies every migration once and reverts the last batch", arguments: DatabaseEngine.available)
    func migrateAndRevert(engine: DatabaseEngine) async throws {
        try await TestDatabase.with(engine, empty: true) { database in
            var environment = ["RAHAT_DATA_DIR": NSTemporaryDirectory()]
            switch database.configuration.location {
            case .postgres(url: let url): environment["DATABASE_URL"] = url.absoluteString
            case .sqlite(path: let path):
                environment["RAHAT_DATA_DIR"] = URL(fileURLWithPath: path).deletingLastPathComponent().path
            }
            let configuration = try MigrateConfiguration.load(from: ConfigurationSource(environment: environment))
            // when
            let first = try await Platform.migrate(configuration: configuration, revert: false, logger: .test)
            let second = try await Platform.migrate(configuration: configuration, revert: false, logger: .test)
            _ = try await Platform.migrate(configuration: configuration, revert: true, logger: .test)
            let again = try await Platform.migrate(configuration: configuration, revert: false, logger: .test)
            // then
            #expect(
                first
                    == (AuthMigrations.all + CoreMigrations.all + LedgerMigrations.all + C2CMigrations.all
                    + MessagingMigrations.all).map(\.name))
            #expect(first.first == "auth.0001_CreateUsers")
            #expect(second.isEmpty)
            #expect(again == first)
        }
    }

    @Test(
        "with a role per service, rahat migrate builds each schema as its own role and no role reads another's",
        .enabled(if: DatabaseEngine.available.contains(.postgres)))
    func rolePerService() async throws {
        try await TestDatabase.with(.postgres, empty: true) { database in
            // given
            let roles = try await DistributedTests.serviceRoles(database)
            let name = try #require(database.postgresName)
            let configuration = try MigrateConfiguration.load(
                from: ConfigurationSource(environment: roles.merging(["RAHAT_DATA_DIR": NSTemporaryDirectory()]) { $1 })
            )
            // when
            let applied = try await Platform.migrate(configuration: configuration, revert: false, logger: .test)
            // then
            #expect(
                applied.count
                    == (AuthMigrations.all + CoreMigrations.all + LedgerMigrations.all
                    + C2CMigrations.all + MessagingMigrations.all).count)
            try await Self.asRole("\(name)_core", of: database, schema: "core") { sql in
                let owners = try await sql.raw(
                    "SELECT DISTINCT schemaname, tableowner FROM pg_tables WHERE schemaname IN ('auth', 'core', 'ledger', 'c2c', 'messaging')"
                ).all().map { row in
                    try
                        "\(row.decode(column: "schemaname", as: String.self))=\(row.decode(column: "tableowner", as: String.self))"
                }
                #expect(
                    Set(owners) == [
                        "auth=\(name)_auth", "core=\(name)_core", "messaging=\(name)_core", "ledger=\(name)_ledger",
                        "c2c=\(name)_c2c",
                    ])
                for table in ["auth.users", "auth.sealed_signing_keys", "ledger.transfers", "c2c.disbursements"] {
                    await #expect(throws: (any Error).self, "core's role read \(table)") {
                        try await sql.raw("SELECT count(*) AS n FROM \(unsafeRaw: table)").all()
                    }
                }
                #expect(try await sql.raw("SELECT count(*) AS n FROM core.beneficiaries").first() != nil)
            }
            try await Self.asRole("\(name)_auth", of: database, schema: "auth") { sql in
                await #expect(throws: (any Error).self, "auth's role read core's beneficiaries") {
                    try await sql.raw("SELECT count(*) AS n FROM core.beneficiaries").all()
                }
                // Nobody but the owner may add a schema beside the services'.
                await #expect(throws: (any Error).self) {
                    try await sql.raw("CREATE SCHEMA intruder").run()
                }
            }
        }
    }

    /// Runs `body` on `database` logged in as `role`.
    static func asRole(
        _ role: String, of database: TestDatabase, schema: String,
        _ body: (any SQLDatabase) async throws -> Void
    ) async throws {
        let url = try #require(database.url(as: role))
        let connection = try ServiceDatabase(
            configuration: ServiceDatabaseConfiguration(location: .postgres(url: url), maxConnectionsPerEventLoop: 1),
            schema: schema, logger: .test)
        do {
            try await body(connection.sql)
            await connection.shutdown()
        } catch {
            await connection.shutdown()
            throw error
        }
    }
}
