import C2CService
import Foundation
import Gateway
import HummingbirdTesting
import Notifications
import RahatApp
import TestInfrastructure
import TestSupport
import Testing

extension GatewayTests {
    /// Who may do what, as one table (`AuthorizationMatrix`, in TestSupport) that the platform is
    /// held to: every operation, every kind of caller, their own project and another.
    @Suite("Authorization matrix")
    struct AuthorizationMatrixTests {
        static let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

        @Test("every operation of openapi.yaml has exactly one row, and every row a well-formed cell per caller")
        func everyOperationHasARow() throws {
            let specified = AuthorizationMatrix.operations(
                in: try String(contentsOf: Self.repository.appendingPathComponent("openapi.yaml"), encoding: .utf8))
            let rows = AuthorizationMatrix.routes

            #expect(specified.count > 90, "the document was read")
            #expect(Set(specified).subtracting(rows).sorted() == [], "operations without a row")
            #expect(Set(rows).subtracting(specified).sorted() == [], "rows for no operation")
            #expect(rows.count == Set(rows).count, "a route has two rows")
            #expect(AuthorizationMatrix.malformedCells == [])
        }

        @Test("docs/security.md renders the table as it is")
        func documented() throws {
            let path = Self.repository.appendingPathComponent("docs/security.md")
            let document = try String(contentsOf: path, encoding: .utf8)
            let rendered = AuthorizationMatrix.markdown
            guard let start = document.range(of: AuthorizationMatrix.beginMarker),
                let end = document.range(of: AuthorizationMatrix.endMarker), start.upperBound <= end.lowerBound
            else {
                Issue.record(
                    "docs/security.md has no \(AuthorizationMatrix.beginMarker) … \(AuthorizationMatrix.endMarker)")
                return
            }
            let current = String(document[start.upperBound..<end.lowerBound])
            if current != rendered, ProcessInfo.processInfo.environment["RAHAT_UPDATE_DOCS"] == "1" {
                try document.replacingCharacters(in: start.upperBound..<end.lowerBound, with: rendered)
                    .write(to: path, atomically: true, encoding: .utf8)
                return
            }
            #expect(current == rendered, "run with RAHAT_UPDATE_DOCS=1 to render the table into docs/security.md")
        }

        @Test(
            "every caller gets what the table says, about its own project and another",
            arguments: DatabaseEngine.available)
        func everyCell(engine: DatabaseEngine) async throws {
            let smsFile = FileManager.default.temporaryDirectory
                .appendingPathComponent("rahat-sms-\(UUID().uuidString).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: smsFile) }
            try await GatewayHarness.withEmbedded(
                engine,
                configure: {
                    $0.c2c.sms = .file(path: smsFile)
                    // The table asks about authorization; the limits have tests of their own.
                    $0.gateway.rateLimits = RateLimitConfiguration(limits: [:], authFailures: nil)
                }
            ) { client, configuration in
                let report = try await AuthorizationMatrix.run(
                    client: client,
                    serviceToken: try await ServiceHarness.serviceToken("c2c", configuration: configuration.auth),
                    smsFile: smsFile)
                #expect(report.mismatches.isEmpty, "\(report)")
            }
        }
    }
}
