import AuthService
import Foundation
import Persistence
import SQLKit
import ServerKit
import TestInfrastructure
import TestSupport
import Testing

/// The access-token signing keys the auth database keeps are sealed under a key it does not hold.
@Suite("Signing key custody")
struct SigningKeyCustodyTests {
    @Test(
        "a generated signing key is stored sealed, and opens only with its seal key",
        arguments: DatabaseEngine.available)
    func sealedAtRest(engine: DatabaseEngine) async throws {
        try await TestDatabase.with(engine) { testDatabase in
            let database = try ServiceDatabase(
                configuration: testDatabase.configuration, schema: AuthService.schema, logger: .test)
            do {
                // given
                var configuration = ServiceHarness.configuration(database: testDatabase.configuration)
                let auth = try AuthService(configuration: configuration, database: database, logger: .test)
                try await auth.migrate()
                // when
                let published = try await auth.publishedSigningKeys()
                let rows = try await database.sql.raw("SELECT kid, sealed_key FROM sealed_signing_keys").all()
                configuration.signingKeySeal = SigningKeySeal(keyData: Data(repeating: 6, count: 32))
                let wrongSeal = try AuthService(configuration: configuration, database: database, logger: .test)
                configuration.signingKeySeal = nil
                // then
                #expect(published.count == 1)
                #expect(rows.count == 1)
                let sealed = try #require(try rows.first?.decode(column: "sealed_key", as: String.self))
                let bytes = try #require(Data(base64Encoded: sealed))
                #expect(!String(decoding: bytes, as: UTF8.self).contains("PRIVATE KEY"))
                #expect(!sealed.contains("PRIVATE KEY"))
                await #expect {
                    _ = try await wrongSeal.publishedSigningKeys()
                } throws: { error in
                    (error as? ServiceError)?.reason == "auth.signing_key_unsealable"
                }
                #expect(throws: ConfigurationError.self) {
                    _ = try AuthService(configuration: configuration, database: database, logger: .test)
                }
                await database.shutdown()
            } catch {
                await database.shutdown()
                throw error
            }
        }
    }

    @Test("the seal key is 32 bytes of base64, and a configured one that is not stops start-up")
    func sealKeyFormat() throws {
        var good = ConfigurationSource(environment: ["RAHAT_JWT_SEAL_KEY": SigningKeySeal.generateBase64()])
        let configured = AuthServiceConfiguration(from: &good, dataDirectory: NSTemporaryDirectory())
        #expect(configured.signingKeySeal != nil)
        #expect(throws: Never.self) { try good.validate() }
        var short = ConfigurationSource(
            environment: ["RAHAT_JWT_SEAL_KEY": Data(repeating: 1, count: 16).base64EncodedString()])
        _ = AuthServiceConfiguration(from: &short, dataDirectory: NSTemporaryDirectory())
        #expect(throws: ConfigurationError.self) { try short.validate() }
    }
}
