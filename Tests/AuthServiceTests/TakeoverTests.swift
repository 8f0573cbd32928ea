import AuthAPI
import Foundation
import GRPCCore
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

extension AuthServiceTests {
    /// The ways a low-privilege caller could try to take over an account, each refused.
    @Suite("Account takeover")
    struct Takeover {
        @Test("an API key cannot change its owner's password", arguments: DatabaseEngine.available)
        func apiKeyPasswordChange(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given
                let admin = try await harness.login()
                let me = try await harness.auth.getPrincipal(
                    .init(), metadata: ServiceHarness.bearer(admin.accessToken))
                let key = try await harness.apiKeys.createApiKey(
                    .with {
                        $0.name = "partner"
                        $0.permissions = ["user:read"]
                    },
                    metadata: ServiceHarness.bearer(admin.accessToken)
                )
                let keyToken = try await harness.auth.verifyApiKey(.with { $0.key = key.key }).accessToken
                // when
                let attempt = await serviceFailure {
                    try await harness.users.updateUser(
                        .with {
                            $0.id = me.user.id
                            $0.password = "a brand new passphrase"
                        },
                        metadata: ServiceHarness.bearer(keyToken)
                    )
                }
                // then
                #expect(attempt?.kind == .permissionDenied)
                _ = try await harness.login()
            }
        }

