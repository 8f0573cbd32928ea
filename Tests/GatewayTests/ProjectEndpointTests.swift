import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Projects over HTTP")
    struct Projects {
        @Test("create, read, update, activate and close a project", arguments: DatabaseEngine.available)
        func lifecycle(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                let tokens = try await client.login()
                let created = try await client.send(
                    .post,
                    "/v1/projects",
                    json: [
                        "name": "Flood response", "type": "c2c", "asset": "NPR", "assetScale": 2,
                        "settings": ["maxPerBeneficiary": 500_000], "defaultCountry": "NP",
                    ],
                    bearer: tokens.access
                )
                let id = try #require(try created.json["id"] as? String)
                let updated = try await client.send(
                    .patch,
                    "/v1/projects/\(id)",
                    json: ["description": "Koshi river basin"],
                    bearer: tokens.access
                )
                let activated = try await client.send(.post, "/v1/projects/\(id)/activate", bearer: tokens.access)
                let activatedAgain = try await client.send(.post, "/v1/projects/\(id)/activate", bearer: tokens.access)
                let closed = try await client.send(.post, "/v1/projects/\(id)/close", bearer: tokens.access)
                let listed = try await client.send(.get, "/v1/projects?status=closed", bearer: tokens.access)
                #expect(created.status == .created)
                #expect(created.headers[.location] == "/v1/projects/\(id)")
                #expect(try created.json["status"] as? String == "draft")
                #expect(try (created.json["settings"] as? [String: Any])?["maxPerBeneficiary"] as? Int == 500_000)
                #expect(try updated.json["description"] as? String == "Koshi river basin")
                #expect(try activated.json["status"] as? String == "active")
                #expect(activatedAgain.status == .conflict)
                #expect(activatedAgain.problemCode == "project.invalid_transition")
                #expect(try closed.json["status"] as? String == "closed")
                #expect(try (listed.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            }
        }

        @Test("enrol beneficiaries, list them, remove one", arguments: DatabaseEngine.available)
        func enrolment(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                let tokens = try await client.login()
                let project = try await client.send(
                    .post,
                    "/v1/projects",
                    json: ["name": "Winter relief", "type": "cva", "asset": "NPR", "assetScale": 2],
                    bearer: tokens.access
                )
                let projectID = try #require(try project.json["id"] as? String)
                let batch = try await client.send(
                    .post,
                    "/v1/beneficiaries/batch",
                    json: [
                        "items": [
                            ["name": "One", "phone": "+9779800000011", "gender": "female"],
                            ["name": "Two", "phone": "+9779800000012", "gender": "male"],
                            ["name": "Three", "phone": "+9779800000013", "gender": "female"],
                        ]
                    ],
                    bearer: tokens.access
                )
                let ids = try #require(
                    try (batch.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String })
                let enrolled = try await client.send(
                    .post,
                    "/v1/projects/\(projectID)/beneficiaries",
                    json: ["beneficiaryIds": [ids[0], ids[1]]],
                    bearer: tokens.access
                )
                let removed = try await client.send(
                    .delete,
                    "/v1/projects/\(projectID)/beneficiaries/\(ids[0])",
                    bearer: tokens.access
                )
                let listed = try await client.send(
                    .get, "/v1/projects/\(projectID)/beneficiaries", bearer: tokens.access)
                let byFilter = try await client.send(
                    .post, "/v1/projects/\(projectID)/beneficiaries", json: ["filter": ["gender": "female"]],
                    bearer: tokens.access)
                let women = try await client.send(
                    .get, "/v1/projects/\(projectID)/beneficiaries?gender=female", bearer: tokens.access)
                let emptyFilter = try await client.send(
                    .post, "/v1/projects/\(projectID)/beneficiaries", json: ["filter": [String: String]()],
                    bearer: tokens.access)
                let unknown = try await client.send(
                    .get, "/v1/projects/\(UUID().uuidString)/beneficiaries", bearer: tokens.access)
                // then
                func listedIDs(_ response: HTTPAnswer) throws -> Set<String> {
                    Set(try (response.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? [])
                }
                #expect(try enrolled.json["enrolled"] as? Int == 2)
                #expect(removed.status == .noContent)
                #expect(try listedIDs(listed) == [ids[1]])
                #expect(try byFilter.json["enrolled"] as? Int == 2)
                #expect(try listedIDs(women) == [ids[0], ids[2]])
                #expect(emptyFilter.status == .badRequest)
                #expect(emptyFilter.problemFields == ["filter"])
                #expect(unknown.status == .notFound)
            }
        }

        @Test("bad project input is a 400 naming each field")
        func validation() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let tokens = try await client.login()
                let wrongType = try await client.send(
                    .post,
                    "/v1/projects",
                    json: ["name": "X", "type": "loan", "asset": "NPR", "assetScale": 2],
                    bearer: tokens.access
                )
                let wrongValues = try await client.send(
                    .post,
                    "/v1/projects",
                    json: ["name": "X", "type": "cva", "asset": "n", "assetScale": 9],
                    bearer: tokens.access
                )
                let emptyPatch = try await client.send(
                    .patch,
                    "/v1/projects/01a21398-276b-7ea3-8334-6d42bd8c4689",
                    json: [String: Any](),
                    bearer: tokens.access
                )
                #expect(wrongType.status == .badRequest)
                #expect(wrongType.problemFields == ["type"])
                #expect(Set(wrongValues.problemFields) == ["asset", "assetScale"])
                #expect(emptyPatch.status == .badRequest)
            }
        }

        @Test("a field agent cannot create projects")
        func forbidden() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let admin = try await client.login()
                let created = try await client.send(
                    .post,
                    "/v1/users",
                    json: [
                        "name": "Agent", "email": "agent@example.org", "password": "another long passphrase",
                        "roles": [["role": "field_agent"]],
                    ],
                    bearer: admin.access
                )
                #expect(created.status == .created)
                let agent = try await client.login("agent@example.org", "another long passphrase")
                let attempt = try await client.send(
                    .post,
                    "/v1/projects",
                    json: ["name": "X", "type": "cva", "asset": "NPR", "assetScale": 2],
                    bearer: agent.access
                )
                #expect(attempt.status == .forbidden)
                #expect(attempt.problemCode == "auth.permission_denied")
            }
        }
    }
}
