import AuthAPI
import C2CAPI
import CoreAPI
import CoreService
import Foundation
import GRPCCore
import LedgerAPI
import Messaging
import Persistence
import SQLKit
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// Disbursements over gRPC: planning, drafting, M-of-N approval and execution as jobs through
/// the ledger, on SQLite and PostgreSQL.
@Suite("Disbursements")
struct DisbursementTests {
    /// An active cash project with `people` beneficiaries, all enrolled and verified unless told
    /// otherwise, and `funded` in its fund.
    struct World: Sendable {
        var project: String
        var people: [String]
        var admin: Metadata
        var adminToken: String
    }

    static func world(
        _ harness: ServiceHarness, people count: Int, funded: Int64, unenrolled: Set<Int> = [],
        unverified: Set<Int> = [], archived: Set<Int> = []
    ) async throws -> World {
        let tokens = try await harness.login()
        let admin = ServiceHarness.bearer(tokens.accessToken)
        let project = try await ProjectFundsTests.newProject(on: harness, as: admin)
        _ = try await harness.projects.activateProject(.with { $0.id = project }, metadata: admin)
        let created = try await harness.beneficiaries.createBeneficiaries(
            .with {
                $0.beneficiaries = (0..<count).map { index in
                    .with {
                        $0.name = "Person \(index)"
                        $0.gender = index.isMultiple(of: 2) ? "female" : "male"
                    }
                }
            }, metadata: admin)
        let people = created.beneficiaries.map(\.id)
        let enrolled = people.enumerated().filter { !unenrolled.contains($0.offset) }.map(\.element)
        if !enrolled.isEmpty {
            _ = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = project
                    $0.beneficiaryIds = enrolled
                }, metadata: admin)
        }
        // Verification is core's job and tested there; here it is a given.
        let verified = people.enumerated().filter { !unverified.contains($0.offset) }.map {
            UUID(uuidString: $0.element)
        }
        try await harness.coreDatabase.sql.update("beneficiaries").set("verification_status", to: "verified")
            .where("id", .in, SQLBind.group(verified.compactMap { $0 })).run()
        for index in archived {
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = people[index] }, metadata: admin)
        }
        if funded > 0 {
            _ = try await harness.funds.recordFunding(
                ProjectFundsTests.funding(project, funded, reference: "GRANT-\(funded)"), metadata: admin)
        }
        return World(project: project, people: people, admin: admin, adminToken: tokens.accessToken)
    }

    /// Three project managers as approvers, two required; returns their metadata.
    static func approvers(_ harness: ServiceHarness, _ world: World, required: Int32 = 2) async throws -> [Metadata] {
        var ids: [String] = []
        var metadata: [Metadata] = []
        for index in 1...3 {
            let (user, tokens) = try await harness.createUser(
                email: "approver\(index)@example.org", roles: [.role("manager", project: world.project)],
                as: world.adminToken)
            ids.append(user.id)
            metadata.append(ServiceHarness.bearer(tokens.accessToken))
        }
        _ = try await harness.funds.setApprovers(
            .with {
                $0.projectID = world.project
                $0.userIds = ids
                $0.required = required
            }, metadata: world.admin)
        return metadata
    }

    static func everyone(_ world: World, _ amount: Int64) -> Rahat_C2c_V1_CreateDisbursementRequest {
        .with {
            $0.projectID = world.project
            $0.name = "November cash"
            $0.amountPerBeneficiary = amount
        }
    }

    static func wallet(_ harness: ServiceHarness, _ world: World, _ person: String) async throws -> Int64? {
        try await harness.balance(.beneficiaryWallet, project: world.project, owner: person, as: world.admin)
    }

    /// The project's stats once `settled` holds of them, or after 30 seconds.
    static func stats(
        _ harness: ServiceHarness, _ world: World, until settled: (Rahat_Core_V1_ProjectStats) -> Bool
    ) async throws -> Rahat_Core_V1_ProjectStats {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let stats = try await harness.projects.getProjectStats(
                .with { $0.projectID = world.project }, metadata: world.admin)
            if settled(stats) || ContinuousClock.now > deadline { return stats }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Polls until the disbursement has left approved and processing.
    static func finished(
        _ harness: ServiceHarness, _ id: String, as caller: Metadata
    ) async throws -> Rahat_C2c_V1_Disbursement {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let current = try await harness.disbursements.getDisbursement(.with { $0.id = id }, metadata: caller)
            if ![.approved, .processing].contains(current.status) || ContinuousClock.now > deadline { return current }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test(
        "a dry run names the totals, who is left out and why, and whether the fund covers it; a draft keeps its lines",
        arguments: DatabaseEngine.available)
    func planAndDraft(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given six people: 5 not enrolled, 4 not verified (its check queued), 3 archived; 2,500 in the fund
            let world = try await Self.world(
                harness, people: 6, funded: 2_500, unenrolled: [5], unverified: [4], archived: [3])
            let people = world.people

            // when
            let everyone = try await harness.disbursements.planDisbursement(
                Self.everyone(world, 1_000), metadata: world.admin)
            let byLines = try await harness.disbursements.planDisbursement(
                .with {
                    $0.projectID = world.project
                    $0.name = "Top-up"
                    $0.lines = [(people[0], Int64(500)), (people[5], 700), (people[4], 100)].map { id, amount in
                        .with {
                            $0.beneficiaryID = id
                            $0.amount = amount
                        }
                    }
                }, metadata: world.admin)
            let draft = try await harness.disbursements.createDisbursement(
                Self.everyone(world, 1_000), metadata: world.admin)
            // Enrolling the sixth person afterwards does not change the draft.
            _ = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = world.project
                    $0.beneficiaryIds = [people[5]]
                }, metadata: world.admin)
            let lines = try await harness.disbursements.listDisbursementLines(
                .with { $0.disbursementID = draft.id }, metadata: world.admin)

            // then
            #expect(everyone.lineCount == 3)
            #expect(everyone.total == 3_000)
            #expect(everyone.excludedCounts == ["archived": 1, "unverified": 1, "not_enrolled": 0])
            #expect(Set(everyone.excluded.map(\.beneficiaryID)) == [people[3], people[4]])
            #expect(everyone.excluded.first { $0.beneficiaryID == people[4] }?.verificationStatus == "pending")
            #expect(everyone.fundBalance == 2_500)
            #expect(!everyone.fundSufficient)
            #expect(byLines.lineCount == 1)
            #expect(byLines.total == 500)
            #expect(byLines.excludedCounts == ["archived": 0, "unverified": 1, "not_enrolled": 1])
            #expect(byLines.fundSufficient)
            #expect(draft.status == .draft)
            #expect(draft.total == 3_000)
            #expect(draft.lineCount == 3)
            #expect(Set(lines.lines.map(\.beneficiaryID)) == Set(people[0...2]))
            #expect(lines.lines.map(\.lineNumber) == [1, 2, 3])
            #expect(lines.lines.allSatisfy { $0.status == .pending && $0.amount == 1_000 })
        }
    }

    @Test("bad disbursement requests are refused with the fields named")
    func refused() async throws {
        try await ServiceHarness.with(.sqlite) { harness in
            let world = try await Self.world(harness, people: 2, funded: 0, unverified: [0, 1])
            let (_, agent) = try await harness.createUser(
                email: "agent@example.org", roles: [.role("field_agent")], as: world.adminToken)

            let invalid = await serviceFailure {
                try await harness.disbursements.createDisbursement(
                    .with {
                        $0.projectID = world.project
                        $0.name = " "
                        $0.amountPerBeneficiary = 5
                        $0.lines = [.with { $0.beneficiaryID = "x" }]
                    }, metadata: world.admin)
            }
            let badLines = await serviceFailure {
                try await harness.disbursements.createDisbursement(
                    .with {
                        $0.projectID = world.project
                        $0.name = "Lines"
                        $0.lines = [
                            .with {
                                $0.beneficiaryID = world.people[0]
                                $0.amount = 0
                            },
                            .with {
                                $0.beneficiaryID = world.people[0]
                                $0.amount = 10
                            },
                        ]
                    }, metadata: world.admin)
            }
            let nobody = await serviceFailure {
                try await harness.disbursements.createDisbursement(Self.everyone(world, 100), metadata: world.admin)
            }
            let forbidden = await serviceFailure {
                try await harness.disbursements.createDisbursement(
                    Self.everyone(world, 100), metadata: ServiceHarness.bearer(agent.accessToken))
            }

            #expect(invalid?.violations.map(\.field) == ["name", "lines"])
            #expect(badLines?.violations.map(\.field) == ["lines[0].amount", "lines[1].beneficiaryId"])
            #expect(nobody?.violations.map(\.field) == ["amountPerBeneficiary"])
            #expect(forbidden?.kind == .permissionDenied)
        }
    }

    @Test(
        "a request under a reference drafts once, however often and however concurrently it is sent",
        arguments: DatabaseEngine.available)
    func referencedDraft(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let world = try await Self.world(harness, people: 3, funded: 10_000)
            var referenced = Self.everyone(world, 250)
            referenced.reference = "WINTER-2026/ward-4"
            let request = referenced

            let answers = try await withThrowingTaskGroup(of: Rahat_C2c_V1_Disbursement.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await harness.disbursements.createDisbursement(request, metadata: world.admin) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var other = request
            other.amountPerBeneficiary = 300
            let conflict = await serviceFailure {
                try await harness.disbursements.createDisbursement(other, metadata: world.admin)
            }
            let listed = try await harness.disbursements.listDisbursements(
                .with { $0.projectID = world.project }, metadata: world.admin)
            // a manager of another project is answered as for an id that does not exist
            let elsewhere = try await ProjectFundsTests.newProject(on: harness, as: world.admin)
            let outsider = try await harness.createUser(
                email: "outsider@example.org", roles: [.role("manager", project: elsewhere)], as: world.adminToken)
            let outsiderLogin = ServiceHarness.bearer(outsider.tokens.accessToken)
            let foreign = await serviceFailure {
                try await harness.disbursements.getDisbursement(
                    .with { $0.id = answers[0].id }, metadata: outsiderLogin)
            }
            let unknown = await serviceFailure {
                try await harness.disbursements.getDisbursement(
                    .with { $0.id = UUID().uuidString }, metadata: outsiderLogin)
            }
            #expect(foreign?.reason == "disbursement.not_found")
            #expect(foreign?.reason == unknown?.reason && foreign?.message == unknown?.message)

            #expect(Set(answers.map(\.id)).count == 1)
            #expect(answers.filter { !$0.replayed }.count == 1)
            #expect(answers.allSatisfy { $0.reference == "WINTER-2026/ward-4" && $0.lineCount == 3 })
            #expect(conflict?.reason == "disbursement.reference_conflict")
            #expect(conflict?.violations.map(\.field) == ["reference"])
            #expect(listed.disbursements.count == 1)
        }
    }

    @Test("a submission needs enough approvers besides its creator; a cancelled disbursement takes no decision")
    func submitAndCancel() async throws {
        try await ServiceHarness.with(.sqlite) { harness in
            let world = try await Self.world(harness, people: 2, funded: 10_000)
            let approvers = try await Self.approvers(harness, world, required: 3)
            let byApprover = try await harness.disbursements.createDisbursement(
                Self.everyone(world, 100), metadata: approvers[0])
            let byAdmin = try await harness.disbursements.createDisbursement(
                Self.everyone(world, 100), metadata: world.admin)

            let tooFew = await serviceFailure {
                try await harness.disbursements.submitDisbursement(
                    .with { $0.id = byApprover.id }, metadata: approvers[0])
            }
            _ = try await harness.disbursements.submitDisbursement(.with { $0.id = byAdmin.id }, metadata: world.admin)
            let cancelled = try await harness.disbursements.cancelDisbursement(
                .with { $0.id = byAdmin.id }, metadata: world.admin)
            let late = await serviceFailure {
                try await harness.disbursements.approveDisbursement(
                    .with { $0.id = byAdmin.id }, metadata: approvers[1])
            }
            let listed = try await harness.disbursements.listDisbursements(
                .with {
                    $0.projectID = world.project
                    $0.status = .cancelled
                }, metadata: world.admin)

            #expect(tooFew?.reason == "disbursement.too_few_approvers")
            #expect(cancelled.status == .cancelled)
            #expect(cancelled.hasCompletedAt)
            #expect(late?.reason == "disbursement.invalid_state")
            #expect(listed.disbursements.map(\.id) == [byAdmin.id])
        }
    }

    @Test(
        "M of N approvers approve, not the creator; the M-th approval pays every line once, in batches",
        arguments: DatabaseEngine.available)
    func approveAndExecute(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, runsJobs: true, disbursementBatchSize: 2) { harness in
            // given five eligible people, 10,000 funded, approvers 2 of 3; the first approver drafts
            let world = try await Self.world(harness, people: 5, funded: 10_000)
            let approvers = try await Self.approvers(harness, world)
            let draft = try await harness.disbursements.createDisbursement(
                Self.everyone(world, 1_500), metadata: approvers[0])
            let (_, agent) = try await harness.createUser(
                email: "agent@example.org", roles: [.role("manager")], as: world.adminToken)

            // when
            let early = await serviceFailure {
                try await harness.disbursements.approveDisbursement(.with { $0.id = draft.id }, metadata: approvers[1])
            }
            let submitted = try await harness.disbursements.submitDisbursement(
                .with { $0.id = draft.id }, metadata: approvers[0])
            let own = await serviceFailure {
                try await harness.disbursements.approveDisbursement(.with { $0.id = draft.id }, metadata: approvers[0])
            }
            let outsider = await serviceFailure {
                try await harness.disbursements.approveDisbursement(
                    .with { $0.id = draft.id }, metadata: ServiceHarness.bearer(agent.accessToken))
            }
            let first = try await harness.disbursements.approveDisbursement(
                .with {
                    $0.id = draft.id
                    $0.note = "Checked against the assessment"
                }, metadata: approvers[1])
            // The M-th approval, sent 50 times at once: one approval, one execution.
            let answers = try await withThrowingTaskGroup(of: Rahat_C2c_V1_Disbursement.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await harness.disbursements.approveDisbursement(
                            .with { $0.id = draft.id }, metadata: approvers[2])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let done = try await Self.finished(harness, draft.id, as: world.admin)

            // then
            #expect(early?.reason == "disbursement.invalid_state")
            #expect(submitted.status == .pendingApproval)
            #expect(submitted.requiredApprovals == 2)
            #expect(submitted.approverIds.count == 3)
            #expect(own?.reason == "disbursement.own")
            #expect(outsider?.reason == "disbursement.not_an_approver")
            #expect(first.status == .pendingApproval)
            #expect(first.approvals.map(\.note) == ["Checked against the assessment"])
            #expect(answers.allSatisfy { $0.approvals.count == 2 && $0.status != .pendingApproval })
            #expect(done.status == .completed)
            #expect(done.linesCompleted == 5)
            #expect(done.linesFailed == 0)
            #expect(done.amountCompleted == 7_500)
            #expect(done.jobIds.count == 3)
            for person in world.people {
                #expect(try await Self.wallet(harness, world, person) == 1_500)
            }
            #expect(try await ProjectFundsTests.fundBalance(world.project, on: harness, as: world.admin) == 2_500)
            let lines = try await harness.disbursements.listDisbursementLines(
                .with { $0.disbursementID = draft.id }, metadata: world.admin)
            #expect(lines.lines.allSatisfy { $0.status == .completed && $0.hasTransferID && $0.attempts == 1 })
            let chain = try await harness.ledger.verifyChain(.init(), metadata: world.admin)
            #expect(chain.ok)
            let events = try await Outbox.pending(limit: 100, includingSent: true, on: harness.c2cDatabase.db)
            let batches = events.filter { $0.type == Rahat_C2c_V1_FundDisbursed.topic }
            #expect(batches.count == 3)
            #expect(events.filter { $0.type == "rahat.c2c.disbursement.completed" }.count == 1)
            // core counts what each beneficiary received from the batches' events, once each
            let received = try await Self.stats(harness, world, until: { $0.receivedTotal == 7_500 })
            #expect(received.beneficiariesReceived == 5)
            for batch in batches {
                for handler in harness.core.eventHandlers {
                    try await handler.handle(try ReceivedEvent(json: batch.json))
                }
            }
            let redelivered = try await Self.stats(harness, world, until: { _ in true })
            #expect(redelivered.receivedTotal == 7_500)
            #expect(redelivered.beneficiariesReceived == 5)
        }
    }

    @Test(
        "the M-th approval is refused when the fund does not cover the total; a rejection ends the disbursement",
        arguments: DatabaseEngine.available)
    func insufficientAndRejected(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let world = try await Self.world(harness, people: 3, funded: 1_000)
            let approvers = try await Self.approvers(harness, world, required: 1)
            let draft = try await harness.disbursements.createDisbursement(
                Self.everyone(world, 500), metadata: world.admin)
            _ = try await harness.disbursements.submitDisbursement(.with { $0.id = draft.id }, metadata: world.admin)

            let short = await serviceFailure {
                try await harness.disbursements.approveDisbursement(.with { $0.id = draft.id }, metadata: approvers[0])
            }
            let after = try await harness.disbursements.getDisbursement(
                .with { $0.id = draft.id }, metadata: world.admin)
            let unexplained = await serviceFailure {
                try await harness.disbursements.rejectDisbursement(.with { $0.id = draft.id }, metadata: approvers[1])
            }
            let rejected = try await harness.disbursements.rejectDisbursement(
                .with {
                    $0.id = draft.id
                    $0.note = "Wait for the second tranche"
                }, metadata: approvers[1])
            let late = await serviceFailure {
                try await harness.disbursements.approveDisbursement(.with { $0.id = draft.id }, metadata: approvers[0])
            }

            #expect(short?.reason == "disbursement.insufficient_funds")
            #expect(after.status == .pendingApproval)
            #expect(after.approvals.isEmpty)
            #expect(unexplained?.violations.map(\.field) == ["note"])
            #expect(rejected.status == .rejected)
            #expect(rejected.approvals.map(\.approved) == [false])
            #expect(late?.reason == "disbursement.invalid_state")
            #expect(try await ProjectFundsTests.fundBalance(world.project, on: harness, as: world.admin) == 1_000)
        }
    }

    @Test(
        "lines the fund cannot pay at execution fail with their reason and, funded again, are retried without paying twice",
        arguments: DatabaseEngine.available)
    func failAndRetry(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, disbursementBatchSize: 2) { harness in
            // given 4,000 funded and two approved disbursements of 3,000, their jobs not yet run
            let world = try await Self.world(harness, people: 3, funded: 4_000)
            let approvers = try await Self.approvers(harness, world, required: 1)
            var drafted: [String] = []
            for _ in 0..<2 {
                let draft = try await harness.disbursements.createDisbursement(
                    Self.everyone(world, 1_000), metadata: world.admin)
                _ = try await harness.disbursements.submitDisbursement(
                    .with { $0.id = draft.id }, metadata: world.admin)
                let approved = try await harness.disbursements.approveDisbursement(
                    .with { $0.id = draft.id }, metadata: approvers[0])
                #expect(approved.status == .approved)
                drafted.append(draft.id)
            }
            let ids = drafted

            // when the jobs run (in any order), the fund pays four of the six lines: the batches
            // it cannot cover fail whole
            let ran = try await harness.runningJobs {
                [
                    try await Self.finished(harness, ids[0], as: world.admin),
                    try await Self.finished(harness, ids[1], as: world.admin),
                ]
            }
            let partial = ran.filter { $0.status == .partiallyFailed }.map(\.id)
            let short = try #require(partial.first)
            let failed = try await harness.disbursements.listDisbursementLines(
                .with {
                    $0.disbursementID = short
                    $0.status = .failed
                }, metadata: world.admin)
            let unfunded = await serviceFailure {
                try await harness.disbursements.retryDisbursementLines(.with { $0.id = short }, metadata: world.admin)
            }
            _ = try await harness.funds.recordFunding(
                ProjectFundsTests.funding(world.project, 5_000, reference: "GRANT-2"), metadata: world.admin)
            let unknownLine = await serviceFailure {
                try await harness.disbursements.retryDisbursementLines(
                    .with {
                        $0.id = short
                        $0.lineNumbers = [99]
                    }, metadata: world.admin)
            }
            var retried: [Rahat_C2c_V1_Disbursement] = []
            for id in partial {
                retried.append(
                    try await harness.disbursements.retryDisbursementLines(.with { $0.id = id }, metadata: world.admin))
            }
            let (done, received) = try await harness.runningJobs {
                var done: [Rahat_C2c_V1_Disbursement] = []
                for id in ids { done.append(try await Self.finished(harness, id, as: world.admin)) }
                return (done, try await Self.stats(harness, world, until: { $0.receivedTotal == 6_000 }))
            }

            // then
            #expect(ran.map(\.linesFailed).reduce(0, +) == 2)
            #expect(ran.map(\.linesCompleted).reduce(0, +) == 4)
            #expect(!failed.lines.isEmpty)
            #expect(failed.lines.allSatisfy { $0.lastError == "insufficient project funds" && !$0.hasTransferID })
            #expect(unfunded?.reason == "disbursement.insufficient_funds")
            #expect(unknownLine?.violations.map(\.field) == ["lineNumbers"])
            #expect(retried.allSatisfy { $0.status == .approved && $0.linesFailed == 0 })
            #expect(retried.allSatisfy { $0.jobIds.allSatisfy { $0.contains("-r2-") } })
            #expect(
                done.allSatisfy { $0.status == .completed && $0.linesCompleted == 3 && $0.amountCompleted == 3_000 })
            for person in world.people {
                #expect(try await Self.wallet(harness, world, person) == 2_000)
            }
            #expect(try await ProjectFundsTests.fundBalance(world.project, on: harness, as: world.admin) == 3_000)
            #expect(received.receivedTotal == 6_000)
            #expect(received.beneficiariesReceived == 3)
        }
    }
}
