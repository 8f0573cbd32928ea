// Role names other services grant through the auth API.

extension Rahat_Auth_V1_RoleAssignment {
    /// The built-in role of a shop or cash-out agent; core grants it to a vendor's login.
    package static let vendor = "vendor"
}
