import AuthAPI
import C2CAPI
import CoreAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HTTPTypes
import HummingbirdTesting
import LedgerAPI
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

#if canImport(Glibc)
import Glibc
#endif

@Suite("The internal gateway: HAProxy between the services")
struct InternalGatewayTests {
    @Test("the routes name every method the services serve, once, and nothing else")
    func everyMethod() {
        let served: [[MethodDescriptor]] = [
            Rahat_Auth_V1_AuthService.Method.descriptors, Rahat_Auth_V1_UserService.Method.descriptors,
            Rahat_Auth_V1_RoleService.Method.descriptors, Rahat_Auth_V1_ApiKeyService.Method.descriptors,
            Rahat_Core_V1_BeneficiaryService.Method.descriptors, Rahat_Core_V1_ProjectService.Method.descriptors,
            Rahat_Core_V1_GroupService.Method.descriptors, Rahat_Core_V1_VendorService.Method.descriptors,
            Rahat_Core_V1_ImportService.Method.descriptors, Rahat_Core_V1_VerificationService.Method.descriptors,
            Rahat_Ledger_V1_LedgerService.Method.descriptors, Rahat_C2c_V1_ProjectFundsService.Method.descriptors,
            Rahat_C2c_V1_DisbursementService.Method.descriptors, Rahat_C2c_V1_RedemptionService.Method.descriptors,
            Rahat_C2c_V1_SettlementService.Method.descriptors,
        ]
        let paths = served.flatMap { $0 }.map { "/\($0.service.fullyQualifiedService)/\($0.method)" }
        let routed = InternalRoutes.all.map(\.path)
        #expect(Set(routed) == Set(paths))
        #expect(routed.count == Set(routed).count)
        let streaming = served.flatMap { $0 }.filter { $0.type != .unary }
            .map { "/\($0.service.fullyQualifiedService)/\($0.method)" }
        #expect(Set(InternalRoutes.all.filter { $0.kind == .streaming }.map(\.path)) == Set(streaming))
    }

    @Test("callers send again, on unavailable, exactly the unary methods safe to send twice")
    func retriedMethods() throws {
        let retried = Set(InternalRoutes.retryable.map { "/\($0.service)/\($0.method)" })
        #expect(retried == Set(InternalRoutes.all.filter { $0.kind == .idempotent }.map(\.path)))
        #expect(retried.contains("/rahat.ledger.v1.LedgerService/RecordTransferBatch"))
        #expect(!retried.contains("/rahat.c2c.v1.DisbursementService/ApproveDisbursement"))
        #expect(!retried.contains("/rahat.core.v1.ProjectService/StreamRoster"))
        let config = RPCDefaults.serviceConfig(timeout: .seconds(10), retrying: InternalRoutes.retryable)
        let retrying = try #require(config.methodConfig.first { $0.executionPolicy != nil })
        #expect(retrying.executionPolicy == .retry(RPCDefaults.retryPolicy))
        #expect(retrying.timeout == .seconds(10))
        #expect(RPCDefaults.retryPolicy.retryableStatusCodes == [.unavailable])
    }

