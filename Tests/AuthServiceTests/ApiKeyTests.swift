import AuthAPI
import Foundation
import GRPCCore
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

extension AuthServiceTests {
    @Suite("API keys")
    struct ApiKeys {
        @Test(
            "the secret is returned once, verifies, and stops verifying when revoked",
            arguments: DatabaseEngine.available)
        func lifecycle(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given
                let admin = ServiceHarness.bearer(try await harness.login().accessToken)
                let created = try await harness.apiKeys.createApiKey(
                    .with {
                        $0.name = "registry sync"
                        $0.permissions = ["user:read"]
                    },
                    metadata: admin
                )
                // when
                let verified = try await harness.apiKeys.getApiKey(.with { $0.id = created.apiKey.id }, metadata: admin)
                let principal = try await harness.auth.verifyApiKey(.with { $0.key = created.key })
                let usedKey = try await harness.apiKeys.getApiKey(.with { $0.id = created.apiKey.id }, metadata: admin)
                _ = try await harness.apiKeys.revokeApiKey(.with { $0.id = created.apiKey.id }, metadata: admin)
                let afterRevoke = await serviceFailure {
                    try await harness.auth.verifyApiKey(.with { $0.key = created.key })
                }
                // then
                #expect(created.key.hasPrefix(created.apiKey.prefix + "_"))
                #expect(!verified.hasLastUsedAt)
                #expect(usedKey.hasLastUsedAt)
                #expect(principal.principal.permissions == ["user:read"])
                #expect(principal.principal.authMethod == .apiKey)
                #expect(principal.expiresInSeconds == 300)
                let asKey = try await harness.auth.getPrincipal(
                    .init(), metadata: ServiceHarness.bearer(principal.accessToken))
                #expect(asKey.apiKeyID == created.apiKey.id)
                #expect(afterRevoke?.reason == "auth.invalid_api_key")
            }
        }

        @Test("every generated key verifies, whatever characters its secret contains")
        func everyKeyVerifies() async throws {
            try await ServiceHarness.with(.sqlite) { harness in
                let admin = ServiceHarness.bearer(try await harness.login().accessToken)
                var secrets: [String] = []
                for index in 0..<25 {
                    let created = try await harness.apiKeys.createApiKey(
                        .with {
                            $0.name = "key \(index)"
                            $0.permissions = ["user:read"]
                        },
                        metadata: admin
                    )
                    secrets.append(created.key)
                    _ = try await harness.auth.verifyApiKey(.with { $0.key = created.key })
                }
                // Base64url secrets contain `_` about half the time; make sure that case was covered.
                #expect(secrets.contains { $0.dropFirst(13).contains("_") })
            }
        }

        @Test(
            "a key cannot carry more than its creator holds, or be created by a key",
            arguments: DatabaseEngine.available)
        func noEscalation(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let admin = try await harness.login()
                let (_, agent) = try await harness.createUser(
                    email: "agent@example.org",
                    roles: [.role("field_agent")],
                    as: admin.accessToken
                )
                let tooMuch = await serviceFailure {
                    try await harness.apiKeys.createApiKey(
                        .with {
                            $0.name = "sneaky"
                            $0.permissions = ["user:manage"]
                        },
                        metadata: ServiceHarness.bearer(agent.accessToken)
                    )
                }
                let key = try await harness.apiKeys.createApiKey(
                    .with {
                        $0.name = "mine"
                        $0.permissions = ["beneficiary:read"]
                    },
                    metadata: ServiceHarness.bearer(agent.accessToken)
                )
                let keyToken = try await harness.auth.verifyApiKey(.with { $0.key = key.key }).accessToken
                let byKey = await serviceFailure {
                    try await harness.apiKeys.createApiKey(
                        .with {
                            $0.name = "child"
                            $0.permissions = ["beneficiary:read"]
                        },
                        metadata: ServiceHarness.bearer(keyToken)
                    )
                }
                #expect(tooMuch?.kind == .permissionDenied)
                #expect(byKey?.reason == "api_key.not_allowed")
            }
        }

        @Test("expired keys, malformed keys and other people's keys are refused", arguments: DatabaseEngine.available)
        func refusals(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let admin = try await harness.login()
                let past = await serviceFailure {
                    try await harness.apiKeys.createApiKey(
                        .with {
                            $0.name = "old"
                            $0.permissions = ["user:read"]
                            $0.expiresAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                        },
                        metadata: ServiceHarness.bearer(admin.accessToken)
                    )
                }
                let malformed = await serviceFailure {
                    try await harness.auth.verifyApiKey(.with { $0.key = "rhk_nonsense" })
                }
                let adminKey = try await harness.apiKeys.createApiKey(
                    .with {
                        $0.name = "admin key"
                        $0.permissions = ["user:read"]
                    },
                    metadata: ServiceHarness.bearer(admin.accessToken)
                )
                let (_, other) = try await harness.createUser(email: "other@example.org", as: admin.accessToken)
                let othersKey = await serviceFailure {
                    try await harness.apiKeys.getApiKey(
                        .with { $0.id = adminKey.apiKey.id }, metadata: ServiceHarness.bearer(other.accessToken))
                }
                let ownList = try await harness.apiKeys.listApiKeys(
                    .init(), metadata: ServiceHarness.bearer(other.accessToken))
                #expect(past?.violations.map(\.field) == ["expiresAt"])
                #expect(malformed?.reason == "auth.invalid_api_key")
                #expect(othersKey?.kind == .notFound)
                #expect(ownList.apiKeys.isEmpty)
            }
        }
    }

    @Suite("Health")
    struct Health {
        @Test("the standard gRPC health service reports serving")
        func serving() async throws {
            try await ServiceHarness.with(.sqlite) { harness in
                let response = try await harness.health.check(.with { $0.service = "" })
                #expect(response.status == .serving)
            }
        }
    }
}
