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
import TestSupport
import Testing

@Suite("Embedded default")
struct EmbeddedTests {
    @Test("the first start creates an admin with a generated password, shown once", arguments: DatabaseEngine.available)
    func firstAdmin(engine: DatabaseEngine) async throws {
        try await TestDatabase.with(engine) { database in
            // given
            var auth = AuthHarness.configuration(database: database.configuration)
            auth.adminPassword = nil
            let configuration = EmbeddedConfiguration(
                common: CommonConfiguration(
                    dataDirectory: NSTemporaryDirectory(), log: LogConfiguration(level: .warning)),
                gateway: GatewayConfiguration(port: 0),
                auth: auth,
                core: CoreServiceConfiguration(database: database.configuration(for: "core"), pii: PIIKeys.generate())
            )
            // when
            let first = try await Platform.embedded(configuration: configuration, logger: .test)
            let password = try #require(first.notice.createdAdmin?.generatedPassword)
            try await GatewayHarness.run(first, testing: .router) { client in
                let tokens = try await client.login(AuthHarness.adminEmail, password)
                #expect(!tokens.access.isEmpty)
            }
            let second = try await Platform.embedded(configuration: configuration, logger: .test)
            try await GatewayHarness.run(second, testing: .router) { _ in }
            // then
            #expect(password.count >= 20)
            #expect(second.notice.createdAdmin == nil)
        }
    }

    @Test("configuration problems are all reported together before anything starts")
    func configurationProblems() throws {
        let source = ConfigurationSource(environment: [
            "RAHAT_HTTP_PORT": "-1",
            "DATABASE_URL": "mysql://db/rahat",
            "RAHAT_BCRYPT_COST": "99",
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
}
