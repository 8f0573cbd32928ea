import AuthAPI
import CoreAPI
import Foundation
import GRPCCore
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// Enrolment, and the project scope it gives to beneficiary access.
@Suite("Enrolment")
struct EnrolmentTests {
    @Test(
        "enrolling counts repeats, names unknown ids, and a closed project takes no one",
        arguments: DatabaseEngine.available)
    func enrol(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await harness.projects.createProject(ProjectTests.newProject(), metadata: admin)
            let people = try await harness.beneficiaries.createBeneficiaries(
                .with { $0.beneficiaries = (1...3).map { BeneficiaryTests.person("P\($0)", phone: "980000000\($0)") } },
                metadata: admin
            ).beneficiaries.map(\.id)
            // when
            let first = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = project.id
                    $0.beneficiaryIds = Array(people.prefix(2))
                },
                metadata: admin
            )
            let second = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = project.id
                    $0.beneficiaryIds = people
                    $0.type = .referred
                },
                metadata: admin
            )
            let unknown = await serviceFailure {
                try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = project.id
                        $0.beneficiaryIds = [people[0], UUID().uuidString]
                    },
                    metadata: admin
                )
            }
            let listed = try await harness.projects.listEnrolments(.with { $0.projectID = project.id }, metadata: admin)
            _ = try await harness.projects.activateProject(.with { $0.id = project.id }, metadata: admin)
            _ = try await harness.projects.closeProject(.with { $0.id = project.id }, metadata: admin)
            let closed = await serviceFailure {
                try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = project.id
                        $0.beneficiaryIds = [people[2]]
                    },
                    metadata: admin
                )
            }
            // then
            #expect(first.enrolled == 2)
            #expect((second.enrolled, second.alreadyEnrolled) == (1, 2))
            #expect(unknown?.violations.map(\.field) == ["beneficiaryIds[1]"])
            #expect(Set(listed.enrolments.map(\.beneficiaryID)) == Set(people))
            #expect(closed?.reason == "project.closed")
        }
    }

    @Test(
        "a manager of project A reaches A's beneficiaries and their data, not B's", arguments: DatabaseEngine.available)
    func projectScopedAccess(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let adminToken = try await harness.login().accessToken
            let admin = ServiceHarness.bearer(adminToken)
            let projectA = try await harness.projects.createProject(ProjectTests.newProject("A"), metadata: admin)
            let projectB = try await harness.projects.createProject(ProjectTests.newProject("B"), metadata: admin)
            let inA = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = BeneficiaryTests.person("In A", phone: "9801111111") },
                metadata: admin
            )
            let inB = try await harness.beneficiaries.createBeneficiary(
                .with { $0.beneficiary = BeneficiaryTests.person("In B", phone: "9802222222") },
                metadata: admin
            )
            for (project, person) in [(projectA, inA), (projectB, inB)] {
                _ = try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = project.id
                        $0.beneficiaryIds = [person.id]
                    },
                    metadata: admin
                )
            }
            let (_, manager) = try await harness.createUser(
                email: "manager@example.org",
                roles: [.role("manager", project: projectA.id)],
                as: adminToken
            )
            let asManager = ServiceHarness.bearer(manager.accessToken)
            // when
            let ownBeneficiary = try await harness.beneficiaries.getBeneficiary(
                .with { $0.id = inA.id }, metadata: asManager)
            let otherBeneficiary = await serviceFailure {
                try await harness.beneficiaries.getBeneficiary(.with { $0.id = inB.id }, metadata: asManager)
            }
            let ownList = try await harness.projects.listEnrolments(
                .with { $0.projectID = projectA.id }, metadata: asManager)
            let otherList = await serviceFailure {
                try await harness.projects.listEnrolments(.with { $0.projectID = projectB.id }, metadata: asManager)
            }
            let enrolElsewhere = await serviceFailure {
                try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = projectB.id
                        $0.beneficiaryIds = [inA.id]
                    },
                    metadata: asManager
                )
            }
            // then
            #expect(ownBeneficiary.pii.name == "In A")
            // answered as an unknown id is, so the id confirms nothing
            #expect(otherBeneficiary?.kind == .notFound)
            #expect(ownList.enrolments.map(\.beneficiaryID) == [inA.id])
            #expect(otherList?.kind == .permissionDenied)
            #expect(enrolElsewhere?.kind == .permissionDenied)
        }
    }

    @Test(
        "a filter enrols every live match however many, from another project too, within the caller's scope",
        arguments: DatabaseEngine.available)
    func enrolByFilter(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given: 600 unbanked and 10 banked people, more than one walk batch; all but 5 in project A
            let adminToken = try await harness.login().accessToken
            let admin = ServiceHarness.bearer(adminToken)
            let projectA = try await harness.projects.createProject(ProjectTests.newProject("A"), metadata: admin)
            let projectB = try await harness.projects.createProject(ProjectTests.newProject("B"), metadata: admin)
            var ids: [String] = []
            for start in stride(from: 0, to: 610, by: 305) {
                let created = try await harness.beneficiaries.createBeneficiaries(
                    .with {
                        $0.beneficiaries = (start..<start + 305).map { index in
                            var person = BeneficiaryTests.person("P\(index)", phone: "98\(10_000_000 + index)")
                            person.bankedStatus = index < 600 ? "unbanked" : "banked"
                            return person
                        }
                    }, metadata: admin)
                ids += created.beneficiaries.map(\.id)
            }
            for chunk in stride(from: 5, to: ids.count, by: 500) {
                _ = try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = projectA.id
                        $0.beneficiaryIds = Array(ids[chunk..<min(chunk + 500, ids.count)])
                    }, metadata: admin)
            }
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = ids[10] }, metadata: admin)
            let (_, manager) = try await harness.createUser(
                email: "manager@example.org", roles: [.role("manager", project: projectB.id)], as: adminToken)
            let asManagerOfB = ServiceHarness.bearer(manager.accessToken)
            func unbanked(from project: String?) -> Rahat_Core_V1_BeneficiaryFilter {
                .with {
                    $0.bankedStatus = "unbanked"
                    if let project { $0.projectID = project }
                }
            }
            // when
            let registryWide = await serviceFailure {
                try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = projectB.id
                        $0.filter = unbanked(from: nil)
                    }, metadata: asManagerOfB)
            }
            let fromForeignProject = await serviceFailure {
                try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = projectB.id
                        $0.filter = unbanked(from: projectA.id)
                    }, metadata: asManagerOfB)
            }
            let bad = await serviceFailure {
                try await harness.projects.enrolBeneficiaries(
                    .with {
                        $0.projectID = projectB.id
                        $0.filter = .with {
                            $0.gender = "woman"
                            $0.createdFrom = Google_Protobuf_Timestamp(date: Date())
                            $0.createdTo = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                        }
                    }, metadata: admin)
            }
            let fromA = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = projectB.id
                    $0.filter = unbanked(from: projectA.id)
                }, metadata: admin)
            let everyone = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = projectB.id
                    $0.filter = unbanked(from: nil)
                }, metadata: admin)
            let stats = try await harness.projects.getProjectStats(
                .with { $0.projectID = projectB.id }, metadata: admin)
            // then
            #expect(registryWide?.kind == .permissionDenied)
            #expect(fromForeignProject?.kind == .permissionDenied)
            #expect(bad?.violations.map(\.field).sorted() == ["filter.createdTo", "filter.gender"])
            #expect((fromA.enrolled, fromA.alreadyEnrolled) == (594, 0))
            #expect((everyone.enrolled, everyone.alreadyEnrolled) == (5, 594))
            #expect(stats.beneficiaries == 599)
        }
    }
}
