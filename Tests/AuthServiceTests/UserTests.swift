import AuthAPI
import Foundation
import GRPCCore
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

extension AuthServiceTests {
    @Suite("Users and roles")
    struct Users {
        @Test("bad input names every offending field and writes nothing", arguments: DatabaseEngine.available)
        func validation(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let admin = try await harness.login()
                let error = await serviceFailure {
                    try await harness.users.createUser(
                        .with {
                            $0.name = String(repeating: "x", count: 201)
                            $0.email = "not-an-email"
                            $0.password = "short"
                            $0.phone = "12345"
                            $0.roles = [.role("ghost")]
                        },
                        metadata: ServiceHarness.bearer(admin.accessToken)
                    )
                }
                #expect(error?.kind == .invalidArgument)
                #expect(
                    Set(error?.violations.map(\.field) ?? []) == [
                        "name", "email", "password", "phone", "roles[0].role",
                    ])
                let users = try await harness.users.listUsers(
                    .init(), metadata: ServiceHarness.bearer(admin.accessToken))
                #expect(users.users.count == 1)
            }
        }

        @Test(
            "weak passwords are refused with the reason",
            arguments: [
                ("aaaaaaaaaaaaaaa", "must not be mostly one repeated character"),
                ("password1234", "is a commonly used password"),
                (String(repeating: "é", count: 40), "must be at most 72 bytes"),
            ])
        func passwordPolicy(password: String, reason: String) async throws {
            try await ServiceHarness.with(.sqlite) { harness in
                let admin = try await harness.login()
                let error = await serviceFailure {
                    try await harness.createUser(email: "weak@example.org", password: password, as: admin.accessToken)
                }
                #expect(error?.violations.contains(FieldViolation(field: "password", reason: reason)) == true)
            }
        }

        @Test("emails are unique regardless of case", arguments: DatabaseEngine.available)
        func uniqueEmail(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let admin = try await harness.login()
                _ = try await harness.createUser(email: "Agent@Example.org", as: admin.accessToken)
                let duplicate = await serviceFailure {
                    try await harness.createUser(email: "agent@example.org", as: admin.accessToken)
                }
                #expect(duplicate?.kind == .alreadyExists)
                #expect(duplicate?.reason == "user.email_taken")
            }
        }

        @Test("project-scoped roles grant permissions only inside that project", arguments: DatabaseEngine.available)
        func scopedRoles(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let admin = try await harness.login()
                let project = UUID().uuidString.lowercased()
                let (_, tokens) = try await harness.createUser(
                    email: "manager@example.org",
                    roles: [.role("manager", project: project)],
                    as: admin.accessToken
                )
                let principal = try await harness.auth.getPrincipal(
                    .init(), metadata: ServiceHarness.bearer(tokens.accessToken))
                #expect(principal.permissions.contains("beneficiary:manage@\(project)"))
                #expect(principal.permissions.allSatisfy { $0.hasSuffix("@\(project)") })
            }
        }

        @Test("nobody grants what they do not hold", arguments: DatabaseEngine.available)
        func noEscalation(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                // given: a custom role that may create users but holds little else
                let admin = try await harness.login()
                _ = try await harness.roles.createRole(
                    .with {
                        $0.name = "recruiter"
                        $0.permissions = ["user:create", "user:read"]
                    },
                    metadata: ServiceHarness.bearer(admin.accessToken)
                )
                let (_, recruiter) = try await harness.createUser(
                    email: "recruiter@example.org",
                    roles: [.role("recruiter")],
                    as: admin.accessToken
                )
                // when
                let escalation = await serviceFailure {
                    try await harness.createUser(
                        email: "x@example.org", roles: [.role("admin")], as: recruiter.accessToken)
                }
                let allowed = try await harness.createUser(email: "y@example.org", as: recruiter.accessToken)
                let fieldAgent = try await harness.createUser(
                    email: "agent@example.org",
                    roles: [.role("field_agent")],
                    as: admin.accessToken
                )
                let forbidden = await serviceFailure {
                    try await harness.createUser(email: "z@example.org", as: fieldAgent.tokens.accessToken)
                }
                // then
                #expect(escalation?.kind == .permissionDenied)
                #expect(allowed.user.roles.isEmpty)
                #expect(forbidden?.kind == .permissionDenied)
            }
        }

        @Test("disabling a user ends its sessions and refuses its logins", arguments: DatabaseEngine.available)
        func disable(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let admin = try await harness.login()
                let (user, tokens) = try await harness.createUser(email: "leaver@example.org", as: admin.accessToken)
                _ = try await harness.users.deleteUser(
                    .with { $0.id = user.id }, metadata: ServiceHarness.bearer(admin.accessToken))
                let refresh = await serviceFailure {
                    try await harness.auth.refresh(.with { $0.refreshToken = tokens.refreshToken })
                }
                let login = await serviceFailure {
                    try await harness.login("leaver@example.org", "another long passphrase")
                }
                let fetched = try await harness.users.getUser(
                    .with { $0.id = user.id }, metadata: ServiceHarness.bearer(admin.accessToken))
                #expect(refresh?.kind == .unauthenticated)
                #expect(login?.reason == "auth.account_disabled")
                #expect(fetched.status == .disabled)
            }
        }

        @Test("listing pages through users with a stable cursor", arguments: DatabaseEngine.available)
        func pagination(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let admin = try await harness.login()
                for index in 1...4 {
                    _ = try await harness.users.createUser(
                        .with {
                            $0.name = "User \(index)"
                            $0.email = "u\(index)@example.org"
                            $0.password = "another long passphrase"
                        },
                        metadata: ServiceHarness.bearer(admin.accessToken)
                    )
                }
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let page = try await harness.users.listUsers(
                        .with {
                            $0.limit = 2
                            if let cursor { $0.cursor = cursor }
                        },
                        metadata: ServiceHarness.bearer(admin.accessToken)
                    )
                    #expect(page.users.count <= 2)
                    seen += page.users.map(\.email)
                    cursor = page.hasNextCursor ? page.nextCursor : nil
                } while cursor != nil
                #expect(
                    seen == [
                        ServiceHarness.adminEmail, "u1@example.org", "u2@example.org", "u3@example.org",
                        "u4@example.org",
                    ])
            }
        }

        @Test(
            "built-in roles cannot be deleted; assigned custom roles cannot either", arguments: DatabaseEngine.available
        )
        func roleDeletion(engine: DatabaseEngine) async throws {
            try await ServiceHarness.with(engine) { harness in
                let admin = ServiceHarness.bearer(try await harness.login().accessToken)
                let builtIn = await serviceFailure {
                    try await harness.roles.deleteRole(.with { $0.name = "manager" }, metadata: admin)
                }
                _ = try await harness.roles.createRole(
                    .with {
                        $0.name = "reviewer"
                        $0.permissions = ["beneficiary:read"]
                    },
                    metadata: admin
                )
                let (user, _) = try await harness.createUser(
                    email: "r@example.org", roles: [.role("reviewer")], as: try await harness.login().accessToken)
                let inUse = await serviceFailure {
                    try await harness.roles.deleteRole(.with { $0.name = "reviewer" }, metadata: admin)
                }
                _ = try await harness.users.setUserRoles(.with { $0.userID = user.id }, metadata: admin)
                _ = try await harness.roles.deleteRole(.with { $0.name = "reviewer" }, metadata: admin)
                let roles = try await harness.roles.listRoles(.init(), metadata: admin)
                #expect(builtIn?.reason == "role.built_in")
                #expect(inUse?.reason == "role.in_use")
                #expect(!roles.roles.contains { $0.name == "reviewer" })
                #expect(
                    roles.roles.filter(\.builtIn).map(\.name).sorted() == [
                        "admin", "auditor", "field_agent", "manager", "vendor",
                    ])
            }
        }
    }
}
