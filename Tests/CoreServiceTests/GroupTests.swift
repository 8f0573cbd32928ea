import AuthAPI
import CoreAPI
import Foundation
import GRPCCore
import Persistence
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// Groups of beneficiaries, their members, and enrolling a whole group.
@Suite("Groups")
struct GroupTests {
    /// Registers `count` beneficiaries with distinct phones and returns their ids.
    static func people(
        _ count: Int, from first: Int = 1, harness: ServiceHarness, as admin: Metadata
    ) async throws
        -> [String]
    {
        try await harness.beneficiaries.createBeneficiaries(
            .with {
                $0.beneficiaries = (first..<first + count).map {
                    BeneficiaryTests.person("Member \($0)", phone: "98\(String(format: "%08d", $0))")
                }
            },
            metadata: admin
        ).beneficiaries.map(\.id)
    }

    @Test("a group is created, renamed, listed by purpose and deleted", arguments: DatabaseEngine.available)
    func lifecycle(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            // when
            let created = try await harness.groups.createGroup(
                .with {
                    $0.name = "  Ward 4 mobile money  "
                    $0.purpose = .mobileMoney
                },
                metadata: admin
            )
            let general = try await harness.groups.createGroup(.with { $0.name = "Everyone" }, metadata: admin)
            let renamed = try await harness.groups.updateGroup(
                .with {
                    $0.id = created.id
                    $0.name = "Ward 4"
                    $0.description_p = "Paid through the local agent"
                },
                metadata: admin
            )
            let mobile = try await harness.groups.listGroups(.with { $0.purpose = .mobileMoney }, metadata: admin)
            _ = try await harness.groups.deleteGroup(.with { $0.id = general.id }, metadata: admin)
            let gone = await serviceFailure {
                try await harness.groups.getGroup(.with { $0.id = general.id }, metadata: admin)
            }
            let events = try await harness.coreOutbox().filter { $0.type.hasPrefix("rahat.core.group.") }
            // then
            #expect(created.name == "Ward 4 mobile money")
            #expect(general.purpose == .general)
            #expect(
                (renamed.name, renamed.description_p, renamed.purpose) == (
                    "Ward 4", "Paid through the local agent", .mobileMoney
                ))
            #expect(mobile.groups.map(\.id) == [created.id])
            #expect(gone?.reason == "group.not_found")
            #expect(
                events.map(\.type) == [
                    "rahat.core.group.created", "rahat.core.group.created", "rahat.core.group.updated",
                    "rahat.core.group.deleted",
                ])
        }
    }

    @Test("bad group input names each field and writes nothing", arguments: DatabaseEngine.available)
    func validation(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let group = try await harness.groups.createGroup(.with { $0.name = "Ward 5" }, metadata: admin)
            // when
            let blank = await serviceFailure {
                try await harness.groups.createGroup(
                    .with {
                        $0.name = "   "
                        $0.description_p = String(repeating: "x", count: 2001)
                    },
                    metadata: admin
                )
            }
            let noChange = await serviceFailure {
                try await harness.groups.updateGroup(.with { $0.id = group.id }, metadata: admin)
            }
            let badIDs = await serviceFailure {
                try await harness.groups.addGroupMembers(
                    .with {
                        $0.groupID = group.id
                        $0.beneficiaryIds = ["nope", UUID().uuidString]
                    },
                    metadata: admin
                )
            }
            let unknownMember = await serviceFailure {
                try await harness.groups.addGroupMembers(
                    .with {
                        $0.groupID = group.id
                        $0.beneficiaryIds = [UUID().uuidString]
                    },
                    metadata: admin
                )
            }
            let unknownGroup = await serviceFailure {
                try await harness.groups.listGroupMembers(.with { $0.groupID = UUID().uuidString }, metadata: admin)
            }
            let groups = try await harness.groups.listGroups(.with { _ in }, metadata: admin)
            // then
            #expect(Set(blank?.violations.map(\.field) ?? []) == ["name", "description"])
            #expect(noChange?.violations.map(\.field) == ["body"])
            #expect(badIDs?.violations.map(\.field) == ["beneficiaryIds[0]"])
            #expect(unknownMember?.violations.map(\.field) == ["beneficiaryIds[0]"])
            #expect(unknownGroup?.reason == "group.not_found")
            #expect(groups.groups.map(\.id) == [group.id])
        }
    }

    @Test("members are added once, removed, paged and counted", arguments: DatabaseEngine.available)
    func members(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let people = try await Self.people(5, harness: harness, as: admin)
            let group = try await harness.groups.createGroup(.with { $0.name = "Ward 6" }, metadata: admin)
            // when
            let added = try await harness.groups.addGroupMembers(
                .with {
                    $0.groupID = group.id
                    $0.beneficiaryIds = Array(people.prefix(4))
                },
                metadata: admin
            )
            let again = try await harness.groups.addGroupMembers(
                .with {
                    $0.groupID = group.id
                    $0.beneficiaryIds = people
                },
                metadata: admin
            )
            let removed = try await harness.groups.removeGroupMembers(
                .with {
                    $0.groupID = group.id
                    $0.beneficiaryIds = [people[0], UUID().uuidString]
                },
                metadata: admin
            )
            let firstPage = try await harness.groups.listGroupMembers(
                .with {
                    $0.groupID = group.id
                    $0.limit = 3
                },
                metadata: admin
            )
            let secondPage = try await harness.groups.listGroupMembers(
                .with {
                    $0.groupID = group.id
                    $0.limit = 3
                    $0.cursor = firstPage.nextCursor
                },
                metadata: admin
            )
            let fetched = try await harness.groups.getGroup(.with { $0.id = group.id }, metadata: admin)
            let filtered = try await harness.beneficiaries.listBeneficiaries(
                .with {
                    $0.limit = 50
                    $0.groupID = group.id
                },
                metadata: admin
            )
            // then
            #expect((added.changed, added.unchanged) == (4, 0))
            #expect((again.changed, again.unchanged) == (1, 4))
            #expect((removed.changed, removed.unchanged) == (1, 1))
            #expect(firstPage.members.count == 3 && firstPage.hasNextCursor)
            #expect(secondPage.members.count == 1 && !secondPage.hasNextCursor)
            let listed = (firstPage.members + secondPage.members).map(\.beneficiaryID)
            #expect(listed == Array(people.dropFirst()).sorted())
            #expect(fetched.memberCount == 4)
            #expect(Set(filtered.beneficiaries.map(\.id)) == Set(people.dropFirst()))
        }
    }

    @Test(
        "enrolling a group enrols every live member, however many, and counts those already in",
        arguments: DatabaseEngine.available)
    func enrolGroup(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given: a group walked in several steps, one member archived, one already enrolled
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await harness.projects.createProject(ProjectTests.newProject(), metadata: admin)
            let group = try await harness.groups.createGroup(.with { $0.name = "Camp B" }, metadata: admin)
            var people: [String] = []
            for batch in 0..<2 {
                let ids = try await Self.people(130, from: batch * 130 + 1, harness: harness, as: admin)
                _ = try await harness.groups.addGroupMembers(
                    .with {
                        $0.groupID = group.id
                        $0.beneficiaryIds = ids
                    },
                    metadata: admin
                )
                people += ids
            }
            _ = try await harness.beneficiaries.archiveBeneficiary(.with { $0.id = people[10] }, metadata: admin)
            _ = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = project.id
                    $0.beneficiaryIds = [people[20]]
                },
                metadata: admin
            )
            // when
            let result = try await harness.projects.enrolBeneficiaries(
                .with {
                    $0.projectID = project.id
                    $0.groupID = group.id
                },
                metadata: admin
            )
            let inProject = try await harness.beneficiaries.listBeneficiaries(
                .with {
                    $0.limit = 10
                    $0.projectID = project.id
                },
                metadata: admin
            )
            let nothing = await serviceFailure {
                try await harness.projects.enrolBeneficiaries(.with { $0.projectID = project.id }, metadata: admin)
            }
            // then
            #expect((result.enrolled, result.alreadyEnrolled) == (258, 1))
            #expect(inProject.beneficiaries.count == 10 && inProject.hasNextCursor)
            #expect(nothing?.violations.map(\.field) == ["beneficiaryIds"])
        }
    }

    @Test("a field agent reads groups but cannot delete them", arguments: DatabaseEngine.available)
    func permissions(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let adminToken = try await harness.login().accessToken
            let admin = ServiceHarness.bearer(adminToken)
            let group = try await harness.groups.createGroup(.with { $0.name = "Ward 7" }, metadata: admin)
            let agent = try await harness.createUser(
                email: "agent@example.org", roles: [.role("field_agent")], as: adminToken)
            let asAgent = ServiceHarness.bearer(agent.tokens.accessToken)
            // when
            let read = try await harness.groups.getGroup(.with { $0.id = group.id }, metadata: asAgent)
            let delete = await serviceFailure {
                try await harness.groups.deleteGroup(.with { $0.id = group.id }, metadata: asAgent)
            }
            // then
            #expect(read.id == group.id)
            #expect(delete?.kind == .permissionDenied)
        }
    }
}
