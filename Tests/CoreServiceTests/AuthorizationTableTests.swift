import AuthAPI
import CoreAPI
import Foundation
import GRPCCore
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// Who may do what in the core service: every built-in role against every guarded call, in the
/// caller's own project (A) and in a foreign one (B).
@Suite("Authorization table")
struct AuthorizationTableTests {
    /// What a role's call did: went through, was refused for permissions, or saw no personal data.
    enum Outcome: Equatable, CustomStringConvertible {
        case allowed, denied, withoutPII

        var description: String {
            switch self {
            case .allowed: "allowed"
            case .denied: "denied"
            case .withoutPII: "allowed without PII"
            }
        }
    }

    static let roles = ["admin", "manager", "field_agent", "auditor", "vendor"]

    /// Expected outcome per call, in the order of `roles`; the manager is scoped to project A.
    static let expected: [String: [Outcome]] = [
        "get project A": [.allowed, .allowed, .allowed, .allowed, .denied],
        "get project B": [.allowed, .denied, .allowed, .allowed, .denied],
        "enrol in A": [.allowed, .allowed, .denied, .denied, .denied],
        "enrol in B": [.allowed, .denied, .denied, .denied, .denied],
        "list A's beneficiaries": [.allowed, .allowed, .allowed, .allowed, .denied],
        "list B's beneficiaries": [.allowed, .denied, .allowed, .allowed, .denied],
        "read a beneficiary of A": [.allowed, .allowed, .allowed, .withoutPII, .denied],
        "read a beneficiary of B": [.allowed, .denied, .allowed, .withoutPII, .denied],
        "stats of A": [.allowed, .allowed, .allowed, .allowed, .denied],
        "stats of B": [.allowed, .denied, .allowed, .allowed, .denied],
        "assign a vendor to A": [.allowed, .allowed, .denied, .denied, .denied],
        "assign a vendor to B": [.allowed, .denied, .denied, .denied, .denied],
        "create a group": [.allowed, .denied, .allowed, .denied, .denied],
        "register a vendor": [.allowed, .denied, .denied, .denied, .denied],
        "start an import": [.allowed, .denied, .allowed, .denied, .denied],
    ]

