import AuthAPI
import AuthService
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf
import Synchronization
import TestInfrastructure
import TestSupport
import Testing
import TokenVerification

extension AuthServiceTests {
    @Suite("Service tokens")
    struct ServiceTokens {
        @Test(
            "an internal service exchanges the service secret for a token with its fixed grants",
            arguments: DatabaseEngine.available)
        func issued(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // when
                let token = try await harness.auth.issueServiceToken(
                    .with {
                        $0.service = "c2c"
                        $0.secret = ServiceHarness.serviceSecret
                    })
                let verifier = AccessTokenVerifier(minimumRefetchInterval: .zero) {
                    try await harness.authService.publishedSigningKeys()
                }
                let principal = try await verifier.verify(token.accessToken)

                // then it is the service's, with exactly its grants
                #expect(principal.method == .service)
                #expect(principal.service == "c2c")
                #expect(principal.userID == ServicePrincipal.id(of: "c2c"))
                #expect(token.expiresInSeconds == 900)
                #expect(
                    token.permissions == [
                        "beneficiary:read", "beneficiary_pii:read", "ledger:create", "ledger:read", "project:read",
                        "user:read", "vendor:read",
                    ])
                #expect(principal.permissions.allows(Permission(.ledger, .create)))
                #expect(!principal.permissions.allows(Permission(.beneficiary, .create)))
                #expect(!principal.permissions.allows(Permission(.user, .update)))
            }
        }

        @Test("a wrong secret or an unknown service gets no token, and the two fail alike")
        func refused() async throws {
            try await ServiceHarness.with(.sqlite) { harness in
                let wrongSecret = await serviceFailure {
                    try await harness.auth.issueServiceToken(
                        .with {
                            $0.service = "c2c"
                            $0.secret = ServiceHarness.serviceSecret + "x"
                        })
                }
                let unknownService = await serviceFailure {
                    try await harness.auth.issueServiceToken(
                        .with {
                            $0.service = "core"
                            $0.secret = ServiceHarness.serviceSecret
                        })
                }
                #expect(wrongSecret?.kind == .unauthenticated)
                #expect(wrongSecret?.reason == "auth.invalid_service_credentials")
                #expect(unknownService?.reason == "auth.invalid_service_credentials")
            }
        }

        @Test("a caller that keeps presenting wrong service credentials is refused for a while, whatever it presents")
        func throttled() async throws {
            // Ten a minute, as shipped, but in a tenth of the time: one more try every 0.6 s.
            let budget = RateLimit(10, per: .seconds(6))
            try await ServiceHarness.with(.sqlite, configure: { $0.serviceCredentialFailures = budget }) { harness in
                @Sendable func ask(_ secret: String) async -> ServiceError? {
                    await serviceFailure {
                        try await harness.auth.issueServiceToken(
                            .with {
                                $0.service = "c2c"
                                $0.secret = secret
                            })
                    }
                }
                // given ten wrong secrets at once
                for attempt in 0..<10 {
                    let wrong = await ask("guess \(attempt) " + String(repeating: "x", count: 32))
                    #expect(wrong?.reason == "auth.invalid_service_credentials")
                }
                // when the caller then presents the right one, and again once the budget has a try
                let refused = await ask(ServiceHarness.serviceSecret)
                try await Task.sleep(for: .milliseconds(700))
                let later = await ask(ServiceHarness.serviceSecret)
                // then it is refused until then
                #expect(refused?.kind == .resourceExhausted)
                #expect(refused?.reason == "auth.too_many_attempts")
                #expect(refused?.retryAfterSeconds == 1)
                #expect(later == nil)
            }
        }

        @Test("an auth service without a service secret issues no service tokens")
        func notConfigured() async throws {
            try await ServiceHarness.with(.sqlite, configure: { $0.serviceSecret = nil }) { harness in
                let failure = await serviceFailure {
                    try await harness.auth.issueServiceToken(
                        .with {
                            $0.service = "c2c"
                            $0.secret = ""
                        })
                }
                #expect(failure?.kind == .failedPrecondition)
                #expect(failure?.reason == "auth.service_credentials_not_configured")
            }
        }

        @Test("service credentials fetch one token for concurrent callers and reuse it until it ages")
        func credentialsCache() async throws {
            let issued = Atomic<Int>(0)
            let credentials = ServiceCredentials {
                let count = issued.add(1, ordering: .relaxed).newValue
                try await Task.sleep(for: .milliseconds(50))
                return ("token-\(count)", .seconds(3))
            }
            // when 20 calls ask at once, then again after two thirds of the lifetime
            let first = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await credentials.token() } }
                return try await Set(group.reduce(into: []) { $0.append($1) })
            }
            let reused = try await credentials.token()
            try await Task.sleep(for: .milliseconds(2_100))
            let renewed = try await credentials.token()
            // then
            #expect(first == ["token-1"])
            #expect(reused == "token-1")
            #expect(renewed == "token-2")
        }
    }
}
