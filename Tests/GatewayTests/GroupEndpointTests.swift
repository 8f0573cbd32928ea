import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Groups over HTTP")
    struct Groups {
        @Test(
            "create a group, add members, enrol it in a project, remove a member", arguments: DatabaseEngine.available)
        func lifecycle(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given
                let tokens = try await client.login()
                let batch = try await client.send(
                    .post,
                    "/v1/beneficiaries/batch",
                    json: ["items": [["name": "Asha", "phone": "+9779800000011"], ["name": "Binod"]]],
                    bearer: tokens.access
                )
                let people = try #require(
                    try (batch.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String })
                let project = try await client.send(
                    .post, "/v1/projects",
                    json: ["name": "Winter cash", "type": "c2c", "asset": "NPR", "assetScale": 2],
                    bearer: tokens.access)
                let projectID = try #require(try project.json["id"] as? String)
                // when
                let created = try await client.send(
                    .post, "/v1/groups", json: ["name": "Ward 9", "purpose": "mobile_money"], bearer: tokens.access)
                let groupID = try #require(try created.json["id"] as? String)
                let added = try await client.send(
                    .post, "/v1/groups/\(groupID)/members", json: ["beneficiaryIds": people], bearer: tokens.access)
                let enrolled = try await client.send(
                    .post, "/v1/projects/\(projectID)/beneficiaries", json: ["groupId": groupID],
                    bearer: tokens.access)
                let removed = try await client.send(
                    .post, "/v1/groups/\(groupID)/members/remove", json: ["beneficiaryIds": [people[0]]],
                    bearer: tokens.access)
                let members = try await client.send(.get, "/v1/groups/\(groupID)/members", bearer: tokens.access)
                let inProject = try await client.send(
                    .get, "/v1/beneficiaries?projectId=\(projectID)", bearer: tokens.access)
                let badPurpose = try await client.send(
                    .post, "/v1/groups", json: ["name": "X", "purpose": "lottery"], bearer: tokens.access)
                let deleted = try await client.send(.delete, "/v1/groups/\(groupID)", bearer: tokens.access)
                let afterDelete = try await client.send(.get, "/v1/groups/\(groupID)", bearer: tokens.access)
                // then
                #expect(created.status == .created)
                #expect(created.headers[.location] == "/v1/groups/\(groupID)")
                #expect(try created.json["purpose"] as? String == "mobile_money")
                #expect(try added.json["changed"] as? Int == 2)
                #expect(try enrolled.json["enrolled"] as? Int == 2)
                #expect(try removed.json["changed"] as? Int == 1)
                #expect(
                    try (members.json["items"] as? [[String: Any]])?.map { $0["beneficiaryId"] as? String } == [
                        people[1]
                    ])
                #expect(try (inProject.json["items"] as? [Any])?.count == 2)
                #expect(badPurpose.status == .badRequest)
                #expect(deleted.status == .noContent)
                #expect(afterDelete.status == .notFound)
            }
        }
    }
}
