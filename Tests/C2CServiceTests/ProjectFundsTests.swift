import AuthAPI
import AuthService
import C2CAPI
import CoreAPI
import Foundation
import GRPCCore
import LedgerAPI
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// project-c2c's approvers and funding over gRPC, with the ledger it moves value through, on
/// SQLite and PostgreSQL.
@Suite("Project funds")
struct ProjectFundsTests {
    static func newProject(on harness: ServiceHarness, as admin: Metadata) async throws -> String {
        try await harness.projects.createProject(
            .with {
                $0.name = "Flood response"
                $0.type = .c2C
                $0.asset = "npr"
                $0.assetScale = 2
                $0.defaultCountry = "np"
            }, metadata: admin
        ).id
    }

    static func funding(
        _ project: String, _ amount: Int64, reference: String = "GRANT-2026-001", note: String? = nil
    ) -> Rahat_C2c_V1_RecordFundingRequest {
        .with {
            $0.projectID = project
            $0.amount = amount
            $0.reference = reference
            if let note { $0.note = note }
        }
    }

    static func fundBalance(_ project: String, on harness: ServiceHarness, as admin: Metadata) async throws -> Int64 {
        try await harness.ledger.findAccount(
            .with {
                $0.kind = .projectFund
                $0.projectID = project
            }, metadata: admin
        ).balance
    }

