import AuthAPI
import CoreAPI
import FluentKit
import Foundation
import GRPCCore
import Persistence
import SQLKit
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

@testable import CoreService

/// Per-project statistics and the counts the database keeps for them.
@Suite("Project stats")
struct StatsTests {
    @Test("stats count live enrolled beneficiaries by status and vendors by state", arguments: DatabaseEngine.available)
    func counts(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await harness.projects.createProject(ProjectTests.newProject(), metadata: admin)
            let people = try await harness.beneficiaries.createBeneficiaries(
                .with {
                    $0.beneficiaries = [
                        .with {
                            $0.name = "A"
                            $0.gender = "female"
                            $0.phoneStatus = "feature_phone"
                        },
                        .with {
                            $0.name = "B"
                            $0.gender = "female"
                            $0.phoneStatus = "smart_phone"
                        },
                        .with {
                            $0.name = "C"
                            $0.gender = "male"
                        },
                        .with { $0.name = "Not enrolled" },
                    ]
                },
                metadata: admin
            ).beneficiaries.map(\.id)
            _ = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = project.id
                    $0.beneficiaryIds = Array(people.prefix(3))
                },
                metadata: admin
            )
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = people[2] }, metadata: admin)
            let vendor = try await harness.vendors.registerVendor(VendorTests.newVendor(), metadata: admin)
            _ = try await harness.vendors.assignVendor(
                .with {
                    $0.projectID = project.id
                    $0.vendorID = vendor.id
                },
                metadata: admin
            )
            // when
            let stats = try await harness.projects.getProjectStats(.with { $0.projectID = project.id }, metadata: admin)
            let unknown = await serviceFailure {
                try await harness.projects.getProjectStats(.with { $0.projectID = UUID().uuidString }, metadata: admin)
            }
            // then
            #expect(stats.beneficiaries == 2)
            #expect(stats.byGender == ["female": 2, "male": 0, "other": 0, "unknown": 0])
            #expect(stats.byPhoneStatus["feature_phone"] == 1 && stats.byPhoneStatus["smart_phone"] == 1)
            #expect(stats.byVerificationStatus["pending"] == 2 && stats.byVerificationStatus.count == 5)
            #expect((stats.vendorsActive, stats.vendorsInactive) == (1, 0))
            #expect(unknown?.reason == "project.not_found")
        }
    }

    @Test(
        "the counts the database keeps match a recount after every kind of change, folded or not",
        arguments: DatabaseEngine.available)
    func countsFollowChanges(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given: twelve people across the buckets, nine in one project and seven in another
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let sql = harness.coreDatabase.sql
            let genders = ["female", "male", "other", "unknown"]
            let phones = ["smart_phone", "feature_phone", "no_phone"]
            let people = try await harness.beneficiaries.createBeneficiaries(
                .with { request in
                    request.beneficiaries = (0..<12).map { index in
                        .with {
                            $0.name = "Person \(index)"
                            $0.gender = genders[index % genders.count]
                            $0.phoneStatus = phones[index % phones.count]
                        }
                    }
                },
                metadata: admin
            ).beneficiaries.map(\.id)
            let first = try await harness.projects.createProject(ProjectTests.newProject("First"), metadata: admin)
            let second = try await harness.projects.createProject(ProjectTests.newProject("Second"), metadata: admin)
            for (project, members) in [(first, people[0..<9]), (second, people[5..<12])] {
                _ = try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = project.id
                        $0.beneficiaryIds = Array(members)
                    },
                    metadata: admin)
            }
            func expectCountsMatch(_ moment: String) async throws {
                for project in [first, second] {
                    let projectID = try #require(UUID(uuidString: project.id))
                    let kept = try await StatsStore.beneficiaryBuckets(of: projectID, on: sql)
                    let keptCounts = Dictionary(
                        kept.map { ("\($0.verification_status)/\($0.gender)/\($0.phone_status)", $0.total) },
                        uniquingKeysWith: +)
                    let recounted = try await Self.recount(projectID, on: sql)
                    #expect(keptCounts == recounted, "\(project.name), \(moment)")
                    let stats = try await harness.projects.getProjectStats(
                        .with { $0.projectID = project.id }, metadata: admin)
                    #expect(stats.beneficiaries == recounted.values.reduce(0, +), "\(project.name), \(moment)")
                }
            }
            try await expectCountsMatch("after enrolment")

            // when: people change bucket through the API, are archived, leave, and change in bulk
            _ = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = people[0]
                    $0.changes.gender = "male"
                    $0.changes.phoneStatus = "no_phone"
                    $0.fields = ["gender", "phoneStatus"]
                },
                metadata: admin)
            _ = try await harness.beneficiaries.updateBeneficiary(
                .with {
                    $0.id = people[4]
                    $0.changes.location = "Birgunj"
                    $0.fields = ["location"]
                },
                metadata: admin)
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = people[6] }, metadata: admin)
            _ = try await harness.projects.unenrolBeneficiary(
                .with {
                    $0.projectID = first.id
                    $0.beneficiaryID = people[2]
                },
                metadata: admin)
            let checked = try people[3..<8].map { try #require(UUID(uuidString: $0)) }
            try await sql.raw(
                "UPDATE beneficiaries SET verification_status = 'verified' WHERE id IN (\(binds: checked))"
            ).run()
            // then
            try await expectCountsMatch("after changes")

            // when: the deltas are folded, then more change: one restored, one enrolled again
            let rowsBefore = try await Self.deltaRows(on: sql)
            #expect(try await harness.core.domain.foldProjectCounts(over: 0) == 2)
            let rowsAfter = try await Self.deltaRows(on: sql)
            let buckets = try await sql.raw(
                """
                SELECT COUNT(*) AS buckets FROM (SELECT DISTINCT project_id, verification_status, gender, phone_status
                FROM project_beneficiary_counts) AS distinct_buckets
                """
            ).first()?.decode(column: "buckets", as: Int.self)
            try await expectCountsMatch("after folding")
            let restored = try #require(UUID(uuidString: people[6]))
            try await sql.raw("UPDATE beneficiaries SET archived_at = NULL WHERE id = \(bind: restored)").run()
            _ = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = first.id
                    $0.beneficiaryIds = [people[2], people[11]]
                },
                metadata: admin)
            // then: folding left one row per bucket, and the counts still match
            #expect(rowsAfter < rowsBefore)
            #expect(rowsAfter == buckets)
            try await expectCountsMatch("after folding and more changes")
        }
    }

    @Test(
        "an enrolment and a change of the same beneficiary in concurrent transactions are both counted",
        .enabled(if: DatabaseEngine.available.contains(.postgres)))
    func concurrentChanges() async throws {
        try await ServiceHarness.with(.postgres) { harness in
            // given: 40 people in no project
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await harness.projects.createProject(ProjectTests.newProject(), metadata: admin)
            let projectID = try #require(UUID(uuidString: project.id))
            let sql = harness.coreDatabase.sql
            let people = try await sql.raw(
                """
                INSERT INTO beneficiaries (id, name_sealed, gender, banked_status, internet_status, phone_status,
                    verification_status, extras, created_by, created_at, updated_at)
                SELECT gen_random_uuid(), 'sealed', 'female', 'unknown', 'unknown', 'unknown', 'pending', '{}',
                    gen_random_uuid(), now(), now()
                FROM generate_series(1, 40)
                RETURNING id
                """
            ).all().map { try $0.decode(column: "id", as: UUID.self) }
            let database = harness.coreDatabase.db
            // when: each person is enrolled in one transaction while another changes their status,
            // both held open a moment so that each starts before the other commits
            func hold(_ statement: SQLQueryString) async throws {
                try await database.transaction { tx in
                    guard let sql = tx as? any SQLDatabase else { return }
                    try await sql.raw(statement).run()
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            for (index, person) in people.enumerated() {
                async let enrolled: Void = hold(
                    """
                    INSERT INTO enrolments (id, project_id, beneficiary_id, type, enrolled_by, enrolled_at)
                    VALUES (gen_random_uuid(), \(bind: projectID), \(bind: person), 'enrolled', gen_random_uuid(), now())
                    """)
                async let changed: Void = hold(
                    "UPDATE beneficiaries SET verification_status = 'verified' WHERE id = \(bind: person)")
                // Alternate which starts first.
                if index.isMultiple(of: 2) {
                    try await enrolled
                    try await changed
                } else {
                    try await changed
                    try await enrolled
                }
            }
            // and then removed from the project while changed back
            for person in people {
                async let removed: Void = hold(
                    "DELETE FROM enrolments WHERE project_id = \(bind: projectID) AND beneficiary_id = \(bind: person)")
                async let changed: Void = hold(
                    "UPDATE beneficiaries SET verification_status = 'pending' WHERE id = \(bind: person)")
                try await removed
                try await changed
            }
            // then: all forty were counted in, verified, and out again
            let kept = try await StatsStore.beneficiaryBuckets(of: projectID, on: sql)
            #expect(kept.isEmpty, "\(kept.map { ($0.verification_status, $0.total) })")
            #expect(try await Self.recount(projectID, on: sql).isEmpty)
        }
    }

    /// The project's live enrolled beneficiaries counted from the rows themselves, keyed
    /// `status/gender/phone`.
    static func recount(_ projectID: UUID, on sql: any SQLDatabase) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await sql.raw(
            """
            SELECT b.verification_status, b.gender, b.phone_status, COUNT(*) AS total
            FROM enrolments e JOIN beneficiaries b ON b.id = e.beneficiary_id
            WHERE e.project_id = \(bind: projectID) AND b.archived_at IS NULL
            GROUP BY b.verification_status, b.gender, b.phone_status
            """
        ).all(decoding: StatsStore.BeneficiaryBucket.self) {
            counts["\(row.verification_status)/\(row.gender)/\(row.phone_status)"] = row.total
        }
        return counts
    }

    static func deltaRows(on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS total FROM project_beneficiary_counts").first()?
            .decode(column: "total", as: Int.self) ?? 0
    }
}