    @Test("docs/internal-gateway.md lists the allow-list as `rahat internal-gateway routes` prints it")
    func documentedTable() throws {
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/internal-gateway.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        let documented = try #require(
            text.components(separatedBy: "<!-- routes:begin -->\n").last?.components(
                separatedBy: "\n<!-- routes:end -->"
            )
            .first)
        #expect(documented == InternalRoutes.markdownTable, "run `rahat internal-gateway routes` and paste its table")
    }

    @Test("the allow-list is the code's own call graph: each process may call what its sources call, nothing more")
    func allowListFollowsCalls() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        func text(_ paths: [String]) throws -> String {
            var all = ""
            for path in paths {
                let root = sources.appendingPathComponent(path)
                if root.pathExtension == "swift" { all += try String(contentsOf: root, encoding: .utf8) }
                let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
                while let file = files?.nextObject() as? URL {
                    if file.pathExtension == "swift" { all += try String(contentsOf: file, encoding: .utf8) }
                }
            }
            return all
        }
        func calls(_ route: InternalRoutes.Route, in code: String) -> Bool {
            guard let method = route.path.split(separator: "/").last else { return false }
            return code.contains(".\(method.prefix(1).lowercased())\(method.dropFirst())(")
        }
        func called(by code: String, outside serves: Set<String>) -> Set<String> {
            Set(InternalRoutes.all.filter { !serves.contains($0.service) && calls($0, in: code) }.map(\.path))
        }
        // Each process's code, and the service it is (whose methods it serves rather than calls).
        // A service's assembly hands it a token verifier that fetches auth's signing keys.
        let assembly = "RahatApp/ServiceAssembly.swift"
        let processes: [(InternalRoutes.Caller, paths: [String], serves: Set<String>)] = [
            (.gateway, ["Gateway"], []), (.auth, ["AuthService"], ["auth"]),
            (.core, ["CoreService", assembly], ["core"]), (.ledger, ["LedgerService", assembly], ["ledger"]),
            (.c2c, ["C2CService", assembly], ["c2c"]),
            // The worker runs c2c's jobs with c2c's clients, and core's jobs, which call no other
            // service (checked below); it serves no calls, so it verifies no token.
            (.worker, ["C2CService"], ["c2c"]),
        ]
        #expect(called(by: try text(["CoreService/Jobs"]), outside: ["core"]).isEmpty)
        for (caller, paths, serves) in processes {
            let called = called(by: try text(paths), outside: serves)
            let allowed = Set(InternalRoutes.all.filter { $0.callers.contains(caller) }.map(\.path))
            #expect(
                called.subtracting(allowed).isEmpty,
                "\(caller) calls but may not: \(called.subtracting(allowed).sorted())")
            #expect(
                allowed.subtracting(called).isEmpty,
                "\(caller) may but never calls: \(allowed.subtracting(called).sorted())")
        }
    }

    @Test(
        "HAProxy accepts the rendered configuration, with mutual TLS and without",
        .enabled(if: TestHAProxy.isEnabled))
    func validConfiguration() throws {
        let authority = try TestCertificates()
        defer { authority.remove() }
        let pem = try Self.pem(authority.issue("internal-gateway", dnsNames: ["internal-gateway"]), in: authority)
        var secured = ConfigurationSource(environment: [
            "RAHAT_INTERNAL_GATEWAY_PEM": pem, "RAHAT_GRPC_TLS_CA": authority.authorityPath,
            "RAHAT_LEDGER_REPLICAS": "ledger-1:7121, ledger-2:7121/9122",
            "RAHAT_INTERNAL_GATEWAY_ADMIN_SOCKET": authority.directory.appendingPathComponent("admin.sock").path,
        ])
        let withTLS = InternalGatewayConfiguration(from: &secured)
        var plain = ConfigurationSource(environment: [:])
        let withoutTLS = InternalGatewayConfiguration(from: &plain)
        var bad = ConfigurationSource(environment: ["RAHAT_CORE_REPLICAS": "core-1", "RAHAT_GRPC_TLS_CA": "ca.pem"])
        _ = InternalGatewayConfiguration(from: &bad)
        let rendered = HAProxyConfiguration.render(withTLS)
        #expect(try TestHAProxy.problems(in: rendered) == nil)
        #expect(try TestHAProxy.problems(in: HAProxyConfiguration.render(withoutTLS)) == nil)
        #expect(secured.problems.isEmpty)
        #expect(bad.problems.count == 2)
        #expect(withTLS.services.first { $0.name == "ledger" }?.replicas.map(\.opsPort) == [7122, 9122])
        #expect(rendered.contains("server ledger-2 ledger-2:7121"))
    }

    @Test(
        "through HAProxy over mutual TLS the platform works; a caller outside the allow-list is refused, one without a certificate turned away",
        .enabled(if: TestHAProxy.isEnabled && SharedStateBackend.available.contains(.redis)))
    func allowList() async throws {
        let authority = try TestCertificates()
        defer { authority.remove() }
        var issued: [String: (certificate: String, key: String)] = [:]
        for name in ["gateway", "auth", "core", "ledger", "c2c", "worker"] {
            issued[name] = try authority.issue(name, dnsNames: [name])
        }
        let identities = issued
        let pem = try Self.pem(authority.issue("internal-gateway", dnsNames: ["internal-gateway"]), in: authority)
        @Sendable func tls(_ name: String) throws -> [String: String] {
            let identity = try #require(identities[name])
            return [
                "RAHAT_GRPC_TLS_CERT": identity.certificate, "RAHAT_GRPC_TLS_KEY": identity.key,
                "RAHAT_GRPC_TLS_CA": authority.authorityPath,
            ]
        }
        let redisURL = try #require(TestRedis.url)
        let redis = [
            "REDIS_URL": redisURL, "RAHAT_REDIS_TIMEOUT_MS": "10000",
            "RAHAT_JOBS_KEY_PREFIX": TestRedis.jobsKeyPrefix(),
        ]
        // The gateway's listeners, and each service's gRPC and operations ports (its readiness is
        // the health check): HAProxy starts first, as it would in a deployment, and finds each
        // replica once it is ready.
        var free: [String: Int] = [:]
        for name in ["auth", "core", "ledger", "c2c", "metrics"]
            + ["auth", "core", "ledger", "c2c"].flatMap({
                ["\($0)-grpc", "\($0)-ops"]
            })
        {
            free[name] = try await TestRedisServer.freePort()
        }
        let ports = free
        @Sendable func port(_ name: String) throws -> Int { try #require(ports[name]) }
        /// The service's own certificate and the ports it serves on.
        @Sendable func own(_ name: String) throws -> [String: String] {
            try tls(name).merging([
                "RAHAT_\(name.uppercased())_GRPC_PORT": "\(try port("\(name)-grpc"))",
                "RAHAT_\(name.uppercased())_HTTP_PORT": "\(try port("\(name)-ops"))",
            ]) { $1 }
        }
        var source = ConfigurationSource(environment: [
            "RAHAT_INTERNAL_GATEWAY_PEM": pem, "RAHAT_GRPC_TLS_CA": authority.authorityPath,
            "RAHAT_INTERNAL_GATEWAY_AUTH_PORT": "\(try port("auth"))",
            "RAHAT_INTERNAL_GATEWAY_CORE_PORT": "\(try port("core"))",
            "RAHAT_INTERNAL_GATEWAY_LEDGER_PORT": "\(try port("ledger"))",
            "RAHAT_INTERNAL_GATEWAY_C2C_PORT": "\(try port("c2c"))",
            "RAHAT_INTERNAL_GATEWAY_METRICS_PORT": "\(try port("metrics"))",
            "RAHAT_AUTH_REPLICAS": "127.0.0.1:\(try port("auth-grpc"))/\(try port("auth-ops"))",
            "RAHAT_CORE_REPLICAS": "127.0.0.1:\(try port("core-grpc"))/\(try port("core-ops"))",
            "RAHAT_LEDGER_REPLICAS": "127.0.0.1:\(try port("ledger-grpc"))/\(try port("ledger-ops"))",
            "RAHAT_C2C_REPLICAS": "127.0.0.1:\(try port("c2c-grpc"))/\(try port("c2c-ops"))",
        ])
        let haproxy = try await TestHAProxy.start(
            HAProxyConfiguration.render(InternalGatewayConfiguration(from: &source)),
            listeningOn: try ["auth", "core", "ledger", "c2c", "metrics"].map(port))
        defer { haproxy.remove() }
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            // Every process dials the others through the internal gateway.
            let auth = try await DistributedTests.startAuth(databaseURL: url, extra: try own("auth"))
            let core = try await DistributedTests.startCore(
                databaseURL: url, authPort: try port("auth"), extra: try own("core").merging(redis) { $1 })
            let ledger = try await DistributedTests.startLedger(
                databaseURL: url, authPort: try port("auth"), extra: try own("ledger"))
            let c2c = try await DistributedTests.startC2C(
                databaseURL: url, authPort: try port("auth"), corePort: try port("core"),
                ledgerPort: try port("ledger"),
                extra: try own("c2c").merging(redis) { $1 })
            let worker = try await DistributedTests.startWorker(
                databaseURL: url, authPort: try port("auth"), redis: redis,
                extra: try tls("worker").merging([
                    "RAHAT_CORE_ADDRESS": "127.0.0.1:\(try port("core"))",
                    "RAHAT_LEDGER_ADDRESS": "127.0.0.1:\(try port("ledger"))",
                ]) { $1 })
            defer {
                auth.task.cancel()
                core.task.cancel()
                ledger.task.cancel()
                c2c.task.cancel()
                worker.task.cancel()
            }
            let gateway = try Platform.gatewayProcess(
                configuration: DistributedTests.gatewayConfiguration(
                    authPort: try port("auth"), corePort: try port("core"), ledgerPort: try port("ledger"),
                    c2cPort: try port("c2c"), extra: try tls("gateway").merging(redis) { $1 }),
                logger: .test)
            try await GatewayHarness.run(gateway, testing: .live) { client in
                // given: the platform at work, every call between processes through HAProxy, once
                // HAProxy's health checks have found each replica ready
                let readiness = try await client.readiness()
                let tokens = try await client.login()
                let project = try await client.send(
                    .post, "/v1/projects",
                    json: ["name": "Flood response", "type": "c2c", "asset": "NPR", "assetScale": 2],
                    bearer: tokens.access)
                let projectID = try #require(try project.json["id"] as? String, "\(project)")
                // core creates the vendor's login at auth
                let vendor = try await client.send(
                    .post, "/v1/vendors",
                    json: [
                        "name": "Hari Hardware", "email": "hari@example.org", "password": "hari's long passphrase",
                        "payoutAccount": [
                            "type": "mobile_money", "provider": "eSewa", "mobileNumber": "+9779811112222",
                        ],
                    ],
                    bearer: tokens.access)
                // c2c reads the project from core and moves the money in the ledger, as itself
                let funding = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding", json: ["amount": 2_500_000, "reference": "GRANT-1"],
                    bearer: tokens.access)
                let books = try await client.send(
                    .get, "/v1/projects/\(projectID)/reconciliation", bearer: tokens.access)
                // when: callers on the internal network try the ledger's write method directly
                func recordTransfer(as name: String?) async -> RPCError.Code? {
                    await Self.recordTransfer(
                        port: (try? port("ledger")) ?? 0,
                        security: name.flatMap { name in
                            var source = ConfigurationSource(environment: (try? tls(name)) ?? [:])
                            return InternalTLS.read(from: &source)?.clientSecurity
                        } ?? .plaintext)
                }
                let asCore = await recordTransfer(as: "core")
                let asGateway = await recordTransfer(as: "gateway")
                let asC2C = await recordTransfer(as: "c2c")
                let withoutCertificate = await recordTransfer(as: nil)
                // and the public gateway's end-user address crosses HAProxy
                let fromGateway = await DistributedTests.directFailedLogin(
                    port: try port("auth"), security: try Self.security(tls("gateway")), clientIP: "203.0.113.7")
                let fromWorker = await DistributedTests.directFailedLogin(
                    port: try port("auth"), security: try Self.security(tls("worker")), clientIP: "203.0.113.8")
                let recorded = try await DistributedTests.loginAddresses(database)
                let metrics = try await RawHTTPClient.send(
                    port: try port("metrics"), head: "GET /metrics HTTP/1.1\r\nHost: localhost", chunk: ByteBuffer(),
                    repeats: 0, chunked: false)
                // then
                #expect(project.status == .created)
                #expect(vendor.status == .created, "\(vendor)")
                #expect(funding.status == .created, "\(funding)")
                #expect(try books.json["funded"] as? Int == 2_500_000, "\(books)")
                #expect(readiness.status == .ok)
                #expect(asCore == .permissionDenied)
                #expect(asGateway == .permissionDenied)
                // Let through: refused by the ledger itself, which wants a token.
                #expect(asC2C == .unauthenticated)
                #expect(withoutCertificate != nil && withoutCertificate != .permissionDenied)
                #expect(withoutCertificate != .unauthenticated)
                #expect(fromGateway == .unauthenticated)
                // The worker may not log people in at all.
                #expect(fromWorker == .permissionDenied)
                #expect(recorded.contains("203.0.113.7"), "\(recorded)")
                #expect(!recorded.contains("203.0.113.8"), "\(recorded)")
                #expect(haproxy.log.contains("caller=core"), "\(haproxy.log)")
                #expect(haproxy.log.contains("refused=not_allowed"))
                #expect(metrics == 200)
            }
        }
    }

    @Test(
        "one of two ledger replicas killed with SIGKILL mid-disbursement: the other takes the calls, every line paid once",
        .enabled(
            if: TestHAProxy.isEnabled && DatabaseEngine.available.contains(.postgres)
                && SharedStateBackend.available.contains(.redis)))
    func ledgerFailover() async throws {
        let executable = ReliabilityTests.rahatExecutable
        #expect(
            FileManager.default.isExecutableFile(atPath: executable.path), "no \(executable.path): swift build first")
        let redisURL = try #require(TestRedis.url)
        let redis = [
            "REDIS_URL": redisURL, "RAHAT_REDIS_TIMEOUT_MS": "10000",
            "RAHAT_JOBS_KEY_PREFIX": TestRedis.jobsKeyPrefix(),
        ]
        let people = 3_000
        let amount = 100
        var free: [String: Int] = [:]
        for name in [
            "auth", "core", "ledger", "c2c", "metrics", "ledger-1", "ledger-1-ops", "ledger-2", "ledger-2-ops",
        ] {
            free[name] = try await TestRedisServer.freePort()
        }
        let ports = free
        @Sendable func port(_ name: String) throws -> Int { try #require(ports[name]) }
        try await TestDatabase.with(.postgres) { database in
            guard case .postgres(url: let url) = database.configuration.location else { return }
            // Auth, core and c2c in this process, dialled directly or through HAProxy; the two
            // ledger replicas as `rahat serve ledger` processes, so that one can be killed outright.
            let auth = try await DistributedTests.startAuth(databaseURL: url)
            let core = try await DistributedTests.startCore(databaseURL: url, authPort: auth.port, extra: redis)
            // Batches of 100 lines: the payment is 30 ledger calls, spread over both replicas.
            let c2c = try await DistributedTests.startC2C(
                databaseURL: url, authPort: auth.port, corePort: core.port, ledgerPort: try port("ledger"),
                extra: redis.merging(["RAHAT_DISBURSEMENT_BATCH_SIZE": "100"]) { $1 })
            defer {
                for task in [auth.task, core.task, c2c.task] { task.cancel() }
            }
            var source = ConfigurationSource(environment: [
                "RAHAT_INTERNAL_GATEWAY_AUTH_PORT": "\(try port("auth"))",
                "RAHAT_INTERNAL_GATEWAY_CORE_PORT": "\(try port("core"))",
                "RAHAT_INTERNAL_GATEWAY_LEDGER_PORT": "\(try port("ledger"))",
                "RAHAT_INTERNAL_GATEWAY_C2C_PORT": "\(try port("c2c"))",
                "RAHAT_INTERNAL_GATEWAY_METRICS_PORT": "\(try port("metrics"))",
                "RAHAT_AUTH_REPLICAS": "127.0.0.1:\(auth.port)/1", "RAHAT_CORE_REPLICAS": "127.0.0.1:\(core.port)/1",
                "RAHAT_C2C_REPLICAS": "127.0.0.1:\(c2c.port)/1",
                "RAHAT_LEDGER_REPLICAS":
                    "127.0.0.1:\(try port("ledger-1"))/\(try port("ledger-1-ops")), 127.0.0.1:\(try port("ledger-2"))/\(try port("ledger-2-ops"))",
            ])
            let haproxy = try await TestHAProxy.start(
                HAProxyConfiguration.render(InternalGatewayConfiguration(from: &source)),
                listeningOn: try ["ledger", "metrics"].map(port))
            defer { haproxy.remove() }
            func ledgerReplica(_ name: String) throws -> Process {
                let process = Process()
                process.executableURL = executable
                process.arguments = ["serve", "ledger"]
                process.environment = [
                    "DATABASE_URL": url.absoluteString, "RAHAT_AUTH_ADDRESS": "127.0.0.1:\(auth.port)",
                    "RAHAT_LEDGER_GRPC_PORT": "\(try port(name))",
                    "RAHAT_LEDGER_HTTP_PORT": "\(try port("\(name)-ops"))",
                    "RAHAT_RPC_TIMEOUT_MS": DistributedTests.rpcTimeout, "RAHAT_LOG_LEVEL": "error",
                ]
                try process.run()
                TestRedisServer.killWhenTestProcessExits(process.processIdentifier)
                return process
            }
            let first = try ledgerReplica("ledger-1")
            let second = try ledgerReplica("ledger-2")
            defer {
                for process in [first, second] where process.isRunning { process.terminate() }
            }
            let gateway = try Platform.gatewayProcess(
                configuration: DistributedTests.gatewayConfiguration(
                    authPort: auth.port, corePort: core.port, ledgerPort: try port("ledger"), c2cPort: c2c.port,
                    extra: redis.merging(DisbursementScenario.gatewaySettings) { $1 }),
                logger: .test)
            @Sendable func worker() async throws -> (group: ServiceGroup, task: Task<Void, any Error>) {
                try await DistributedTests.startWorker(
                    databaseURL: url, authPort: auth.port, redis: redis,
                    extra: [
                        "RAHAT_CORE_ADDRESS": "127.0.0.1:\(core.port)",
                        "RAHAT_LEDGER_ADDRESS": "127.0.0.1:\(try port("ledger"))",
                    ])
            }
            try await DisbursementScenario.withBooks(database) { c2cDatabase, ledgerDatabase in
                try await GatewayHarness.run(gateway, testing: .live) { client in
                    // given both ledger replicas ready behind HAProxy, and a disbursement to 3,000
                    // people approved
                    let readiness = try await client.readiness()
                    #expect(readiness.status == .ok, "\(readiness)")
                    let (admin, projectID, id) = try await DisbursementScenario.approved(
                        client: client, people: people, amount: amount, checkedBy: worker)

                    // when a worker pays it, and the first ledger replica is killed once a fifth is paid
                    let payer = try await worker()
                    defer { payer.task.cancel() }
                    var paidAtKill = 0
                    let deadline = ContinuousClock.now + .seconds(120)
                    while paidAtKill < people / 5, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(5))
                        paidAtKill = try await DisbursementScenario.completedLines(c2cDatabase)
                    }
                    kill(first.processIdentifier, SIGKILL)
                    first.waitUntilExit()
                    let done = try await DisbursementScenario.ended(id, client: client, admin: admin)

                    // then the rest went to the second replica, and every line was paid exactly once
                    let log = haproxy.log
                    let batches = log.split(separator: "\n").filter { $0.contains("LedgerService/RecordTransferBatch") }
                    #expect(first.terminationReason == .uncaughtSignal)
                    #expect(paidAtKill < people, "the disbursement was done before the kill")
                    #expect(batches.contains { $0.contains("/ledger-1 ") }, "ledger-1 took no batch:\n\(log)")
                    #expect(batches.contains { $0.contains("/ledger-2 ") }, "ledger-2 took no batch:\n\(log)")
                    #expect(log.contains("ledger_idempotent/ledger-1 is DOWN"), "\(log)")
                    try await DisbursementScenario.expectPaidOnce(
                        done, id: id, projectID: projectID, people: people, amount: amount, client: client,
                        admin: admin,
                        ledger: ledgerDatabase)
                }
            }
        }
    }

    /// Calls the ledger's RecordTransfer through `port` with `security` and no token; the code it
    /// failed with.
    static func recordTransfer(
        port: Int, security: HTTP2ClientTransport.Posix.TransportSecurity
    ) async
        -> RPCError.Code?
    {
        do {
            try await withGRPCClient(
                transport: try .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: security)
            ) { client in
                let ledger = Rahat_Ledger_V1_LedgerService.Client(wrapping: client)
                var options = CallOptions.defaults
                options.timeout = .seconds(10)
                _ = try await ledger.recordTransfer(
                    .with {
                        $0.idempotencyKey = "not-allowed"
                        $0.amount = 1
                    }, options: options)
            }
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }

    static func security(_ environment: [String: String]) throws -> HTTP2ClientTransport.Posix.TransportSecurity {
        var source = ConfigurationSource(environment: environment)
        return try #require(InternalTLS.read(from: &source)).clientSecurity
    }

    /// The certificate and key in one file, as HAProxy reads them.
    static func pem(_ identity: (certificate: String, key: String), in authority: TestCertificates) throws -> String {
        let path = authority.directory.appendingPathComponent("internal-gateway-combined.pem").path
        // Each file may lack a final newline; HAProxy wants every PEM block on its own lines.
        let text = try [identity.certificate, identity.key]
            .map { try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .newlines) + "\n" }
            .joined()
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