    @Test(
        "funding moves value from external funding into the project's fund, once per reference",
        arguments: DatabaseEngine.available)
    func funding(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await Self.newProject(on: harness, as: admin)

            // when the same funding is recorded twice, then with another amount, then another grant
            let first = try await harness.funds.recordFunding(
                Self.funding(project, 5_000_000, note: "ECHO grant, first tranche"), metadata: admin)
            let again = try await harness.funds.recordFunding(
                Self.funding(project, 5_000_000, note: "sent twice"), metadata: admin)
            let conflict = await serviceFailure {
                try await harness.funds.recordFunding(Self.funding(project, 4_000_000), metadata: admin)
            }
            // (a bank's reference, spaces and all)
            _ = try await harness.funds.recordFunding(
                Self.funding(project, 250_000, reference: "TT REF 2026/17 ÅB"), metadata: admin)
            let listed = try await harness.funds.listFundings(.with { $0.projectID = project }, metadata: admin)

            // then
            #expect(!first.replayed)
            #expect(first.asset == "NPR")
            #expect(first.note == "ECHO grant, first tranche")
            #expect(again.replayed)
            #expect(again.id == first.id)
            #expect(again.transferID == first.transferID)
            #expect(conflict?.reason == "funding.reference_conflict")
            #expect(conflict?.violations.map(\.field) == ["reference"])
            #expect(try await Self.fundBalance(project, on: harness, as: admin) == 5_250_000)
            let transfer = try await harness.ledger.getTransfer(.with { $0.id = first.transferID }, metadata: admin)
            #expect(transfer.kind == .fund)
            #expect(transfer.reference == "funding:GRANT-2026-001")
            #expect(listed.fundings.map(\.reference) == ["GRANT-2026-001", "TT REF 2026/17 ÅB"])
        }
    }

    @Test("the same funding sent 20 times at once moves value once", arguments: DatabaseEngine.available)
    func concurrentFunding(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await Self.newProject(on: harness, as: admin)

            let answers = try await withThrowingTaskGroup(of: Rahat_C2c_V1_Funding.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await harness.funds.recordFunding(Self.funding(project, 700_000), metadata: admin)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }

            #expect(Set(answers.map(\.id)).count == 1)
            #expect(answers.filter { !$0.replayed }.count <= 1)
            #expect(try await Self.fundBalance(project, on: harness, as: admin) == 700_000)
        }
    }

    @Test("bad funding is refused with the fields named, and only project managers may fund")
    func fundingRefused() async throws {
        try await ServiceHarness.with(.sqlite) { harness in
            let tokens = try await harness.login()
            let admin = ServiceHarness.bearer(tokens.accessToken)
            let project = try await Self.newProject(on: harness, as: admin)
            let (_, agent) = try await harness.createUser(
                email: "agent@example.org", roles: [.role("field_agent")], as: tokens.accessToken)

            let invalid = await serviceFailure {
                try await harness.funds.recordFunding(
                    .with {
                        $0.projectID = "not-a-project"
                        $0.amount = -5
                        $0.reference = "  "
                    }, metadata: admin)
            }
            let missing = await serviceFailure {
                try await harness.funds.recordFunding(
                    Self.funding(UUID().uuidString.lowercased(), 100), metadata: admin)
            }
            let forbidden = await serviceFailure {
                try await harness.funds.recordFunding(
                    Self.funding(project, 100), metadata: ServiceHarness.bearer(agent.accessToken))
            }

            #expect(invalid?.violations.map(\.field) == ["projectId", "amount", "reference"])
            #expect(missing?.reason == "project.not_found")
            #expect(forbidden?.kind == .permissionDenied)
            let fund = await serviceFailure {
                try await Self.fundBalance(project, on: harness, as: admin)
            }
            #expect(fund?.reason == "ledger.account_not_found")
        }
    }

    @Test("when the auth service refuses c2c's own secret, callers get an internal error, not a 401 of their own")
    func misconfiguredSecret() async throws {
        try await ServiceHarness.with(.sqlite, configure: { $0.serviceSecret = String(repeating: "z", count: 40) }) {
            harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await Self.newProject(on: harness, as: admin)

            let failure = await serviceFailure {
                try await harness.funds.recordFunding(Self.funding(project, 100), metadata: admin)
            }

            #expect(failure?.kind == .internalError)
            #expect(failure?.reason == "internal")
        }
    }

    @Test("approvers are M of N active users, set by who may update the project", arguments: DatabaseEngine.available)
    func approvers(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given three managers, one of them later disabled
            let tokens = try await harness.login()
            let admin = ServiceHarness.bearer(tokens.accessToken)
            let project = try await Self.newProject(on: harness, as: admin)
            var managers: [String] = []
            for index in 1...3 {
                let (user, _) = try await harness.createUser(
                    email: "manager\(index)@example.org", roles: [.role("manager", project: project)],
                    as: tokens.accessToken)
                managers.append(user.id)
            }
            let (agentUser, agent) = try await harness.createUser(
                email: "agent@example.org", roles: [.role("field_agent")], as: tokens.accessToken)

            // when
            let none = try await harness.funds.getApprovers(.with { $0.projectID = project }, metadata: admin)
            let set = try await harness.funds.setApprovers(
                .with {
                    $0.projectID = project
                    $0.userIds = managers
                    $0.required = 2
                }, metadata: admin)
            let read = try await harness.funds.getApprovers(.with { $0.projectID = project }, metadata: admin)
            let tooMany = await serviceFailure {
                try await harness.funds.setApprovers(
                    .with {
                        $0.projectID = project
                        $0.userIds = [managers[0], managers[0], UUID().uuidString, "x"]
                        $0.required = 5
                    }, metadata: admin)
            }
            let byAgent = await serviceFailure {
                try await harness.funds.setApprovers(
                    .with {
                        $0.projectID = project
                        $0.userIds = [agentUser.id]
                        $0.required = 1
                    }, metadata: ServiceHarness.bearer(agent.accessToken))
            }

            // then
            #expect(none.userIds.isEmpty)
            #expect(none.required == 0)
            #expect(set.required == 2)
            #expect(read.userIds == managers)
            #expect(read.required == 2)
            #expect(read.hasUpdatedAt)
            #expect(tooMany?.violations.map(\.field) == ["userIds[1]", "userIds[3]", "required"])
            #expect(byAgent?.kind == .permissionDenied)
            let unknown = await serviceFailure {
                try await harness.funds.setApprovers(
                    .with {
                        $0.projectID = project
                        $0.userIds = [managers[0], UUID().uuidString.lowercased()]
                        $0.required = 1
                    }, metadata: admin)
            }
            #expect(unknown?.violations.map(\.field) == ["userIds[1]"])
            // and setting them again replaces them whole
            _ = try await harness.funds.setApprovers(
                .with {
                    $0.projectID = project
                    $0.userIds = [managers[2]]
                    $0.required = 1
                }, metadata: admin)
            let replaced = try await harness.funds.getApprovers(.with { $0.projectID = project }, metadata: admin)
            #expect(replaced.userIds == [managers[2]])
            #expect(replaced.required == 1)
        }
    }
}
