import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import SQLKit
import ServiceLifecycle
import TestInfrastructure
import TestSupport
import Testing

/// One disbursement paid under a fault, as the reliability and internal-gateway tests stage it:
/// people registered, checked and enrolled, a funded project, a disbursement approved 2 of 3;
/// then the checks that every line was paid exactly once and the books balance.
enum DisbursementScenario {
    /// The gateway's settings for these tests: no rate limits on the staging, and an idle timeout
    /// longer than the payment. The test's one connection sits idle while the test watches the
    /// lines in the database, and a gateway that closed it would fail the next request.
    static let gatewaySettings = [
        "RAHAT_RATE_LIMIT_WRITE": "off", "RAHAT_RATE_LIMIT_BULK": "off", "RAHAT_HTTP_IDLE_TIMEOUT_SECONDS": "3600",
    ]

    /// Registers `people` (1,000 per request), has the worker `checkedBy` starts verify them,
    /// funds the project with what they are owed, and approves a disbursement of `amount` each;
    /// returns the admin's token, the project and the disbursement.
    static func approved(
        client: some TestClientProtocol, people: Int, amount: Int,
        checkedBy startChecker: () async throws -> (group: ServiceGroup, task: Task<Void, any Error>)
    ) async throws -> (admin: String, projectID: String, disbursementID: String) {
        let admin = try await client.login().access
        let project = try await client.send(
            .post, "/v1/projects",
            json: ["name": "Winter cash", "type": "c2c", "asset": "NPR", "assetScale": 2], bearer: admin)
        let projectID = try #require(try project.json["id"] as? String, "\(project)")
        _ = try await client.send(.post, "/v1/projects/\(projectID)/activate", bearer: admin)
        for start in stride(from: 0, to: people, by: 1_000) {
            let count = min(1_000, people - start)
            let created = try await client.send(
                .post, "/v1/beneficiaries/batch",
                json: [
                    "items": (0..<count).map { index in
                        ["name": "Person \(100_000 + start + index)", "birthDate": "1980-01-01", "gender": "female"]
                    }
                ], bearer: admin)
            #expect(created.status == .created, "\(created)")
            let ids = (try created.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            let enrolled = try await client.send(
                .post, "/v1/projects/\(projectID)/beneficiaries", json: ["beneficiaryIds": ids], bearer: admin)
            #expect(try enrolled.json["enrolled"] as? Int == count, "\(enrolled)")
        }
        _ = try await client.send(
            .post, "/v1/projects/\(projectID)/funding",
            json: ["amount": people * amount, "reference": "WINTER-2026"], bearer: admin)
        var approvers: [(id: String, token: String)] = []
        for index in 1...3 {
            let user = try await client.send(
                .post, "/v1/users",
                json: [
                    "name": "Approver \(index)", "email": "approver\(index)@example.org",
                    "password": "another long passphrase", "roles": [["role": "manager", "projectId": projectID]],
                ], bearer: admin)
            let id = try #require(try user.json["id"] as? String, "\(user)")
            approvers.append(
                (id, try await client.login("approver\(index)@example.org", "another long passphrase").access))
        }
        _ = try await client.send(
            .put, "/v1/projects/\(projectID)/approvers", json: ["userIds": approvers.map(\.id), "required": 2],
            bearer: admin)
        // Everyone must be verified before the draft, or the draft leaves them out.
        let checker = try await startChecker()
        var verified = 0
        let checkDeadline = ContinuousClock.now + .seconds(300)
        while verified < people, ContinuousClock.now < checkDeadline {
            try await Task.sleep(for: .milliseconds(500))
            let stats = try await client.send(.get, "/v1/projects/\(projectID)/stats", bearer: admin)
            verified = (try stats.json["byVerificationStatus"] as? [String: Int])?["verified"] ?? 0
        }
        await checker.group.triggerGracefulShutdown()
        try await checker.task.value
        #expect(verified == people)
        let draft = try await client.send(
            .post, "/v1/disbursements",
            json: ["projectId": projectID, "name": "Winter", "amountPerBeneficiary": amount], bearer: admin)
        let id = try #require(try draft.json["id"] as? String, "\(draft)")
        #expect(try draft.json["lineCount"] as? Int == people)
        _ = try await client.send(.post, "/v1/disbursements/\(id)/submit", bearer: admin)
        for approver in approvers.prefix(2) {
            let approved = try await client.send(
                .post, "/v1/disbursements/\(id)/approve", json: [:] as [String: String], bearer: approver.token)
            #expect(approved.status == .ok, "\(approved)")
        }
        return (admin, projectID, id)
    }

    /// Runs `body` with handles on c2c's and the ledger's schemas, to count lines and transfers
    /// as they are written; closes them after.
    static func withBooks<T: Sendable>(
        _ database: TestDatabase, _ body: (_ c2c: ServiceDatabase, _ ledger: ServiceDatabase) async throws -> T
    ) async throws -> T {
        let c2c = try ServiceDatabase(configuration: database.configuration(for: "c2c"), schema: "c2c", logger: .test)
        let ledger = try ServiceDatabase(
            configuration: database.configuration(for: "ledger"), schema: "ledger", logger: .test)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(c2c, ledger))
        } catch {
            result = .failure(error)
        }
        await c2c.shutdown()
        await ledger.shutdown()
        return try result.get()
    }

    /// How many lines of any disbursement are paid.
    static func completedLines(_ c2c: ServiceDatabase) async throws -> Int {
        try await c2c.sql.raw("SELECT count(*) AS n FROM disbursement_lines WHERE status = 'completed'").first()?
            .decode(column: "n", as: Int.self) ?? 0
    }

    /// The disbursement once it is neither approved nor processing, or as it stands after `limit`.
    static func ended(
        _ id: String, client: some TestClientProtocol, admin: String, within limit: Duration = .seconds(300)
    ) async throws -> [String: Any] {
        var done: [String: Any] = [:]
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            done = try await client.send(.get, "/v1/disbursements/\(id)", bearer: admin).json
            if !["approved", "processing"].contains(done["status"] as? String ?? "") { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        return done
    }

    /// Every line completed and recorded in the ledger once, the project's books balanced, every
    /// wallet holding what it was sent, and the ledger's hash chain intact.
    static func expectPaidOnce(
        _ done: [String: Any], id: String, projectID: String, people: Int, amount: Int,
        client: some TestClientProtocol, admin: String, ledger: ServiceDatabase
    ) async throws {
        #expect(done["status"] as? String == "completed", "\(done)")
        #expect(done["linesCompleted"] as? Int == people)
        #expect(done["amountCompleted"] as? Int == people * amount)
        let transfers = try await ledger.sql.raw(
            """
            SELECT count(*) AS n, count(DISTINCT idempotency_key) AS keys
            FROM transfers WHERE reference = \(bind: "disbursement:\(id)")
            """
        ).first()
        #expect(try transfers?.decode(column: "n", as: Int.self) == people)
        #expect(try transfers?.decode(column: "keys", as: Int.self) == people)
        let books = try await client.send(.get, "/v1/projects/\(projectID)/reconciliation", bearer: admin)
        #expect(try books.json["funded"] as? Int == people * amount, "\(books)")
        #expect(try books.json["disbursed"] as? Int == people * amount, "\(books)")
        #expect(try books.json["remaining"] as? Int == 0, "\(books)")
        #expect(try books.json["balanced"] as? Bool == true, "\(books)")
        let wallets = try #require(try books.json["beneficiaries"] as? [String: Any])
        #expect(wallets["accounts"] as? Int == people)
        #expect(wallets["balance"] as? Int == people * amount)
        let chain = try await client.send(.get, "/v1/ledger/verify", bearer: admin)
        #expect(try chain.json["ok"] as? Bool == true, "\(chain)")
    }
}
