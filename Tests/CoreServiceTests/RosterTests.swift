import AuthAPI
import CoreAPI
import Foundation
import GRPCCore
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// The roster project-c2c plans disbursements from.
@Suite("Roster")
struct RosterTests {
    static func roster(
        _ harness: ServiceHarness, _ request: Rahat_Core_V1_StreamRosterRequest, as caller: Metadata
    ) async throws -> [Rahat_Core_V1_RosterEntry] {
        try await harness.projects.streamRoster(request, metadata: caller) { response in
            var entries: [Rahat_Core_V1_RosterEntry] = []
            for try await chunk in response.messages { entries += chunk.entries }
            return entries
        }
    }

    @Test(
        "the roster lists the enrolled, a group's members flagged enrolled or not, or the enrolled a filter matches or the request names",
        arguments: DatabaseEngine.available)
    func roster(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given four people, three enrolled, one of those archived; a group of two
            let tokens = try await harness.login()
            let admin = ServiceHarness.bearer(tokens.accessToken)
            let project = try await harness.projects.createProject(ProjectTests.newProject(), metadata: admin).id
            let people = try await harness.beneficiaries.createBeneficiaries(
                .with {
                    $0.beneficiaries = ["female", "male", "female", "male"].enumerated().map { index, gender in
                        .with {
                            $0.name = "Person \(index)"
                            $0.gender = gender
                        }
                    }
                }, metadata: admin
            ).beneficiaries.map(\.id)
            _ = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = project
                    $0.beneficiaryIds = Array(people[0...2])
                }, metadata: admin)
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = people[1] }, metadata: admin)
            let group = try await harness.groups.createGroup(.with { $0.name = "Ward 2" }, metadata: admin).id
            _ = try await harness.groups.addGroupMembers(
                .with {
                    $0.groupID = group
                    $0.beneficiaryIds = [people[2], people[3]]
                }, metadata: admin)
            let (_, agent) = try await harness.createUser(
                email: "vendor@example.org", roles: [.role("vendor")], as: tokens.accessToken)

            // when
            let enrolled = try await Self.roster(harness, .with { $0.projectID = project }, as: admin)
            let members = try await Self.roster(
                harness,
                .with {
                    $0.projectID = project
                    $0.groupID = group
                }, as: admin)
            let women = try await Self.roster(
                harness,
                .with {
                    $0.projectID = project
                    $0.filter.gender = "female"
                }, as: admin)
            let named = try await Self.roster(
                harness,
                .with {
                    $0.projectID = project
                    $0.beneficiaryIds = [people[3], people[1], people[0], people[0]]
                }, as: admin)
            let namedAndGroup = await serviceFailure {
                try await Self.roster(
                    harness,
                    .with {
                        $0.projectID = project
                        $0.groupID = group
                        $0.beneficiaryIds = [people[0]]
                    }, as: admin)
            }
            let badFilter = await serviceFailure {
                try await Self.roster(
                    harness,
                    .with {
                        $0.projectID = project
                        $0.filter.gender = "unknown-value"
                    }, as: admin)
            }
            let forbidden = await serviceFailure {
                try await Self.roster(
                    harness, .with { $0.projectID = project }, as: ServiceHarness.bearer(agent.accessToken))
            }

            // then
            #expect(enrolled.map(\.beneficiaryID) == Array(people[0...2]).sorted())
            #expect(enrolled.filter(\.archived).map(\.beneficiaryID) == [people[1]])
            // Their first checks are queued, not yet run.
            #expect(enrolled.allSatisfy { $0.enrolled && $0.verificationStatus == "pending" })
            #expect(members.map(\.beneficiaryID) == [people[2], people[3]].sorted())
            #expect(members.first { $0.beneficiaryID == people[2] }?.enrolled == true)
            #expect(members.first { $0.beneficiaryID == people[3] }?.enrolled == false)
            #expect(women.map(\.beneficiaryID) == [people[0], people[2]].sorted())
            // Only the named who are enrolled, each once: the one never enrolled is simply absent.
            #expect(named.map(\.beneficiaryID) == [people[0], people[1]].sorted())
            #expect(named.first { $0.beneficiaryID == people[1] }?.archived == true)
            #expect(namedAndGroup?.violations.map(\.field) == ["beneficiaryIds"])
            #expect(badFilter?.violations.map(\.field) == ["filter.gender"])
            #expect(forbidden?.kind == .permissionDenied)
        }
    }
}
