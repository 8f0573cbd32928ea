import AuthAPI
import CoreAPI
import FluentKit
import Foundation
import GRPCCore
import Persistence
import SQLKit
import ServerKit
import SharedModels
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

@testable import CoreService

/// KYC: every new or changed beneficiary is checked by a job; reviewers decide what needs review.
@Suite("Verification")
struct VerificationTests {
    /// Nepal's phones, and its national IDs as eleven digits.
    static let rules = KYCRules(
        requiredFields: ["name", "birthDate"], country: "NP", nationalIDFormats: ["NP": "[0-9]{11}"])

    static func person(
        _ name: String, phone: String? = nil, nationalID: String? = nil, birthDate: String? = "1984-03-02"
    ) -> Rahat_Core_V1_NewBeneficiary {
        .with {
            $0.name = name
            if let phone { $0.phone = phone }
            if let nationalID { $0.nationalID = nationalID }
            if let birthDate { $0.birthDate = birthDate }
        }
    }

    /// The beneficiary once its latest check has run.
    static func checked(
        _ id: String, harness: ServiceHarness, as caller: Metadata, within limit: Duration = .seconds(60)
    ) async throws -> Rahat_Core_V1_Beneficiary {
        let deadline = ContinuousClock.now + limit
        while true {
            let found = try await harness.beneficiaries.getBeneficiary(.with { $0.id = id }, metadata: caller)
            if found.verificationStatus != "pending" || ContinuousClock.now > deadline { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func runs(
        of id: String, harness: ServiceHarness, as caller: Metadata
    ) async throws -> [Rahat_Core_V1_Verification] {
        try await harness.verification.listVerifications(.with { $0.beneficiaryID = id }, metadata: caller)
            .verifications
    }

    @Test("each rule finds what it should, and the worst finding decides", arguments: DatabaseEngine.available)
    func rules(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, configureCore: { $0.kyc = Self.rules }, runsJobs: true) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let first = try await harness.beneficiaries.createBeneficiary(
                .with {
                    $0.beneficiary = Self.person("Sunita Rai", phone: "+977 9812345678", nationalID: "123-456-789-01")
                },
                metadata: admin)
            _ = try await Self.checked(first.id, harness: harness, as: admin)
            let created =
                try await [first]
                + harness.beneficiaries.createBeneficiaries(
                    .with {
                        $0.beneficiaries = [
                            Self.person("Hari Thapa", birthDate: nil),
                            Self.person("Gita Magar", nationalID: "AB-1234"),
                            Self.person("Ram Gurung", phone: "+91 98123 45678"),
                            Self.person("rai,  SUNITA"),
                        ]
                    }, metadata: admin
                ).beneficiaries
            #expect(created.dropFirst().allSatisfy { $0.verificationStatus == "pending" })
            // when
            var checked: [Rahat_Core_V1_Beneficiary] = []
            for beneficiary in created {
                checked.append(try await Self.checked(beneficiary.id, harness: harness, as: admin))
            }
            // then
            #expect(
                checked.map(\.verificationStatus) == [
                    "verified", "rejected", "rejected", "needs_review", "needs_review",
                ])
            #expect(checked[1].verificationReason == "missing birthDate")
            #expect(checked[2].verificationReason == "national ID does not have the format of NP")
            #expect(checked[3].verificationReason == "phone is not a number of NP")
            #expect(checked[4].verificationReason == "same name and birth date as beneficiary \(created[0].id)")
            var batchJobs: Set<String> = []
            for beneficiary in created.dropFirst() {
                batchJobs.formUnion(try await Self.runs(of: beneficiary.id, harness: harness, as: admin).map(\.jobID))
            }
            #expect(batchJobs.count == 1, "one job checks the whole batch")
            let run = try #require(try await Self.runs(of: created[0].id, harness: harness, as: admin).first)
            #expect(run.status == "verified" && run.hasCheckedAt && run.reasons.isEmpty)
            #expect(
                run.checks.map { "\($0.rule):\($0.result)" } == [
                    "required_fields:passed", "phone_country:passed", "national_id_format:passed",
                    "duplicate_phone:passed", "duplicate_national_id:passed", "likely_duplicate:passed",
                    "watch_list:skipped",
                ])
            let outcomes = try await harness.coreOutbox().filter { $0.type.hasPrefix("rahat.core.beneficiary.") }
                .map { "\($0.type.dropFirst("rahat.core.beneficiary.".count)):\($0.aggregateID)" }
            for (beneficiary, status) in zip(checked, checked.map(\.verificationStatus)) {
                #expect(outcomes.filter { $0 == "\(status):\(beneficiary.id)" }.count == 1)
            }
        }
    }

    @Test(
        "a change to a checked field queues a new check that supersedes the unrun one; other changes and rewrites queue none",
        arguments: DatabaseEngine.available)
    func recheck(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, configureCore: { $0.kyc = Self.rules }) { harness in
            // given: no worker yet, so the first check waits
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let created = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = Self.person("Maya Tamang", nationalID: "AB-1") }, metadata: admin)
            // when
            _ = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = created.id
                    $0.changes.nationalID = "98765432101"
                    $0.fields = ["nationalId"]
                }, metadata: admin)
            _ = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = created.id
                    $0.changes.location = "Ilam"
                    $0.fields = ["location"]
                }, metadata: admin)
            // The same national ID again changes nothing the checks read.
            _ = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = created.id
                    $0.changes.nationalID = "987-654-321-01"
                    $0.fields = ["nationalId"]
                }, metadata: admin)
            let pending = try await Self.runs(of: created.id, harness: harness, as: admin)
            let checked = try await harness.runningJobs {
                try await Self.checked(created.id, harness: harness, as: admin)
            }
            let runs = try await Self.runs(of: created.id, harness: harness, as: admin)
            // then
            #expect(pending.map(\.status) == ["pending", "pending"])
            #expect(checked.verificationStatus == "verified")
            #expect(runs.map(\.status) == ["superseded", "verified"])
            let outcomes = try await harness.coreOutbox().filter {
                ["rahat.core.beneficiary.verified", "rahat.core.beneficiary.rejected"].contains($0.type)
            }
            #expect(outcomes.count == 1)
        }
    }

    @Test(
        "a watch-list match needs review; a reviewer decides with a note, once, and others cannot",
        arguments: DatabaseEngine.available)
    func review(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, configureCore: { $0.kyc = Self.rules }, runsJobs: true) { harness in
            // given
            let tokens = try await harness.login()
            let admin = ServiceHarness.bearer(tokens.accessToken)
            let agent = try await harness.createUser(
                email: "agent@example.org", roles: [.role("field_agent")], as: tokens.accessToken)
            let csv = """
                name,birthDate,nationalId,phone,reason
                ,,12345678901,,sanctioned 2025
                Bishnu Karki,1970-01-01,,,
                ,,,not a phone,
                Only A Name,,,,
                """
            let list = try await harness.verification.uploadWatchList(
                .with {
                    $0.csv = Data(csv.utf8)
                    $0.fileName = "list.csv"
                }, metadata: admin)
            let created = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = Self.person("Dil Bahadur", nationalID: "12345678901") }, metadata: admin)
            let flagged = try await Self.checked(created.id, harness: harness, as: admin)
            // when
            let forbidden = await serviceFailure {
                try await harness.verification.decideVerification(
                    .with {
                        $0.beneficiaryID = created.id
                        $0.decision = "verified"
                        $0.note = "I know him"
                    }, metadata: ServiceHarness.bearer(agent.tokens.accessToken))
            }
            let noNote = await serviceFailure {
                try await harness.verification.decideVerification(
                    .with {
                        $0.beneficiaryID = created.id
                        $0.decision = "maybe"
                    }, metadata: admin)
            }
            let inReview = try await harness.verification.listVerifications(
                .with { $0.status = "needs_review" }, metadata: admin)
            let decided = try await harness.verification.decideVerification(
                .with {
                    $0.beneficiaryID = created.id
                    $0.decision = "verified"
                    $0.note = "Namesake: the listed person was born in 1950 (ward office letter)."
                }, metadata: admin)
            let again = await serviceFailure {
                try await harness.verification.decideVerification(
                    .with {
                        $0.beneficiaryID = created.id
                        $0.decision = "rejected"
                        $0.note = "second thoughts"
                    }, metadata: admin)
            }
            let after = try await harness.beneficiaries.getBeneficiary(.with { $0.id = created.id }, metadata: admin)
            // then
            #expect(list.entries == 2 && list.rejected.map(\.line) == [4, 5])
            #expect(flagged.verificationStatus == "needs_review")
            #expect(flagged.verificationReason == "matches watch-list line 2 by national ID")
            #expect(inReview.verifications.map(\.beneficiaryID) == [created.id])
            #expect(forbidden?.kind == .permissionDenied)
            #expect(Set(noNote?.violations.map(\.field) ?? []) == ["decision", "note"])
            #expect(decided.status == "verified" && decided.decision == "verified" && decided.hasDecidedAt)
            #expect(decided.hasReviewerID && decided.note.hasPrefix("Namesake"))
            #expect(again?.reason == "verification.not_in_review")
            #expect(after.verificationStatus == "verified")
            let event = try #require(
                try await harness.coreOutbox().last { $0.type == "rahat.core.beneficiary.verified" })
            #expect(event.aggregateID == created.id && event.json.contains(decided.reviewerID))
        }
    }

    @Test(
        "a batch's outcomes are written in one statement, only onto beneficiaries whose latest pending run they are",
        arguments: DatabaseEngine.available)
    func settlesOnlyLatestRuns(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, configureCore: { $0.kyc = Self.rules }) { harness in
            // given: three people whose checks wait (no worker), the third changed since its first check was queued
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            var people: [String] = []
            for name in ["Asha Rai", "Binod Thapa", "Chandra Gurung"] {
                let created = try await harness.beneficiaries.createBeneficiary(
                    .with { $0.beneficiary = Self.person(name) }, metadata: admin)
                people.append(created.id)
            }
            var firstRuns: [Rahat_Core_V1_Verification] = []
            for id in people { firstRuns += try await Self.runs(of: id, harness: harness, as: admin) }
            _ = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = people[2]
                    $0.changes.birthDate = "1990-01-01"
                    $0.fields = ["birthDate"]
                }, metadata: admin)
            let ids = try people.map { try #require(UUID(uuidString: $0)) }
            let runs = try firstRuns.map { try #require(UUID(uuidString: $0.id)) }
            try #require(runs.count == 3)
            let sql = harness.coreDatabase.sql

            // when
            let applied = try await VerificationStore.settleBeneficiaries(
                [
                    (ids[0], runs[0], .verified, nil), (ids[1], runs[1], .rejected, "missing: birth date"),
                    (ids[2], runs[2], .verified, nil),
                ], on: sql)
            try await VerificationStore.recordOutcomes(
                [(runs[0], .verified, "[]", "[]"), (runs[1], .rejected, "[]", #"["missing: birth date"]"#)],
                at: Date(), on: sql)
            let again = try await VerificationStore.settleBeneficiaries([(ids[0], runs[0], .rejected, "late")], on: sql)

            // then: the overtaken run wrote nothing, and a second settle changes nothing
            #expect(applied == [runs[0], runs[1]])
            #expect(again.isEmpty)
            var found: [String] = []
            var recorded: [[String]] = []
            for id in ids {
                let row = try #require(
                    try await sql.raw(
                        "SELECT verification_status, verification_reason FROM beneficiaries WHERE id = \(bind: id)"
                    ).first())
                let reason = try row.decode(column: "verification_reason", as: String?.self)
                found.append("\(try row.decode(column: "verification_status", as: String.self)):\(reason ?? "")")
                recorded.append(
                    try await sql.raw("SELECT status FROM verifications WHERE beneficiary_id = \(bind: id) ORDER BY id")
                        .all().map { try $0.decode(column: "status", as: String.self) })
            }
            #expect(found == ["verified:", "rejected:missing: birth date", "pending:"])
            #expect(recorded == [["verified"], ["rejected"], ["pending", "pending"]])
        }
    }

    @Test(
        "a phone an archived beneficiary held sends the new holder's check to review, naming the archived one",
        arguments: DatabaseEngine.available)
    func archivedHolder(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine, configureCore: { $0.kyc = Self.rules }, runsJobs: true) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let earlier = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = Self.person("Sita Lama", phone: "+977 9801234567") }, metadata: admin)
            _ = try await Self.checked(earlier.id, harness: harness, as: admin)
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = earlier.id }, metadata: admin)
            // when
            let later = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = Self.person("Mina Lama", phone: "+977 9801234567") }, metadata: admin)
            let checked = try await Self.checked(later.id, harness: harness, as: admin)
            // then
            #expect(checked.verificationStatus == "needs_review")
            #expect(checked.verificationReason == "phone belonged to archived beneficiary \(earlier.id)")
            let laterID = try #require(UUID(uuidString: later.id))
            let row = try await harness.coreDatabase.sql.raw(
                "SELECT phone_index FROM beneficiaries WHERE id = \(bind: laterID)"
            ).first()
            let index = try #require(try row?.decode(column: "phone_index", as: String.self))
            let holders = try await BeneficiaryStore.holders(of: .phone, [index], on: harness.coreDatabase.sql)
            #expect(
                holders[index]?.map { "\($0.id.lowercasedString):\($0.archived)" } == [
                    "\(earlier.id):true", "\(later.id):false",
                ])
        }
    }

    @Test(
        "a batch's outcomes and an enrolment of the same people in concurrent transactions do not deadlock",
        .enabled(if: DatabaseEngine.available.contains(.postgres)))
    func settlesBesideEnrolment() async throws {
        try await ServiceHarness.with(.postgres) { harness in
            // given: 200 people with a pending check each, in no project yet, stored highest id
            // first (as a batch registered in one millisecond may be: UUIDv7's random tail), so
            // that an update reading the table meets them in the order opposite to the trigger's
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await harness.projects.createProject(ProjectTests.newProject(), metadata: admin)
            let projectID = try #require(UUID(uuidString: project.id))
            let sql = harness.coreDatabase.sql
            let ids = (0..<200).map { _ in UUID() }.sorted { lhs, rhs in rhs.precedesInBytes(lhs) }
            for id in ids {
                try await sql.raw(
                    """
                    INSERT INTO beneficiaries (id, name_sealed, gender, banked_status, internet_status, phone_status,
                        verification_status, verification_id, extras, created_by, created_at, updated_at)
                    VALUES (\(bind: id), 'sealed', 'female', 'unknown', 'unknown', 'unknown', 'pending',
                        gen_random_uuid(), '{}', gen_random_uuid(), now(), now())
                    """
                ).run()
            }
            let runs = Dictionary(
                uniqueKeysWithValues: try await sql.raw("SELECT id, verification_id FROM beneficiaries").all().map {
                    row in
                    (
                        try row.decode(column: "id", as: UUID.self),
                        try row.decode(column: "verification_id", as: UUID.self)
                    )
                })
            let lowest = try #require(ids.last)
            let database = harness.coreDatabase.db
            let (locked, lockedFirst) = AsyncStream.makeStream(of: Void.self)

            // when: an enrolment of everyone holds the lowest id's share lock (its trigger's first)
            // when the batch's outcomes arrive, listed highest id first
            async let enrolled: Void = database.transaction { tx in
                guard let sql = tx as? any SQLDatabase else { return }
                try await sql.raw("SELECT 1 FROM beneficiaries WHERE id = \(bind: lowest) FOR SHARE").run()
                lockedFirst.yield()
                try await Task.sleep(for: .milliseconds(300))
                try await sql.raw(
                    """
                    INSERT INTO enrolments (id, project_id, beneficiary_id, type, enrolled_by, enrolled_at)
                    SELECT gen_random_uuid(), \(bind: projectID), id, 'enrolled', gen_random_uuid(), now()
                    FROM beneficiaries
                    """
                ).run()
            }
            for await _ in locked { break }
            let applied = try await database.transaction { tx in
                guard let sql = tx as? any SQLDatabase else { return Set<UUID>() }
                return try await VerificationStore.settleBeneficiaries(
                    ids.compactMap { id in runs[id].map { (id, $0, .verified, nil) } }, on: sql)
            }
            try await enrolled

            // then: neither was chosen as a deadlock's victim, and the counts saw everyone
            #expect(applied == Set(runs.values))
            #expect(try await StatsTests.recount(projectID, on: sql) == ["verified/female/unknown": 200])
            let counted = try await StatsStore.beneficiaryBuckets(of: projectID, on: sql)
            #expect(counted.map { "\($0.verification_status):\($0.total)" } == ["verified:200"])
        }
    }
}