    @Test("each role reaches exactly what docs/domain.md gives it, and a manager of A nothing of B")
    func table() async throws {
        try await ServiceHarness.with(.sqlite) { harness in
            // given
            let adminToken = try await harness.login().accessToken
            let admin = ServiceHarness.bearer(adminToken)
            let projectA = try await harness.projects.createProject(ProjectTests.newProject("A"), metadata: admin)
            let projectB = try await harness.projects.createProject(ProjectTests.newProject("B"), metadata: admin)
            let people = try await harness.beneficiaries.createBeneficiaries(
                .with {
                    $0.beneficiaries = [
                        BeneficiaryTests.person("In A", phone: "9800000001"),
                        BeneficiaryTests.person("In B", phone: "9800000002"),
                    ]
                },
                metadata: admin
            ).beneficiaries.map(\.id)
            for (project, person) in [(projectA.id, people[0]), (projectB.id, people[1])] {
                _ = try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = project
                        $0.beneficiaryIds = [person]
                    },
                    metadata: admin)
            }
            let vendor = try await harness.vendors.registerVendor(VendorTests.newVendor(), metadata: admin)
            var callers: [String: Metadata] = ["admin": admin]
            for role in Self.roles.dropFirst() {
                let user = try await harness.createUser(
                    email: "\(role)@example.org",
                    roles: [.role(role, project: role == "manager" ? projectA.id : nil)],
                    as: adminToken)
                callers[role] = ServiceHarness.bearer(user.tokens.accessToken)
            }
            // when
            var actual: [String: [Outcome]] = [:]
            for role in Self.roles {
                let caller = try #require(callers[role])
                func attempt(_ call: () async throws -> some Sendable) async -> Outcome {
                    let failure = await serviceFailure(call)
                    return failure?.kind == .permissionDenied ? .denied : .allowed
                }
                func read(_ id: String) async -> Outcome {
                    do {
                        let found = try await harness.beneficiaries.getBeneficiary(
                            .with { $0.id = id }, metadata: caller)
                        return found.hasPii ? .allowed : .withoutPII
                    } catch {
                        return .denied
                    }
                }
                let outcomes: [(String, Outcome)] = [
                    (
                        "get project A",
                        await attempt {
                            try await harness.projects.getProject(.with { $0.id = projectA.id }, metadata: caller)
                        }
                    ),
                    (
                        "get project B",
                        await attempt {
                            try await harness.projects.getProject(.with { $0.id = projectB.id }, metadata: caller)
                        }
                    ),
                    (
                        "enrol in A",
                        await attempt {
                            try await harness.projects.enrolBeneficiaries(
                                .with {
                                    $0.projectID = projectA.id; $0.beneficiaryIds = [people[0]]
                                }, metadata: caller)
                        }
                    ),
                    (
                        "enrol in B",
                        await attempt {
                            try await harness.projects.enrolBeneficiaries(
                                .with {
                                    $0.projectID = projectB.id; $0.beneficiaryIds = [people[1]]
                                }, metadata: caller)
                        }
                    ),
                    (
                        "list A's beneficiaries",
                        await attempt {
                            try await harness.beneficiaries.listBeneficiaries(
                                .with {
                                    $0.limit = 10; $0.projectID = projectA.id
                                }, metadata: caller)
                        }
                    ),
                    (
                        "list B's beneficiaries",
                        await attempt {
                            try await harness.beneficiaries.listBeneficiaries(
                                .with {
                                    $0.limit = 10; $0.projectID = projectB.id
                                }, metadata: caller)
                        }
                    ),
                    ("read a beneficiary of A", await read(people[0])),
                    ("read a beneficiary of B", await read(people[1])),
                    (
                        "stats of A",
                        await attempt {
                            try await harness.projects.getProjectStats(
                                .with { $0.projectID = projectA.id }, metadata: caller)
                        }
                    ),
                    (
                        "stats of B",
                        await attempt {
                            try await harness.projects.getProjectStats(
                                .with { $0.projectID = projectB.id }, metadata: caller)
                        }
                    ),
                    (
                        "assign a vendor to A",
                        await attempt {
                            try await harness.vendors.assignVendor(
                                .with {
                                    $0.projectID = projectA.id; $0.vendorID = vendor.id
                                }, metadata: caller)
                        }
                    ),
                    (
                        "assign a vendor to B",
                        await attempt {
                            try await harness.vendors.assignVendor(
                                .with {
                                    $0.projectID = projectB.id; $0.vendorID = vendor.id
                                }, metadata: caller)
                        }
                    ),
                    (
                        "create a group",
                        await attempt {
                            try await harness.groups.createGroup(.with { $0.name = "G \(role)" }, metadata: caller)
                        }
                    ),
                    (
                        "register a vendor",
                        await attempt {
                            try await harness.vendors.registerVendor(
                                VendorTests.newVendor(email: "v-\(role)@example.org"), metadata: caller)
                        }
                    ),
                    (
                        "start an import",
                        await attempt {
                            try await harness.imports.uploadImport(metadata: caller) { writer in
                                try await writer.write(.with { $0.options = .init() })
                                try await writer.write(.with { $0.chunk = Data("name\nImported by \(role)\n".utf8) })
                            }
                        }
                    ),
                ]
                for (call, outcome) in outcomes { actual[call, default: []].append(outcome) }
            }
            // then
            for (call, outcomes) in Self.expected.sorted(by: { $0.key < $1.key }) {
                #expect(
                    actual[call] == outcomes, "\(call): \(zip(Self.roles, actual[call] ?? []).map { "\($0)=\($1)" })")
            }
        }
    }
}
