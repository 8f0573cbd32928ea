import Foundation
import HTTPTypes
import HummingbirdTesting
import TestInfrastructure
import TestSupport
import Testing

extension ConsoleTests {
    /// The books as an auditor reads them: reconciliation, statements, the chain's check.
    @Suite("Ledger")
    struct Ledger {
        @Test("an auditor reads a project's books, its fund's statement and the chain's check")
        func auditorReadsTheBooks() async throws {
            try await GatewayHarness.withEmbedded(.sqlite) { client in
                let admin = try await client.login()
                let projectID = try await client.createProject("Flood relief", bearer: admin.access)
                _ = try await client.send(
                    .post, "/v1/projects/\(projectID)/funding", json: ["amount": 123_456, "reference": "DONOR-9"],
                    bearer: admin.access)
                _ = try await client.createUser("auditor@example.org", role: "auditor", bearer: admin.access)
                let browser = Browser(client)
                try await browser.signIn("auditor@example.org", type(of: client).scenarioPassword)
                // when
                let books = try await browser.get("/console/ledger?projectId=\(projectID)")
                let fund = try #require(
                    books.html.range(of: #"/console/ledger/accounts/[0-9a-f-]{36}"#, options: .regularExpression)
                        .map { String(books.html[$0]) }, "\(books)")
                let statement = try await browser.get(fund)
                let missing = try await browser.get(
                    "/console/ledger/find?projectId=\(projectID)&kind=vendor&ownerId=\(UUID().uuidString.lowercased())")
                let chain = try await browser.get("/console/ledger/verify")
                // then
                #expect(books.mainText.contains("The project's books balance."), "\(books.mainText)")
                #expect(books.mainText.contains("1,234.56 NPR"))
                #expect(statement.mainText.contains("DONOR-9"), "\(statement.mainText)")
                #expect(statement.mainText.contains("+1,234.56 NPR"))
                #expect(!statement.html.contains("method=\"post\" action=\"/console/ledger"))
                #expect(missing.mainText.contains("No such account"))
                #expect(chain.mainText.contains("Every transfer matches its hash"), "\(chain.mainText)")
            }
        }
    }
}
