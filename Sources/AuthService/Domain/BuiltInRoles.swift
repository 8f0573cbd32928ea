import AuthAPI

/// The roles every installation starts with (docs/domain.md, "Roles"); agencies add custom roles beside them.
enum BuiltInRoles {
    struct Definition {
        var name: String
        var description: String
        var permissions: [String]
    }

    static let admin = Definition(
        name: "admin",
        description: "Sets up everything: projects, users, roles, vendors, funding.",
        permissions: ["all:manage"]
    )

    static let all: [Definition] = [
        admin,
        Definition(
            name: "manager",
            description: "Runs a project: enrols beneficiaries, drafts and approves disbursements.",
            permissions: [
                "project:read", "project:update", "beneficiary:manage", "beneficiary_pii:read", "vendor:read",
                "vendor:update", "disbursement:create", "disbursement:read", "disbursement:update",
                "disbursement:approve", "redemption:read", "settlement:read", "ledger:read", "user:read", "role:read",
            ]
        ),
        Definition(
            name: "field_agent",
            description: "Registers and verifies beneficiaries in the field.",
            permissions: [
                "project:read", "beneficiary:create", "beneficiary:read", "beneficiary:update", "beneficiary_pii:read",
            ]
        ),
        Definition(
            name: Rahat_Auth_V1_RoleAssignment.vendor,
            description: "A shop or cash-out agent that redeems what beneficiaries hold.",
            permissions: ["redemption:create", "redemption:read", "settlement:read"]
        ),
        Definition(
            name: "auditor",
            description: "Reads every record and every movement of value; changes nothing.",
            permissions: [
                "project:read", "beneficiary:read", "vendor:read", "disbursement:read", "redemption:read",
                "settlement:read", "ledger:read", "user:read", "role:read", "api_key:read",
            ]
        ),
    ]
}
