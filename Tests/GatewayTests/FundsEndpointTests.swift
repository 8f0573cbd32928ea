import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Project funds over HTTP")
    struct Funds {
        @Test(
            "approvers are set and read, funding lands in the ledger once per reference, and bad input names its field",
            arguments: DatabaseEngine.available)
        func funds(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given a project and a manager of it
                let admin = try await client.login()
                let project = try await client.send(
                    .post, "/v1/projects",
                    json: ["name": "Flood relief", "type": "c2c", "asset": "NPR", "assetScale": 2],
                    bearer: admin.access)
                let projectID = try #require(try project.json["id"] as? String, "\(project)")
                let manager = try await client.send(
                    .post, "/v1/users",
                    json: [
                        "name": "Manager", "email": "manager@example.org", "password": "another long passphrase",
                        "roles": [["role": "manager", "projectId": projectID]],
                    ],
                    bearer: admin.access)
                let managerID = try #require(try manager.json["id"] as? String, "\(manager)")
                let me = try await client.send(.get, "/v1/auth/me", bearer: admin.access)
                let adminID = try #require((try me.json["user"] as? [String: Any])?["id"] as? String, "\(me)")

                // when
                let approvers = try await client.send(
                    .put, "/v1/projects/\(projectID)/approvers",
                    json: ["userIds": [adminID, managerID], "required": 2], bearer: admin.access)
                let read = try await client.send(.get, "/v1/projects/\(projectID)/approvers", bearer: admin.access)
                let badApprovers = try await client.send(
                    .put, "/v1/projects/\(projectID)/approvers", json: ["userIds": [managerID], "required": 2],
                    bearer: admin.access)
                let funded = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding",
                    json: ["amount": 1_000_000, "reference": "ECHO/2026/17", "note": "first tranche"],
                    bearer: admin.access)
                let again = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding",
                    json: ["amount": 1_000_000, "reference": "ECHO/2026/17"],
                    bearer: admin.access)
                let conflict = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding", json: ["amount": 5, "reference": "ECHO/2026/17"],
                    bearer: admin.access)
                let zero = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding", json: ["amount": 0, "reference": "x"],
                    bearer: admin.access)
                let listed = try await client.send(.get, "/v1/projects/\(projectID)/funding", bearer: admin.access)
                let books = try await client.send(
                    .get, "/v1/projects/\(projectID)/reconciliation", bearer: admin.access)

                // then
                #expect(approvers.status == .ok, "\(approvers)")
                #expect(try read.json["required"] as? Int == 2)
                #expect(try read.json["userIds"] as? [String] == [adminID, managerID])
                #expect(badApprovers.status == .badRequest && badApprovers.problemFields == ["required"])
                #expect(funded.status == .created, "\(funded)")
                #expect(try funded.json["asset"] as? String == "NPR")
                #expect(try funded.json["replayed"] as? Bool == false)
                #expect(again.status == .ok)
                #expect(try again.json["id"] as? String == funded.json["id"] as? String)
                #expect(conflict.status == .conflict && conflict.problemCode == "funding.reference_conflict")
                #expect(conflict.problemFields == ["reference"])
                #expect(zero.status == .badRequest, "\(zero)")
                #expect((try listed.json["items"] as? [Any])?.count == 1)
                #expect(try books.json["funded"] as? Int == 1_000_000, "\(books)")
                #expect(try books.json["remaining"] as? Int == 1_000_000, "\(books)")
            }
        }
    }
}
