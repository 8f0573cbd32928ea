/// Who calls, as the matrix's columns name them, in the order they are asked.
enum MatrixCaller: String, CaseIterable, Sendable {
    case anonymous = "anon"
    case admin
    case managerA = "mgr@A"
    case manager = "mgr"
    case agentA = "agent@A"
    case auditorA = "audit@A"
    case vendorA = "vend@A"
    case vendorB = "vend@B"
    case apiKeyA = "key@A"
    case service = "svc"

    /// What the column stands for, for the rendered table's legend.
    var legend: String {
        switch self {
        case .anonymous: "no credentials"
        case .admin: "the built-in admin"
        case .managerA: "a manager scoped to project A"
        case .manager: "a manager of every project (an approver of both)"
        case .agentA: "a field agent scoped to A"
        case .auditorA: "an auditor scoped to A"
        case .vendorA: "the vendor serving A, signed in as itself"
        case .vendorB: "the vendor serving B"
        case .apiKeyA:
            "an admin's API key for A with `project:read`, `beneficiary:read`, `disbursement:read`, `disbursement:create`"
        case .service: "a service token (the c2c service's) presented at the public edge"
        }
    }
}

/// How a caller proves who it is.
enum MatrixCredential: Sendable {
    case none
    case bearer(String)
    case apiKey(String)

    /// The bearer token, for set-up steps a signed-in person takes.
    func unwrapBearer() throws -> String {
        guard case .bearer(let token) = self else {
            throw MatrixSetupFailed(step: "a set-up step needs a signed-in caller", answer: nil)
        }
        return token
    }
}

extension Optional where Wrapped == MatrixCredential {
    /// The bearer token of a caller the world has.
    func unwrapBearer() throws -> String {
        guard let self else { throw MatrixSetupFailed(step: "a caller is missing", answer: nil) }
        return try self.unwrapBearer()
    }
}