        @Test(
            "changing your own password needs the present one and ends your sessions",
            arguments: DatabaseEngine.available)
        func selfPasswordChange(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let admin = try await harness.login()
                let (user, tokens) = try await harness.createUser(email: "self@example.org", as: admin.accessToken)
                let missing = await serviceFailure {
                    try await harness.users.updateUser(
                        .with {
                            $0.id = user.id
                            $0.password = "a brand new passphrase"
                        },
                        metadata: ServiceHarness.bearer(tokens.accessToken)
                    )
                }
                let wrong = await serviceFailure {
                    try await harness.users.updateUser(
                        .with {
                            $0.id = user.id
                            $0.password = "a brand new passphrase"
                            $0.currentPassword = "not my password"
                        },
                        metadata: ServiceHarness.bearer(tokens.accessToken)
                    )
                }
                _ = try await harness.users.updateUser(
                    .with {
                        $0.id = user.id
                        $0.password = "a brand new passphrase"
                        $0.currentPassword = "another long passphrase"
                    },
                    metadata: ServiceHarness.bearer(tokens.accessToken)
                )
                let oldSession = await serviceFailure {
                    try await harness.auth.refresh(.with { $0.refreshToken = tokens.refreshToken })
                }
                #expect(missing?.violations.map(\.field) == ["currentPassword"])
                #expect(wrong?.violations.map(\.field) == ["currentPassword"])
                #expect(oldSession?.kind == .unauthenticated)
                _ = try await harness.login("self@example.org", "a brand new passphrase")
            }
        }

        @Test("a role that may update users cannot touch users who hold more", arguments: DatabaseEngine.available)
        func helpdeskCannotTakeOverAdmin(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given
                let admin = try await harness.login()
                let adminID = try await harness.auth.getPrincipal(
                    .init(), metadata: ServiceHarness.bearer(admin.accessToken)
                ).user.id
                _ = try await harness.roles.createRole(
                    .with {
                        $0.name = "helpdesk"
                        $0.permissions = ["user:read", "user:update", "user:delete"]
                    },
                    metadata: ServiceHarness.bearer(admin.accessToken)
                )
                let (_, helpdesk) = try await harness.createUser(
                    email: "helpdesk@example.org",
                    roles: [.role("helpdesk")],
                    as: admin.accessToken
                )
                let (plain, _) = try await harness.createUser(email: "plain@example.org", as: admin.accessToken)
                let asHelpdesk = ServiceHarness.bearer(helpdesk.accessToken)
                // when
                let reset = await serviceFailure {
                    try await harness.users.updateUser(
                        .with {
                            $0.id = adminID
                            $0.password = "i own this account now"
                        },
                        metadata: asHelpdesk
                    )
                }
                let disable = await serviceFailure {
                    try await harness.users.deleteUser(.with { $0.id = adminID }, metadata: asHelpdesk)
                }
                let strip = await serviceFailure {
                    try await harness.users.setUserRoles(.with { $0.userID = adminID }, metadata: asHelpdesk)
                }
                let allowed = try await harness.users.updateUser(
                    .with {
                        $0.id = plain.id
                        $0.name = "Renamed"
                    },
                    metadata: asHelpdesk
                )
                // then
                #expect(reset?.kind == .permissionDenied)
                #expect(disable?.kind == .permissionDenied)
                #expect(strip?.kind == .permissionDenied)
                #expect(allowed.name == "Renamed")
                _ = try await harness.login()
            }
        }

        @Test(
            "unknown emails lock exactly like real ones, so lockouts reveal no accounts",
            arguments: DatabaseEngine.available)
        func noEnumeration(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                var answers: [String: String?] = [:]
                for email in [ServiceHarness.adminEmail, "ghost@example.org"] {
                    for attempt in 1...5 {
                        _ = await serviceFailure {
                            try await harness.login(email, "wrong password!", from: "192.0.2.\(attempt)")
                        }
                    }
                    answers[email] = await serviceFailure {
                        try await harness.login(email, "wrong password!", from: "192.0.2.99")
                    }?.reason
                }
                #expect(answers[ServiceHarness.adminEmail] == "auth.account_locked")
                #expect(answers["ghost@example.org"] == "auth.account_locked")
            }
        }

        @Test(
            "a stranger's failures lock the account everywhere but where its owner signs in",
            arguments: DatabaseEngine.available)
        func lockoutSparesKnownAddress(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given the owner's usual address, and a stranger failing five times in a row
                let home = "203.0.113.5"
                _ = try await harness.login(ServiceHarness.adminEmail, ServiceHarness.adminPassword, from: home)
                for attempt in 1...5 {
                    _ = await serviceFailure {
                        try await harness.login(
                            ServiceHarness.adminEmail, "stranger's guess \(attempt)", from: "192.0.2.\(attempt)")
                    }
                }
                // when the stranger tries once more, even with the right password, and the owner signs in at home
                let stranger = await serviceFailure {
                    try await harness.login(ServiceHarness.adminEmail, ServiceHarness.adminPassword, from: "192.0.2.99")
                }
                let owner = try await harness.login(ServiceHarness.adminEmail, ServiceHarness.adminPassword, from: home)
                // and then fails five times at home
                for attempt in 1...5 {
                    _ = await serviceFailure {
                        try await harness.login(ServiceHarness.adminEmail, "owner's typo \(attempt)", from: home)
                    }
                }
                let ownerLocked = await serviceFailure {
                    try await harness.login(ServiceHarness.adminEmail, ServiceHarness.adminPassword, from: home)
                }
                // then strangers are locked out, the owner only by their own failures
                #expect(stranger?.reason == "auth.account_locked")
                #expect(!owner.accessToken.isEmpty)
                #expect(ownerLocked?.reason == "auth.account_locked")
            }
        }

        @Test(
            "a burst of concurrent guesses gets at most five tries at the password", arguments: DatabaseEngine.available
        )
        func concurrentBurst(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let reasons = await withTaskGroup(of: String?.self) { group in
                    for index in 0..<20 {
                        group.addTask {
                            await serviceFailure {
                                try await harness.login(
                                    ServiceHarness.adminEmail, "guess number \(index)", from: "198.51.100.\(index)")
                            }?.reason
                        }
                    }
                    return await group.reduce(into: [String?]()) { $0.append($1) }
                }
                let tried = reasons.filter { $0 == "auth.invalid_credentials" }.count
                #expect(tried <= 5)
                #expect(reasons.allSatisfy { $0 == "auth.invalid_credentials" || $0 == "auth.account_locked" })
                let locked = await serviceFailure { try await harness.login() }
                #expect(tried < 5 || locked?.reason == "auth.account_locked")
            }
        }
    }
}
