import Foundation
import HTTPTypes
package import HummingbirdTesting
import TestInfrastructure

/// The steps most scenarios begin with, as an admin would take them over the API.
extension TestClientProtocol {
    /// The password every user these helpers create signs in with.
    package static var scenarioPassword: String { "another long passphrase" }

    /// Creates a project (a c2c one in NPR, scale 2), activated unless told otherwise; its id.
    package func createProject(
        _ name: String = "Flood relief", activate: Bool = true, bearer: String
    ) async throws
        -> String
    {
        let project = try await send(
            .post, "/v1/projects", json: ["name": name, "type": "c2c", "asset": "NPR", "assetScale": 2],
            bearer: bearer)
        guard project.status == .created, let id = try project.json["id"] as? String else {
            throw HTTPAnswer.Malformed(body: "creating a project: \(project)")
        }
        if activate {
            let activated = try await send(.post, "/v1/projects/\(id)/activate", bearer: bearer)
            guard activated.status == .ok else { throw HTTPAnswer.Malformed(body: "activating: \(activated)") }
        }
        return id
    }

    /// Creates a user holding `role` (for `projectID` only, when given), signs them in, and
    /// returns their id and access token.
    package func createUser(
        _ email: String, role: String, projectID: String? = nil, bearer: String
    ) async throws -> (id: String, access: String) {
        var assignment: [String: Any] = ["role": role]
        if let projectID { assignment["projectId"] = projectID }
        let user = try await send(
            .post, "/v1/users",
            json: [
                "name": email.split(separator: "@").first.map(String.init) ?? email, "email": email,
                "password": Self.scenarioPassword, "roles": [assignment],
            ],
            bearer: bearer)
        guard user.status == .created, let id = try user.json["id"] as? String else {
            throw HTTPAnswer.Malformed(body: "creating \(email): \(user)")
        }
        return (id, try await login(email, Self.scenarioPassword).access)
    }

    /// Registers a beneficiary from `fields` (a name at least); their id.
    package func createBeneficiary(_ fields: [String: Any], bearer: String) async throws -> String {
        let created = try await send(.post, "/v1/beneficiaries", json: fields, bearer: bearer)
        guard created.status == .created, let id = try created.json["id"] as? String else {
            throw HTTPAnswer.Malformed(body: "registering a beneficiary: \(created)")
        }
        return id
    }

    /// Enrols the beneficiaries in the project.
    package func enrol(_ ids: [String], in projectID: String, bearer: String) async throws {
        let enrolled = try await send(
            .post, "/v1/projects/\(projectID)/beneficiaries", json: ["beneficiaryIds": ids], bearer: bearer)
        guard enrolled.status == .ok else { throw HTTPAnswer.Malformed(body: "enrolling: \(enrolled)") }
    }

    /// Polls `GET path` until `done` holds for its JSON (90 s at most: the suite shares two
    /// cores); the last answer.
    package func poll(
        _ path: String, bearer: String, until done: ([String: Any]) -> Bool
    ) async throws -> [String: Any] {
        var json: [String: Any] = [:]
        for _ in 0..<900 {
            json = try await send(.get, path, bearer: bearer).json
            if done(json) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return json
    }
}
