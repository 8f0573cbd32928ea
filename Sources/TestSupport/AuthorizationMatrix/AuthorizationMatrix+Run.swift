import Foundation
import HTTPTypes
package import HummingbirdTesting
import TestInfrastructure

/// What running the table found: the cells that answered otherwise, and those rows as answered.
package struct MatrixReport: Sendable, CustomStringConvertible {
    package var mismatches: [String]
    package var answered: [String]

    package var description: String {
        "\(mismatches.count) cells differ:\n\(mismatches.joined(separator: "\n"))\n\nas answered:\n"
            + answered.joined(separator: "\n")
    }
}

extension AuthorizationMatrix {
    /// `METHOD /path` of every row.
    package static var routes: [String] { rows.map(\.route) }

    /// Cells that are not one status per caller (or two, A then B, on a route about a project).
    package static var malformedCells: [String] {
        rows.flatMap { row in
            let count =
                row.cells.count == MatrixCaller.allCases.count
                ? [] : ["\(row.route) has \(row.cells.count) cells for \(MatrixCaller.allCases.count) callers"]
            return count
                + MatrixCaller.allCases.flatMap { caller in
                    MatrixSide.allCases.compactMap { side in
                        row.expected(caller, side) == nil
                            ? "\(row.route): \(caller.rawValue) about \(side.rawValue)" : nil
                    }
                }
        }
    }

    /// `METHOD /path` of every operation in an OpenAPI document written as ours is (paths at
    /// two spaces, methods at four).
    package static func operations(in document: String) -> [String] {
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

    /// Builds the world through `client`, then sends every cell in the table's order.
    /// `smsFile` is where the platform writes text messages (the codes redemption cells need);
    /// `serviceToken` is an internal service's token, to present at the edge.
    package static func run(
        client: any TestClientProtocol, serviceToken: String, smsFile: String
    ) async throws -> MatrixReport {
        let world = try await MatrixWorld.build(client: client, serviceToken: serviceToken, smsFile: smsFile)
        var report = MatrixReport(mismatches: [], answered: [])
        for row in rows {
            var answered: [MatrixCaller: [MatrixSide: Int]] = [:]
            var wrong = false
            for caller in MatrixCaller.allCases {
                for side in row.namesProject ? MatrixSide.allCases : [.own] {
                    let request = try await row.request(world, side, as: caller)
                    var answer = try await send(row, request, as: world.credentials[caller] ?? .none, client)
                    // No cell expects 503: it says a dependency was slow to answer (readiness probes
                    // every service, and a loaded machine can starve them all at once), not who may
                    // call. A read is asked again; a write is not, as it may have been done.
                    for attempt in 1...3 where answer.status == .serviceUnavailable && row.method == "GET" {
                        try await Task.sleep(for: .milliseconds(250 * attempt))
                        answer = try await send(row, request, as: world.credentials[caller] ?? .none, client)
                    }
                    let status = Int(answer.status.code)
                    answered[caller, default: [:]][side] = status
                    guard status != row.expected(caller, side) else { continue }
                    wrong = true
                    report.mismatches.append(
                        "\(row.route) as \(caller.rawValue) about \(side.rawValue): expected "
                            + "\(row.expected(caller, side).map(String.init) ?? "?"), got \(answer)")
                }
            }
            if wrong { report.answered.append(suggestion(row, answered)) }
        }
        return report
    }

    private static func send(
        _ row: MatrixRow, _ request: MatrixRequest, as credential: MatrixCredential, _ client: any TestClientProtocol
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
}
