import AuthService
import CoreService
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import Logging
import Persistence
import RahatApp
import ServerKit
import TestInfrastructure
import TestSupport
import Testing

@Suite("Embedded default")
struct EmbeddedTests {
    @Test(
        "the first start creates an admin with a generated password, kept in an owner-only file, not the log stream",
        arguments: DatabaseEngine.available)
    func firstAdmin(engine: DatabaseEngine) async throws {
        let dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("rahat-first-admin-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        try await TestDatabase.with(engine) { database in
            // given
            var auth = ServiceHarness.configuration(database: database.configuration)
            auth.adminPassword = nil
            let configuration = EmbeddedConfiguration(
                common: CommonConfiguration(
                    dataDirectory: dataDirectory, log: LogConfiguration(level: .warning)),
                gateway: GatewayConfiguration(port: 0),
                auth: auth,
                core: CoreServiceConfiguration(database: database.configuration(for: "core"), pii: PIIKeys.generate())
            )
            // when
            let first = try await Platform.embedded(configuration: configuration, logger: .test)
            let password = try #require(first.notice.createdAdmin?.generatedPassword)
            try await GatewayHarness.run(first, testing: .router) { client in
                let tokens = try await client.login(ServiceHarness.adminEmail, password)
                #expect(!tokens.access.isEmpty)
            }
            let second = try await Platform.embedded(configuration: configuration, logger: .test)
            try await GatewayHarness.run(second, testing: .router) { _ in }
            // then
            #expect(password.count >= 20)
            #expect(second.notice.createdAdmin == nil)
            let file = try #require(first.notice.passwordFile)
            #expect(try String(contentsOfFile: file, encoding: .utf8) == password + "\n")
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }

    @Test("configuration problems are all reported together before anything starts")
    func configurationProblems() throws {
        let source = ConfigurationSource(environment: [
            "RAHAT_HTTP_PORT": "-1",
            "DATABASE_URL": "mysql://db/rahat",
            "RAHAT_BCRYPT_COST": "4",
            "RAHAT_ADMIN_PASSWORD": "short",
        ])
        do {
            _ = try EmbeddedConfiguration.load(from: source)
            Issue.record("loaded an invalid configuration")
        } catch let error as ConfigurationError {
            let keys = error.problems.compactMap { $0.split(separator: ":").first.map(String.init) }
            #expect(Set(keys) == ["RAHAT_HTTP_PORT", "DATABASE_URL", "RAHAT_BCRYPT_COST", "RAHAT_ADMIN_PASSWORD"])
        }
    }

    @Test("a distributed c2c or worker without an SMS sender refuses to start; a file must be chosen")
    func smsSenderRequired() throws {
        // given what every distributed c2c and worker needs, but no SMS sender
        let base = [
            "DATABASE_URL": "postgres://rahat@127.0.0.1:1/rahat", "REDIS_URL": "redis://127.0.0.1:1",
            "RAHAT_SERVICE_SECRET": ServiceHarness.serviceSecret,
            "RAHAT_PII_KEYS": "k1:\(Data(repeating: 7, count: 32).base64EncodedString())",
            "RAHAT_PII_INDEX_KEY": Data(repeating: 9, count: 32).base64EncodedString(),
        ]
        func problems(_ load: () throws -> Void) -> [String] {
            do {
                try load()
                return []
            } catch let error as ConfigurationError {
                return error.problems
            } catch {
                return ["\(error)"]
            }
        }

        // when
        let c2c = problems { _ = try C2CProcessConfiguration.load(from: ConfigurationSource(environment: base)) }
        let worker = problems { _ = try WorkerProcessConfiguration.load(from: ConfigurationSource(environment: base)) }
        let chosen = base.merging(["RAHAT_SMS_FILE": "/tmp/rahat-sms.jsonl"]) { $1 }
        let withFile = problems { _ = try C2CProcessConfiguration.load(from: ConfigurationSource(environment: chosen)) }

        // then
        #expect(
            c2c.count == 1 && c2c.first?.hasPrefix("RAHAT_SMS_URL: required by 'rahat serve c2c'") == true, "\(c2c)")
        #expect(worker.contains { $0.hasPrefix("RAHAT_SMS_URL: required by 'rahat serve worker'") }, "\(worker)")
        #expect(withFile.isEmpty, "\(withFile)")
    }
}
