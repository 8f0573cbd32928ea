import C2CService
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import Notifications
import RahatApp
import TestSupport
import Testing

extension GatewayTests {
    /// Who may do what, as one table (``AuthorizationMatrix``) that the platform is held to:
    /// every operation, every kind of caller, their own project and another (issue 17, item 6).
    @Suite("Authorization matrix")
    struct AuthorizationMatrixTests {
        static let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        @Test("every operation of openapi.yaml has exactly one row, and every row a well-formed cell per caller")
        func everyOperationHasARow() throws {
            let specified = try Self.operations(
                in: String(
                    contentsOf: Self.repository.appendingPathComponent("openapi.yaml"), encoding: .utf8))
            let rows = AuthorizationMatrix.rows.map(\.route)

            #expect(Set(specified).subtracting(rows).sorted() == [], "operations without a row")
            #expect(Set(rows).subtracting(specified).sorted() == [], "rows for no operation")
            #expect(rows.count == Set(rows).count, "a route has two rows")
            for row in AuthorizationMatrix.rows {
                for caller in MatrixCaller.allCases {
                    for side in MatrixSide.allCases {
                        #expect(row.expected(caller, side) != nil, "\(row.route): \(caller.rawValue)'s cell")
                    }
                }
                #expect(row.cells.count == MatrixCaller.allCases.count, "\(row.route) has a cell per caller")
            }
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
                let world = try await MatrixWorld.build(client: client, configuration: configuration, smsFile: smsFile)
                var mismatches: [String] = []
                var suggestions: [String] = []
                for row in AuthorizationMatrix.rows {
                    var answered: [MatrixCaller: [MatrixSide: Int]] = [:]
                    var wrong = false
                    for caller in MatrixCaller.allCases {
                        for side in row.namesProject ? MatrixSide.allCases : [.own] {
                            let request = try await row.request(world, side, as: caller)
                            let answer = try await Self.send(
                                row, request, as: world.credentials[caller] ?? .none, client)
                            answered[caller, default: [:]][side] = Int(answer.status.code)
                            if Int(answer.status.code) != row.expected(caller, side) {
                                wrong = true
                                mismatches.append(
                                    "\(row.route) as \(caller.rawValue) about \(side.rawValue): expected "
                                        + "\(row.expected(caller, side).map(String.init) ?? "?"), got \(answer)")
                            }
                        }
                    }
                    if wrong { suggestions.append(Self.suggestion(row, answered)) }
                }
                #expect(
                    mismatches.isEmpty,
                    "\(mismatches.count) cells differ:\n\(mismatches.joined(separator: "\n"))\n\nas answered:\n\(suggestions.joined(separator: "\n"))"
                )
            }
        }

        private static func send(
            _ row: MatrixRow, _ request: MatrixRequest, as credential: MatrixCredential,
            _ client: any TestClientProtocol
        ) async throws -> HTTPAnswer {
            var headers: HTTPFields = [:]
            switch credential {
            case .none: break
            case .bearer(let token): headers[.authorization] = "Bearer \(token)"
            case .apiKey(let key): headers[.authorization] = "ApiKey \(key)"
            }
            if let type = request.contentType { headers[.contentType] = type }
            return try await client.send(
                HTTPRequest.Method(row.method) ?? .get, request.path, raw: request.body, headers: headers)
        }

        /// The row as the platform answered it, to compare with the table by eye.
        private static func suggestion(_ row: MatrixRow, _ answered: [MatrixCaller: [MatrixSide: Int]]) -> String {
            let cells = MatrixCaller.allCases.map { caller -> String in
                let values = (row.namesProject ? MatrixSide.allCases : [.own]).map { side in
                    answered[caller]?[side].map { $0 == row.success ? "ok" : String($0) } ?? "?"
                }
                return values.count == 2 && values[0] == values[1] ? values[0] : values.joined(separator: " ")
            }
            return "\(row.route): \"\(cells.joined(separator: " | "))\""
        }

        /// `METHOD /path` of every operation in an OpenAPI document written as ours is (paths at
        /// two spaces, methods at four).
        static func operations(in document: String) throws -> [String] {
            var operations: [String] = []
            var inPaths = false
            var path: String?
            for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
                if !line.isEmpty, !line.hasPrefix(" ") { inPaths = line == "paths:" }
                guard inPaths else { continue }
                if line.hasPrefix("  /"), line.hasSuffix(":") {
                    path = String(line.dropFirst(2).dropLast())
                } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                    let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                    if ["get", "put", "post", "patch", "delete"].contains(key) {
                        operations.append("\(key.uppercased()) \(path)")
                    }
                }
            }
            return operations
        }
    }
}
