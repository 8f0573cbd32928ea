import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    /// Personal data, and what points at a person as surely, reach only callers who may read it,
    /// and never travel in a URL (security review M4).
    @Suite("Personal data")
    struct PersonalData {
        @Test(
            "lookups by name, phone or ID need the PII grant, go in a body, and quasi-identifiers stay with the PII",
            arguments: DatabaseEngine.available)
        func lookupsAndQuasiIdentifiers(engine: DatabaseEngine) async throws {
            try await GatewayHarness.withEmbedded(engine) { client in
                // given a person with a phone, a birth date and a home location, and an auditor
                let admin = try await client.login()
                let person = try await client.createBeneficiary(
                    [
                        "name": "Sita Rai", "phone": "+9779812345678", "birthDate": "1980-02-03",
                        "location": "Ward 4, Bardiya", "latitude": 28.3, "longitude": 81.4,
                        "extras": ["household": 5],
                    ], bearer: admin.access)
                let auditor = try await client.createUser("auditor@example.org", role: "auditor", bearer: admin.access)

                // when
                let auditorSearch = try await client.send(
                    .post, "/v1/beneficiaries/search", json: ["phone": "+9779812345678"], bearer: auditor.access)
                let inURL = try await client.send(
                    .get, "/v1/beneficiaries?phone=%2B9779812345678", bearer: admin.access)
                let auditorNameSearch = try await client.send(
                    .post, "/v1/beneficiaries/search", json: ["name": "sita rai"], bearer: auditor.access)
                let nameInURL = try await client.send(.get, "/v1/beneficiaries?name=Sita%20Rai", bearer: admin.access)
                let projectNamedInURL = try await client.send(.get, "/v1/projects?name=Relief", bearer: admin.access)
                let listed = try await client.send(.get, "/v1/beneficiaries", bearer: auditor.access)
                let read = try await client.send(.get, "/v1/beneficiaries/\(person)", bearer: auditor.access)
                let adminSearch = try await client.send(
                    .post, "/v1/beneficiaries/search", json: ["phone": "981-2345678", "country": "NP"],
                    bearer: admin.access)
                let adminRead = try await client.send(.get, "/v1/beneficiaries/\(person)", bearer: admin.access)

                // then the auditor may not turn a phone into a person, nor see where they live
                #expect(auditorSearch.status == .forbidden, "\(auditorSearch)")
                #expect(inURL.status == .badRequest && inURL.problemFields == ["phone"], "\(inURL)")
                #expect(auditorNameSearch.status == .forbidden, "\(auditorNameSearch)")
                #expect(nameInURL.status == .badRequest && nameInURL.problemFields == ["name"], "\(nameInURL)")
                #expect(projectNamedInURL.status != .badRequest, "elsewhere a name in a URL is no person's")
                let item = try #require((try listed.json["items"] as? [[String: Any]])?.first, "\(listed)")
                for field in ["name", "phone", "birthDate", "location", "latitude", "longitude", "extras"] {
                    #expect(item[field] == nil, "\(field) in \(item)")
                    #expect(try read.json[field] == nil, "\(field) in \(read)")
                }
                #expect(item["id"] as? String == person)
                // while the admin finds them by the number as written, and sees it all
                #expect(try (adminSearch.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [person])
                #expect(try adminRead.json["location"] as? String == "Ward 4, Bardiya")
                #expect(try (adminRead.json["extras"] as? [String: Any])?["household"] as? Int == 5)
            }
        }
    }
}
