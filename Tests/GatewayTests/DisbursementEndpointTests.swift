import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Disbursements over HTTP")
    struct Disbursements {
        @Test(
            "a dry run answers the plan, a draft is created and listed, and bad requests name their fields",
            arguments: DatabaseEngine.available)
        func disbursements(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given an active project with one enrolled (unverified) beneficiary and a funded fund
                let admin = try await client.login()
                let project = try await client.send(
                    .post, "/v1/projects",
                    json: ["name": "Flood relief", "type": "c2c", "asset": "NPR", "assetScale": 2],
                    bearer: admin.access)
                let projectID = try #require(try project.json["id"] as? String, "\(project)")
                _ = try await client.send(.post, "/v1/projects/\(projectID)/activate", bearer: admin.access)
                let person = try await client.send(
                    .post, "/v1/beneficiaries", json: ["name": "Sita Rai", "gender": "female"], bearer: admin.access)
                let personID = try #require(try person.json["id"] as? String, "\(person)")
                _ = try await client.send(
                    .post, "/v1/projects/\(projectID)/beneficiaries", json: ["beneficiaryIds": [personID]],
                    bearer: admin.access)
                _ = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding", json: ["amount": 10_000, "reference": "G-1"],
                    bearer: admin.access)

                // when
                let plan = try await client.send(
                    .post, "/v1/disbursements?dryRun=true",
                    json: ["projectId": projectID, "name": "November", "amountPerBeneficiary": 500],
                    bearer: admin.access)
                let nobody = try await client.send(
                    .post, "/v1/disbursements",
                    json: ["projectId": projectID, "name": "November", "amountPerBeneficiary": 500],
                    bearer: admin.access)
                let invalid = try await client.send(
                    .post, "/v1/disbursements",
                    json: [
                        "projectId": projectID, "name": "Both", "amountPerBeneficiary": 5,
                        "lines": [["beneficiaryId": personID, "amount": 5]],
                    ],
                    bearer: admin.access)
                let missing = try await client.send(.get, "/v1/disbursements/\(UUID())", bearer: admin.access)
                let listed = try await client.send(
                    .get, "/v1/disbursements?projectId=\(projectID)&status=draft", bearer: admin.access)

                // then
                #expect(plan.status == .ok, "\(plan)")
                #expect(try plan.json["lineCount"] as? Int == 0)
                #expect(try plan.json["fundBalance"] as? Int == 10_000)
                #expect((try plan.json["excludedCounts"] as? [String: Int])?["unverified"] == 1)
                #expect(
                    (try plan.json["excluded"] as? [[String: Any]])?.first?["reason"] as? String == "unverified")
                #expect(nobody.status == .badRequest && nobody.problemFields == ["amountPerBeneficiary"], "\(nobody)")
                #expect(invalid.status == .badRequest && invalid.problemFields == ["lines"], "\(invalid)")
                #expect(missing.status == .notFound && missing.problemCode == "disbursement.not_found")
                #expect(listed.status == .ok, "\(listed)")
                #expect((try listed.json["items"] as? [Any])?.isEmpty == true)
            }
        }
    }
}
