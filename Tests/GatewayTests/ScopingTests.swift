import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    /// A grant scoped to a project reaches that project's people and vendors and nobody else's,
    /// and no write can widen it (security review H3, L1).
    @Suite("Project scoping")
    struct ProjectScoping {
        @Test(
            "a manager of A cannot enrol, read or harvest B's people, nor take over B's vendor",
            arguments: DatabaseEngine.available)
        func scopeCannotBeWidened(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given projects A and B, a person in each, a group holding both, B's vendor, and A's manager
                let admin = try await client.login()
                let projectA = try await client.createProject("A", bearer: admin.access)
                let projectB = try await client.createProject("B", bearer: admin.access)
                let inA = try await client.createBeneficiary(["name": "Sita Rai"], bearer: admin.access)
                let inB = try await client.createBeneficiary(["name": "Maya Tamang"], bearer: admin.access)
                try await client.enrol([inA], in: projectA, bearer: admin.access)
                try await client.enrol([inB], in: projectB, bearer: admin.access)
                let group = try await client.send(.post, "/v1/groups", json: ["name": "Ward 4"], bearer: admin.access)
                let groupID = try #require(try group.json["id"] as? String, "\(group)")
                _ = try await client.send(
                    .post, "/v1/groups/\(groupID)/members", json: ["beneficiaryIds": [inA, inB]],
                    bearer: admin.access)
                let vendor = try await client.send(
                    .post, "/v1/vendors",
                    json: [
                        "name": "B's shop", "email": "shop@example.org", "password": "a long vendor passphrase",
                        "payoutAccount": [
                            "type": "bank", "bankName": "Nabil Bank", "accountName": "B's shop",
                            "accountNumber": "0100-1234-5678",
                        ],
                    ], bearer: admin.access)
                let vendorID = try #require(try vendor.json["id"] as? String, "\(vendor)")
                _ = try await client.send(
                    .post, "/v1/projects/\(projectB)/vendors", json: ["vendorId": vendorID], bearer: admin.access)
                let manager = try await client.createUser(
                    "manager@example.org", role: "manager", projectID: projectA, bearer: admin.access)

                // when the manager of A plans by the group, enrols B's person, and reads what it reached
                let plan = try await client.send(
                    .post, "/v1/disbursements?dryRun=true",
                    json: ["projectId": projectA, "name": "x", "amountPerBeneficiary": 1, "groupId": groupID],
                    bearer: manager.access)
                let enrolForeign = try await client.send(
                    .post, "/v1/projects/\(projectA)/beneficiaries", json: ["beneficiaryIds": [inB]],
                    bearer: manager.access)
                let enrolUnknown = try await client.send(
                    .post, "/v1/projects/\(projectA)/beneficiaries", json: ["beneficiaryIds": [UUID().uuidString]],
                    bearer: manager.access)
                let readForeign = try await client.send(.get, "/v1/beneficiaries/\(inB)", bearer: manager.access)
                let readUnknown = try await client.send(
                    .get, "/v1/beneficiaries/\(UUID().uuidString)", bearer: manager.access)
                let readOwn = try await client.send(.get, "/v1/beneficiaries/\(inA)", bearer: manager.access)
                // and assigns B's vendor to A, or reads it
                let assignForeign = try await client.send(
                    .post, "/v1/projects/\(projectA)/vendors", json: ["vendorId": vendorID], bearer: manager.access)
                let vendorRead = try await client.send(.get, "/v1/vendors/\(vendorID)", bearer: manager.access)
                // while the admin, who reads the whole registry, may do both
                let adminPlan = try await client.send(
                    .post, "/v1/disbursements?dryRun=true",
                    json: ["projectId": projectA, "name": "x", "amountPerBeneficiary": 1, "groupId": groupID],
                    bearer: admin.access)
                let adminEnrol = try await client.send(
                    .post, "/v1/projects/\(projectA)/beneficiaries", json: ["beneficiaryIds": [inB]],
                    bearer: admin.access)

                // then the plan counts B's person without naming them
                let named = (try plan.json["excluded"] as? [[String: Any]] ?? []).compactMap {
                    $0["beneficiaryId"] as? String
                }
                #expect(plan.status == .ok, "\(plan)")
                #expect(!named.contains(inB), "\(plan)")
                #expect((try plan.json["excludedCounts"] as? [String: Int])?["not_enrolled"] == 1, "\(plan)")
                let adminNamed = (try adminPlan.json["excluded"] as? [[String: Any]] ?? []).compactMap {
                    $0["beneficiaryId"] as? String
                }
                #expect(adminNamed.contains(inB), "\(adminPlan)")
                // and B's person is answered exactly as nobody would be
                #expect(enrolForeign.status == .badRequest, "\(enrolForeign)")
                #expect(enrolForeign.problemFields == ["beneficiaryIds[0]"])
                #expect(enrolUnknown.status == enrolForeign.status)
                #expect(
                    try enrolUnknown.json["errors"] as? [[String: String]] == enrolForeign.json["errors"]
                        as? [[String: String]])
                #expect(readForeign.status == .notFound, "\(readForeign)")
                #expect(readForeign.problemCode == readUnknown.problemCode)
                #expect(readOwn.status == .ok, "\(readOwn)")
                #expect(assignForeign.status == .notFound, "\(assignForeign)")
                #expect(vendorRead.status == .notFound, "\(vendorRead)")
                #expect(adminEnrol.status == .ok, "\(adminEnrol)")
            }
        }
    }
}
