import AuthAPI
import CoreAPI
import CoreService
import Foundation
import GRPCCore
import Persistence
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// Projects through the core service's gRPC API, on every database engine.
@Suite("Projects")
struct ProjectTests {
    static func newProject(_ name: String = "Flood response") -> Rahat_Core_V1_CreateProjectRequest {
        .with {
            $0.name = name
            $0.type = .c2C
            $0.asset = "npr"
            $0.assetScale = 2
            $0.defaultCountry = "np"
        }
    }

    @Test(
        "a project starts as a draft and moves draft → active → closed, once each way",
        arguments: DatabaseEngine.available)
    func lifecycle(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let created = try await harness.projects.createProject(Self.newProject(), metadata: admin)
            // when
            let active = try await harness.projects.activateProject(.with { $0.id = created.id }, metadata: admin)
            let again = await serviceFailure {
                try await harness.projects.activateProject(.with { $0.id = created.id }, metadata: admin)
            }
            let closed = try await harness.projects.closeProject(.with { $0.id = created.id }, metadata: admin)
            let reopen = await serviceFailure {
                try await harness.projects.activateProject(.with { $0.id = created.id }, metadata: admin)
            }
            // then
            #expect(created.status == .draft)
            #expect(created.asset == "NPR")
            #expect(created.defaultCountry == "NP")
            #expect(active.status == .active)
            #expect(active.hasActivatedAt)
            #expect(again?.reason == "project.invalid_transition")
            #expect(again?.kind == .failedPrecondition)
            #expect(closed.status == .closed)
            #expect(reopen?.reason == "project.invalid_transition")
        }
    }

    @Test("every change writes its event to the outbox in the same transaction", arguments: DatabaseEngine.available)
    func outboxEvents(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let created = try await harness.projects.createProject(Self.newProject(), metadata: admin)
            _ = try await harness.projects.activateProject(.with { $0.id = created.id }, metadata: admin)
            _ = try await harness.projects.closeProject(.with { $0.id = created.id }, metadata: admin)
            let failed = await serviceFailure {
                try await harness.projects.closeProject(.with { $0.id = created.id }, metadata: admin)
            }
            let events = try await harness.coreOutbox()
            #expect(failed != nil)
            #expect(
                events.map(\.type) == [
                    "rahat.core.project.created", "rahat.core.project.activated", "rahat.core.project.closed",
                ]
            )
            #expect(events.allSatisfy { $0.aggregateID == created.id })
            let envelope = try #require(
                try JSONSerialization.jsonObject(with: Data(events[0].json.utf8)) as? [String: Any]
            )
            #expect(envelope["type"] as? String == "rahat.core.project.created")
            #expect(envelope["version"] as? Int == 1)
            #expect(envelope["id"] as? String == events[0].id.uuidString.lowercased())
            #expect((envelope["data"] as? [String: Any])?["asset"] as? String == "NPR")
            #expect(envelope["occurredAt"] != nil)
        }
    }

    @Test("bad input names every field and creates nothing", arguments: DatabaseEngine.available)
    func validation(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let error = await serviceFailure {
                try await harness.projects.createProject(
                    .with {
                        $0.name = " "
                        $0.asset = "N"
                        $0.assetScale = 12
                        $0.settingsJson = "[1, 2]"
                        $0.defaultCountry = "Nepal"
                    },
                    metadata: admin
                )
            }
            let list = try await harness.projects.listProjects(.init(), metadata: admin)
            #expect(
                Set(error?.violations.map(\.field) ?? []) == [
                    "name", "type", "asset", "assetScale", "settings", "defaultCountry",
                ])
            #expect(list.projects.isEmpty)
            #expect(try await harness.coreOutbox().isEmpty)
        }
    }

    @Test("a manager of project A sees and changes A only", arguments: DatabaseEngine.available)
    func projectScope(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let adminToken = try await harness.login().accessToken
            let admin = ServiceHarness.bearer(adminToken)
            let projectA = try await harness.projects.createProject(Self.newProject("A"), metadata: admin)
            let projectB = try await harness.projects.createProject(Self.newProject("B"), metadata: admin)
            let (_, manager) = try await harness.createUser(
                email: "manager@example.org",
                roles: [.role("manager", project: projectA.id)],
                as: adminToken
            )
            let asManager = ServiceHarness.bearer(manager.accessToken)
            // when
            let list = try await harness.projects.listProjects(.init(), metadata: asManager)
            let readA = try await harness.projects.getProject(.with { $0.id = projectA.id }, metadata: asManager)
            let readB = await serviceFailure {
                try await harness.projects.getProject(.with { $0.id = projectB.id }, metadata: asManager)
            }
            let renameA = try await harness.projects.updateProject(
                .with {
                    $0.id = projectA.id
                    $0.name = "A (renamed)"
                },
                metadata: asManager
            )
            let renameB = await serviceFailure {
                try await harness.projects.updateProject(
                    .with {
                        $0.id = projectB.id
                        $0.name = "B (renamed)"
                    },
                    metadata: asManager
                )
            }
            let activateA = await serviceFailure {
                try await harness.projects.activateProject(.with { $0.id = projectA.id }, metadata: asManager)
            }
            let create = await serviceFailure {
                try await harness.projects.createProject(Self.newProject("C"), metadata: asManager)
            }
            // then
            #expect(list.projects.map(\.id) == [projectA.id])
            #expect(readA.name == "A")
            #expect(readB?.kind == .permissionDenied)
            #expect(renameA.name == "A (renamed)")
            #expect(renameB?.kind == .permissionDenied)
            #expect(activateA?.kind == .permissionDenied)
            #expect(create?.kind == .permissionDenied)
        }
    }

    @Test("listing filters by status and type and pages with a cursor", arguments: DatabaseEngine.available)
    func listing(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            var ids: [String] = []
            for index in 0..<5 {
                var request = Self.newProject("P\(index)")
                if index.isMultiple(of: 2) { request.type = .cva }
                ids.append(try await harness.projects.createProject(request, metadata: admin).id)
            }
            _ = try await harness.projects.activateProject(.with { $0.id = ids[1] }, metadata: admin)
            let active = try await harness.projects.listProjects(.with { $0.status = .active }, metadata: admin)
            let vouchers = try await harness.projects.listProjects(.with { $0.type = .cva }, metadata: admin)
            var pages: [[String]] = []
            var cursor: String?
            repeat {
                let page = try await harness.projects.listProjects(
                    .with {
                        $0.limit = 2
                        if let cursor { $0.cursor = cursor }
                    },
                    metadata: admin
                )
                pages.append(page.projects.map(\.id))
                cursor = page.hasNextCursor ? page.nextCursor : nil
            } while cursor != nil
            #expect(active.projects.map(\.id) == [ids[1]])
            #expect(vouchers.projects.map(\.id) == [ids[0], ids[2], ids[4]])
            #expect(pages == [[ids[0], ids[1]], [ids[2], ids[3]], [ids[4]]])
        }
    }
}
