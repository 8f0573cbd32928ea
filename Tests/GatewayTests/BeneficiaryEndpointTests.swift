import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    @Suite("Beneficiaries over HTTP")
    struct Beneficiaries {
        @Test("register, look up by phone, update, archive", arguments: DatabaseEngine.available)
        func lifecycle(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                let tokens = try await client.login()
                let created = try await client.send(
                    .post,
                    "/v1/beneficiaries",
                    json: [
                        "name": "Sita Kumari Tharu", "phone": "981 234 5678", "country": "NP", "gender": "female",
                        "phoneStatus": "feature_phone", "extras": ["household": 5],
                    ],
                    bearer: tokens.access
                )
                let id = try #require(try created.json["id"] as? String)
                let found = try await client.send(
                    .post, "/v1/beneficiaries/search", json: ["phone": "+9779812345678"], bearer: tokens.access)
                let byName = try await client.send(
                    .post, "/v1/beneficiaries/search", json: ["name": "tharu SITA"], bearer: tokens.access)
                let noCriterion = try await client.send(
                    .post, "/v1/beneficiaries/search", json: ["country": "NP"], bearer: tokens.access)
                let updated = try await client.send(
                    .patch,
                    "/v1/beneficiaries/\(id)",
                    json: ["bankedStatus": "banked"],
                    bearer: tokens.access
                )
                let archived = try await client.send(.delete, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                let afterArchive = try await client.send(.get, "/v1/beneficiaries/\(id)", bearer: tokens.access)
                #expect(created.status == .created)
                #expect(created.headers[.location] == "/v1/beneficiaries/\(id)")
                #expect(try created.json["phone"] as? String == "+9779812345678")
                #expect(try created.json["verificationStatus"] as? String == "pending")
                #expect(try (found.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
                #expect(try (byName.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
                #expect(noCriterion.status == .badRequest)
                #expect(noCriterion.problemFields == ["name"], "\(noCriterion)")
                #expect(try updated.json["bankedStatus"] as? String == "banked")
                #expect(archived.status == .noContent)
                #expect(afterArchive.status == .notFound)
            }
        }

        @Test("a batch with bad items names them as items[i].field and writes nothing")
        func batch() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let tokens = try await client.login()
                let bad = try await client.send(
                    .post,
                    "/v1/beneficiaries/batch",
                    json: ["items": [["name": "Fine", "phone": "+9779800000001"], ["name": "Bad", "phone": "nope"]]],
                    bearer: tokens.access
                )
                let wrongEnum = try await client.send(
                    .post,
                    "/v1/beneficiaries",
                    json: ["name": "X", "gender": "f"],
                    bearer: tokens.access
                )
                let list = try await client.send(.get, "/v1/beneficiaries", bearer: tokens.access)
                #expect(bad.status == .badRequest)
                #expect(bad.problemFields == ["items[1].phone"])
                #expect(wrongEnum.problemFields == ["gender"])
                #expect(try (list.json["items"] as? [Any])?.isEmpty == true)
            }
        }
    }
}
