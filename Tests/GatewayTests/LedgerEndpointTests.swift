import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Ledger over HTTP")
    struct Ledger {
        @Test(
            "the books are readable, bad queries name their field, and only ledger readers see them",
            arguments: DatabaseEngine.available)
        func readOnly(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given
                let admin = try await client.login()
                let project = try await client.send(
                    .post, "/v1/projects",
                    json: ["name": "Flood relief", "type": "c2c", "asset": "NPR", "assetScale": 2],
                    bearer: admin.access)
                let projectID = try #require(try project.json["id"] as? String, "\(project)")
                _ = try await client.send(
                    .post, "/v1/users",
                    json: [
                        "name": "Agent", "email": "agent@example.org", "password": "another long passphrase",
                        "roles": [["role": "field_agent"]],
                    ],
                    bearer: admin.access)
                let agent = try await client.login("agent@example.org", "another long passphrase")
                // when
                let chain = try await client.send(.get, "/v1/ledger/verify", bearer: admin.access)
                let books = try await client.send(
                    .get, "/v1/projects/\(projectID)/reconciliation", bearer: admin.access)
                let unopened = try await client.send(
                    .get, "/v1/ledger/accounts?projectId=\(projectID)&kind=project_fund", bearer: admin.access)
                let badProject = try await client.send(
                    .get, "/v1/ledger/accounts?projectId=\(projectID)&kind=vendor", bearer: admin.access)
                let badCursor = try await client.send(
                    .get, "/v1/ledger/transfers?cursor=nonsense", bearer: admin.access)
                let transfers = try await client.send(
                    .get, "/v1/ledger/transfers?projectId=\(projectID)&kind=disburse", bearer: admin.access)
                let agentChain = try await client.send(.get, "/v1/ledger/verify", bearer: agent.access)
                // then
                #expect(chain.status == .ok)
                #expect(try chain.json["ok"] as? Bool == true && chain.json["checked"] as? Int == 0)
                #expect(try books.json["balanced"] as? Bool == true && books.json["funded"] as? Int == 0, "\(books)")
                #expect(unopened.status == .notFound && unopened.problemCode == "ledger.account_not_found")
                #expect(badProject.status == .badRequest && badProject.problemFields == ["ownerId"], "\(badProject)")
                #expect(badCursor.status == .badRequest && badCursor.problemFields == ["cursor"])
                #expect((try transfers.json["items"] as? [Any])?.isEmpty == true)
                #expect(agentChain.status == .forbidden)
                #expect(agentChain.headers[.contentType] == "application/problem+json")
            }
        }
    }
}
