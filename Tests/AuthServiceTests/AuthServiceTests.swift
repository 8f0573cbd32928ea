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

/// The auth service through its gRPC API (in-process transport), on every database engine.
@Suite("Auth service")
struct AuthServiceTests {
}

extension AuthServiceTests {
    @Suite("Sessions")
    struct Sessions {
        @Test("login issues tokens that identify the admin", arguments: DatabaseEngine.available)
        func login(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // when
                let tokens = try await harness.login()
                let principal = try await harness.auth.getPrincipal(
                    .init(), metadata: ServiceHarness.bearer(tokens.accessToken))
                // then
                #expect(tokens.expiresInSeconds == 900)
                #expect(tokens.refreshToken.hasPrefix("rt_"))
                #expect(principal.user.email == ServiceHarness.adminEmail)
                #expect(principal.permissions == ["all:manage"])
                #expect(principal.authMethod == .password)
            }
        }

        @Test("wrong password and unknown email fail the same way", arguments: DatabaseEngine.available)
        func wrongCredentials(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let wrongPassword = await serviceFailure {
                    try await harness.login(ServiceHarness.adminEmail, "not the password!")
                }
                let unknownEmail = await serviceFailure {
                    try await harness.login("nobody@example.org", "whatever it is")
                }
                #expect(wrongPassword?.reason == "auth.invalid_credentials")
                #expect(unknownEmail?.reason == "auth.invalid_credentials")
                #expect(wrongPassword?.kind == .unauthenticated)
            }
        }

        @Test("five failures in a row lock the account for 15 minutes", arguments: DatabaseEngine.available)
        func lockout(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given
                for attempt in 1...5 {
                    let error = await serviceFailure {
                        try await harness.login(
                            ServiceHarness.adminEmail, "wrong password \(attempt)", from: "192.0.2.\(attempt)")
                    }
                    #expect(error?.reason == "auth.invalid_credentials")
                }
                // when: even the right password is refused while locked
                let locked = await serviceFailure { try await harness.login() }
                // then
                #expect(locked?.kind == .resourceExhausted)
                #expect(locked?.reason == "auth.account_locked")
                let retryAfter = try #require(locked?.retryAfterSeconds)
                #expect((890...900).contains(retryAfter))
            }
        }

        @Test(
            "ten failures from one address within five minutes throttle that address",
            arguments: DatabaseEngine.available)
        func ipThrottle(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given: failures spread over many accounts, so no single account locks
                for attempt in 1...10 {
                    _ = await serviceFailure {
                        try await harness.login("user\(attempt)@example.org", "wrong password!", from: "198.51.100.7")
                    }
                }
                // when
                let throttled = await serviceFailure { try await harness.login(from: "198.51.100.7") }
                let otherAddress = try await harness.login(from: "198.51.100.8")
                // then
                #expect(throttled?.reason == "auth.too_many_attempts")
                #expect((1...300).contains(throttled?.retryAfterSeconds ?? 0))
                #expect(!otherAddress.accessToken.isEmpty)
            }
        }

        @Test("twenty failures on one account within fifteen minutes throttle it", arguments: DatabaseEngine.available)
        func accountThrottle(engine: DatabaseEngine) async throws {
            let clock = TestClock()
            try await ServiceHarness.with(engine, now: clock.now) { harness in
                // given: four failures then a success, five times: never five in a row, twenty in all
                for round in 0..<5 {
                    for attempt in 0..<4 {
                        _ = await serviceFailure {
                            try await harness.login(
                                ServiceHarness.adminEmail, "wrong password!", from: "203.0.113.\(round * 4 + attempt)")
                        }
                        clock.advance(by: 30)
                    }
                    if round < 4 { _ = try await harness.login(from: "203.0.113.200") }
                }
                // when
                let throttled = await serviceFailure { try await harness.login(from: "203.0.113.201") }
                clock.advance(by: 15 * 60)
                let later = try await harness.login(from: "203.0.113.202")
                // then
                #expect(throttled?.reason == "auth.too_many_attempts")
                #expect(!later.accessToken.isEmpty)
            }
        }

        @Test("refreshing keeps a sign-in alive only for the session's lifetime", arguments: DatabaseEngine.available)
        func sessionLifetime(engine: DatabaseEngine) async throws {
            let clock = TestClock()
            try await ServiceHarness.with(
                engine, configure: { $0.sessionMaxLifetime = .seconds(3600) }, now: clock.now
            ) { harness in
                // given a sign-in refreshed well within its lifetime
                let first = try await harness.login()
                clock.advance(by: 30 * 60)
                let second = try await harness.auth.refresh(.with { $0.refreshToken = first.refreshToken })
                // when it is refreshed again past it, though the refresh token itself lives 30 days
                clock.advance(by: 31 * 60)
                let expired = await serviceFailure {
                    try await harness.auth.refresh(.with { $0.refreshToken = second.refreshToken })
                }
                // then
                #expect(expired?.kind == .unauthenticated)
                #expect(try await harness.login().refreshToken != second.refreshToken)
            }
        }

        @Test(
            "refresh rotates the token; reusing a rotated token revokes the session",
            arguments: DatabaseEngine.available)
        func refreshRotation(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given
                let first = try await harness.login()
                // when
                let second = try await harness.auth.refresh(.with { $0.refreshToken = first.refreshToken })
                let reuse = await serviceFailure {
                    try await harness.auth.refresh(.with { $0.refreshToken = first.refreshToken })
                }
                let afterReuse = await serviceFailure {
                    try await harness.auth.refresh(.with { $0.refreshToken = second.refreshToken })
                }
                // then
                #expect(second.refreshToken != first.refreshToken)
                #expect(reuse?.reason == "auth.refresh_token_reused")
                #expect(afterReuse?.kind == .unauthenticated)
            }
        }

        @Test(
            "concurrent refreshes of one token: at most one wins, and the duplicate revokes the session",
            arguments: DatabaseEngine.available
        )
        func concurrentRefresh(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given
                let tokens = try await harness.login()
                // when: the same token presented four times at once, as a thief racing the owner would
                let issued = await withTaskGroup(of: Rahat_Auth_V1_TokenPair?.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            try? await harness.auth.refresh(.with { $0.refreshToken = tokens.refreshToken })
                        }
                    }
                    return await group.reduce(into: [Rahat_Auth_V1_TokenPair]()) { pairs, pair in
                        if let pair { pairs.append(pair) }
                    }
                }
                // then: a duplicate is reuse, so whatever the winner got no longer refreshes
                #expect(issued.count <= 1)
                for pair in issued {
                    let next = await serviceFailure {
                        try await harness.auth.refresh(.with { $0.refreshToken = pair.refreshToken })
                    }
                    #expect(next?.kind == .unauthenticated)
                }
                _ = try await harness.login()
            }
        }

        @Test("logout ends the session", arguments: DatabaseEngine.available)
        func logout(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let tokens = try await harness.login()
                _ = try await harness.auth.logout(
                    .with { $0.refreshToken = tokens.refreshToken },
                    metadata: ServiceHarness.bearer(tokens.accessToken)
                )
                let refresh = await serviceFailure {
                    try await harness.auth.refresh(.with { $0.refreshToken = tokens.refreshToken })
                }
                #expect(refresh?.reason == "auth.invalid_refresh_token")
            }
        }

        @Test("calls without a valid token are unauthenticated", arguments: DatabaseEngine.available)
        func unauthenticated(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let missing = await serviceFailure { try await harness.users.listUsers(.init()) }
                let forged = await serviceFailure {
                    try await harness.users.listUsers(
                        .init(), metadata: ServiceHarness.bearer("eyJhbGciOiJFUzI1NiJ9.e30.AAAA"))
                }
                #expect(missing?.kind == .unauthenticated)
                #expect(forged?.kind == .unauthenticated)
            }
        }

        @Test(
            "a rotated signing key signs new tokens while old tokens keep verifying",
            arguments: DatabaseEngine.available)
        func keyRotation(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given
                let before = try await harness.login()
                // when
                let newKeyID = try await harness.authService.rotateSigningKey()
                let keys = try await harness.auth.getSigningKeys(.init())
                // then
                #expect(keys.keys.count == 2)
                #expect(keys.keys.contains { $0.keyID == newKeyID })
                let principal = try await harness.auth.getPrincipal(
                    .init(), metadata: ServiceHarness.bearer(before.accessToken))
                #expect(principal.user.email == ServiceHarness.adminEmail)
            }
        }
    }
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date())

    var now: @Sendable () -> Date {
        { [self] in current.withLock { $0 } }
    }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0.addTimeInterval(seconds) }
    }
}
