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

/// Per-project statistics and the plan of the query behind them.
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
        "at 100,000 beneficiaries the stats query reads the project's enrolments by index, not the table",
        .enabled(if: DatabaseEngine.available.contains(.postgres)))
    func plan() async throws {
        try await ServiceHarness.with(.postgres) { harness in
            // given: 100,000 beneficiaries, 2,000 of them in the project, planner statistics fresh
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await harness.projects.createProject(ProjectTests.newProject(), metadata: admin)
            let sql = try #require(harness.coreDatabase.db as? any SQLDatabase)
            try await sql.raw(
                """
                INSERT INTO beneficiaries (id, name_sealed, gender, banked_status, internet_status, phone_status,
                    verification_status, extras, created_by, created_at, updated_at)
                SELECT gen_random_uuid(), 'sealed', (ARRAY['male','female','other','unknown'])[1 + n % 4],
                    'unknown', 'unknown', 'unknown', 'unverified', '{}', gen_random_uuid(), now(), now()
                FROM generate_series(1, 100000) AS n
                """
            ).run()
            // Every beneficiary is enrolled somewhere; one in fifty, spread through the table, here.
            let elsewhere = UUID()
            try await sql.raw(
                """
                INSERT INTO projects (id, name, type, status, asset, asset_scale, settings, created_by, created_at,
                    updated_at)
                VALUES (\(bind: elsewhere), 'Elsewhere', 'c2c', 'active', 'NPR', 2, '{}', gen_random_uuid(), now(), now())
                """
            ).run()
            try await sql.raw(
                """
                INSERT INTO enrolments (id, project_id, beneficiary_id, type, enrolled_by, enrolled_at)
                SELECT gen_random_uuid(),
                    CASE WHEN row_number() OVER () % 50 = 0 THEN \(bind: UUID(uuidString: project.id)) ELSE \(bind: elsewhere) END,
                    id, 'enrolled', gen_random_uuid(), now()
                FROM beneficiaries
                """
            ).run()
            try await sql.raw("ANALYZE").run()
            // when
            let query = StatsStore.beneficiaryCountQuery(try #require(UUID(uuidString: project.id)), on: sql)
            let plan = try await sql.raw("EXPLAIN \(query)").all().map {
                try $0.decode(column: "QUERY PLAN", as: String.self)
            }
            let stats = try await harness.projects.getProjectStats(.with { $0.projectID = project.id }, metadata: admin)
            // then
            let text = plan.joined(separator: "\n")
            #expect(!text.contains("Seq Scan on beneficiaries"), "plan:\n\(text)")
            #expect(!text.contains("Seq Scan on enrolments"), "plan:\n\(text)")
            #expect(text.contains("Index Cond: (project_id ="), "plan:\n\(text)")
            #expect(text.contains("Index Scan using beneficiaries_pkey"), "plan:\n\(text)")
            #expect(stats.beneficiaries == 2000)
        }
    }
}
