import CoreService
import Foundation
import HTTPTypes
import HummingbirdTesting
import RahatApp
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Verification over HTTP")
    struct Verification {
        @Test(
            "a watch list is uploaded as CSV, a match awaits review, and a reviewer's decision is kept",
            arguments: DatabaseEngine.available)
        func review(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given
                let tokens = try await client.login()
                let csv = "nationalId,reason\n55-1234-5678,court order 12/2025\n,\n"
                let uploaded = try await client.send(
                    .put, "/v1/verification/watch-list?fileName=court.csv", raw: csv, bearer: tokens.access,
                    headers: [.contentType: "text/csv"])
                let created = try await client.send(
                    .post, "/v1/beneficiaries",
                    json: ["name": "Pemba Sherpa", "nationalId": "5512345678", "birthDate": "1990-05-01"],
                    bearer: tokens.access)
                let id = try #require(try created.json["id"] as? String, "\(created)")
                // when
                var beneficiary = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                for _ in 0..<300 where try beneficiary.json["verificationStatus"] as? String == "pending" {
                    try await Task.sleep(for: .milliseconds(100))
                    beneficiary = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                }
                let queue = try await client.send(
                    .get, "/v1/verifications?status=needs_review&beneficiaryId=\(id)", bearer: tokens.access)
                let badDecision = try await client.send(
                    .post, "/v1/beneficiaries/\(id)/verification", json: ["decision": "maybe", "note": ""],
                    bearer: tokens.access)
                let decided = try await client.send(
                    .post, "/v1/beneficiaries/\(id)/verification",
                    json: ["decision": "rejected", "note": "Listed person; ID card matches."], bearer: tokens.access)
                let again = try await client.send(
                    .post, "/v1/beneficiaries/\(id)/verification",
                    json: ["decision": "verified", "note": "changed my mind"], bearer: tokens.access)
                let runID = try #require(try decided.json["id"] as? String, "\(decided)")
                let run = try await client.send(.get, "/v1/verifications/\(runID)", bearer: tokens.access)
                let list = try await client.send(.get, "/v1/verification/watch-list", bearer: tokens.access)
                let job = try await client.send(
                    .get, "/v1/jobs/\(try #require(try run.json["jobId"] as? String))", bearer: tokens.access)
                // then
                #expect(uploaded.status == .ok)
                #expect(try uploaded.json["entries"] as? Int == 1)
                #expect((try uploaded.json["rejected"] as? [[String: Any]])?.first?["line"] as? Int == 3)
                #expect(try beneficiary.json["verificationStatus"] as? String == "needs_review")
                #expect(
                    try beneficiary.json["verificationReason"] as? String
                        == "matches watch-list line 2 by national ID")
                #expect((try queue.json["items"] as? [[String: Any]])?.count == 1)
                #expect(badDecision.status == .badRequest)
                #expect(badDecision.headers[.contentType] == "application/problem+json")
                #expect(Set(badDecision.problemFields).isSuperset(of: ["decision"]))
                #expect(decided.status == .ok)
                #expect(again.status == .conflict && again.problemCode == "verification.not_in_review")
                #expect(try run.json["decision"] as? String == "rejected")
                #expect(try run.json["note"] as? String == "Listed person; ID card matches.")
                #expect(try run.json["reviewerId"] as? String != nil)
                #expect(try list.json["entries"] as? Int == 1 && list.json["fileName"] as? String == "court.csv")
                #expect(try job.json["status"] as? String == "completed")
                let after = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                #expect(try after.json["verificationStatus"] as? String == "rejected")
            }
        }
    }
}
