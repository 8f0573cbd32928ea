import Foundation
import TestInfrastructure

/// Who may do what: every operation of `openapi.yaml`, asked by every kind of caller about its
/// own project (A) and another (B), and the status each must get.
///
/// A cell is `ok` (the route's success status), or the status expected instead; two values are
/// A then B, one is both (or the route names no project). Cells run in the table's order, and
/// each row's callers in the columns' order, so a route that uses its target up (closing a
/// project, confirming a settlement) reads here as the first permitted caller succeeding and
/// later ones finding it done. `docs/security.md` renders this table; the suite fails when the
/// two differ or when an operation is missing.
package enum AuthorizationMatrix {
    //  columns: anon | admin | mgr@A | mgr | agent@A | audit@A | vend@A | vend@B | key@A | svc
    static let rows: [MatrixRow] = [
        // Operations
        .global("GET /health", 200, "ok | ok | ok | ok | ok | ok | ok | ok | ok | ok") { _, _ in
            MatrixRequest("/health")
        },
        .global("GET /readiness", 200, "ok | ok | ok | ok | ok | ok | ok | ok | ok | ok") { _, _ in
            MatrixRequest("/readiness")
        },

        // Sessions
        .global("POST /v1/auth/login", 200, "ok | ok | ok | ok | ok | ok | ok | ok | ok | ok") { _, _ in
            try MatrixRequest(
                "/v1/auth/login", json: ["email": MatrixWorld.loginEmail, "password": MatrixWorld.loginPassword])
        },
        .global("POST /v1/auth/refresh", 200, "ok | ok | ok | ok | ok | ok | ok | ok | ok | ok") { world, _ in
            try MatrixRequest("/v1/auth/refresh", json: ["refreshToken": try await world.freshRefreshToken()])
        },
        // A person ends another sign-in of their own; the others present the plain user's.
        .byCaller("POST /v1/auth/logout", 204, "401 | ok | ok | ok | ok | ok | ok | ok | 401 | 401") { world, caller in
            try MatrixRequest("/v1/auth/logout", json: ["refreshToken": try await world.freshRefreshToken(of: caller)])
        },
        .global("GET /v1/auth/me", 200, "401 | ok | ok | ok | ok | ok | ok | ok | ok | 401") { _, _ in
            MatrixRequest("/v1/auth/me")
        },

        // Users, roles and keys
        .global("GET /v1/users", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            MatrixRequest("/v1/users")
        },
        .global("POST /v1/users", 201, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            try MatrixRequest(
                "/v1/users",
                json: [
                    "name": "New user", "email": MatrixWorld.freshEmail(),
                    "password": "a new long passphrase",
                ])
        },
        .global("GET /v1/users/{id}", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { world, _ in
            MatrixRequest("/v1/users/\(world.someUser)")
        },
        .global("PATCH /v1/users/{id}", 200, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401") {
            world, _ in
            try MatrixRequest("/v1/users/\(world.someUser)", json: ["name": "Some user"])
        },
        .global("DELETE /v1/users/{id}", 204, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401") {
            world, _ in
            MatrixRequest("/v1/users/\(try await world.freshUser())")
        },
        .global("GET /v1/users/{id}/roles", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, _ in
            MatrixRequest("/v1/users/\(world.someUser)/roles")
        },
        .global("PUT /v1/users/{id}/roles", 200, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401") {
            world, _ in
            try MatrixRequest("/v1/users/\(try await world.freshUser())/roles", json: ["roles": [["role": "auditor"]]])
        },
        .global("GET /v1/roles", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            MatrixRequest("/v1/roles")
        },
        .global("POST /v1/roles", 201, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            try MatrixRequest(
                "/v1/roles",
                json: ["name": "new_\(UUID().uuidString.prefix(8).lowercased())", "permissions": ["project:read"]])
        },
        .global("GET /v1/roles/{name}", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            MatrixRequest("/v1/roles/manager")
        },
        .global("DELETE /v1/roles/{name}", 204, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401") {
            world, _ in
            MatrixRequest("/v1/roles/\(try await world.freshRole())")
        },
        .global("GET /v1/api-keys", 200, "401 | ok | ok | ok | ok | ok | ok | ok | ok | 401") { _, _ in
            MatrixRequest("/v1/api-keys")
        },
        .global("POST /v1/api-keys", 201, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            try MatrixRequest("/v1/api-keys", json: ["name": "integration", "permissions": ["project:read"]])
        },
        .global("GET /v1/api-keys/{id}", 200, "401 | ok | 404 | 404 | 404 | 404 | 404 | 404 | 404 | 401") {
            world, _ in
            MatrixRequest("/v1/api-keys/\(world.adminKey)")
        },
        .global("DELETE /v1/api-keys/{id}", 204, "401 | ok | 404 | 404 | 404 | 404 | 404 | 404 | 403 | 401") {
            world, _ in
            MatrixRequest("/v1/api-keys/\(try await world.freshAdminKey())")
        },

        // Projects
        .global("GET /v1/projects", 200, "401 | ok | ok | ok | ok | ok | 403 | 403 | ok | 401") { _, _ in
            MatrixRequest("/v1/projects")
        },
        .global("POST /v1/projects", 201, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            try MatrixRequest(
                "/v1/projects", json: ["name": "New project", "type": "c2c", "asset": "NPR", "assetScale": 2])
        },
        .project(
            "GET /v1/projects/{id}", 200, "401 | ok | ok 403 | ok | ok 403 | ok 403 | ok 403 | 403 ok | ok 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)")
        },
        .project("PATCH /v1/projects/{id}", 200, "401 | ok | ok 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            try MatrixRequest("/v1/projects/\(world[side].id)", json: ["description": "Flood relief"])
        },
        .project(
            "POST /v1/projects/{id}/activate", 200, "401 | 409 | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/activate")
        },

        // Beneficiaries
        .project(
            "GET /v1/beneficiaries", 200, "401 | ok | ok 403 | ok | ok 403 | ok 403 | 403 | 403 | ok 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/beneficiaries?projectId=\(world[side].id)")
        },
        .global("POST /v1/beneficiaries", 201, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            try MatrixRequest("/v1/beneficiaries", json: ["name": "New person"])
        },
        .project(
            "POST /v1/beneficiaries/search", 200, "401 | ok | ok 403 | ok | ok 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/beneficiaries/search", json: ["projectId": world[side].id, "phone": world[side].phone])
        },
        .global("POST /v1/beneficiaries/batch", 201, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            _, _ in
            try MatrixRequest("/v1/beneficiaries/batch", json: ["items": [["name": "New person"]]])
        },
        .project(
            "GET /v1/beneficiaries/{id}", 200, "401 | ok | ok 404 | ok | ok 404 | ok 404 | 403 | 403 | ok 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/beneficiaries/\(world[side].beneficiary)")
        },
        .project(
            "PATCH /v1/beneficiaries/{id}", 200, "401 | ok | ok 404 | ok | ok 404 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest("/v1/beneficiaries/\(world[side].beneficiary)", json: ["gender": "female"])
        },
        .project(
            "DELETE /v1/beneficiaries/{id}", 204, "401 | ok | ok 404 | ok | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/beneficiaries/\(try await world.freshBeneficiary(in: side))")
        },
        .project(
            "GET /v1/projects/{id}/beneficiaries", 200,
            "401 | ok | ok 403 | ok | ok 403 | ok 403 | 403 | 403 | ok 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/beneficiaries")
        },
        .project(
            "POST /v1/projects/{id}/beneficiaries", 200,
            "401 | ok | ok 403 | ok | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/projects/\(world[side].id)/beneficiaries", json: ["beneficiaryIds": [world[side].beneficiary]])
        },
        .project(
            "DELETE /v1/projects/{id}/beneficiaries/{beneficiaryId}", 204,
            "401 | ok | ok 403 | ok | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/beneficiaries/\(try await world.freshBeneficiary(in: side))")
        },

        // Groups
        .global("GET /v1/groups", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            MatrixRequest("/v1/groups")
        },
        .global("POST /v1/groups", 201, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            try MatrixRequest("/v1/groups", json: ["name": "New group"])
        },
        .project("GET /v1/groups/{id}", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            MatrixRequest("/v1/groups/\(world[side].group)")
        },
        .project("PATCH /v1/groups/{id}", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            try MatrixRequest("/v1/groups/\(world[side].group)", json: ["description": "Ward 4"])
        },
        .project("DELETE /v1/groups/{id}", 204, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            MatrixRequest("/v1/groups/\(try await world.freshGroup(in: side))")
        },
        .project("GET /v1/groups/{id}/members", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            MatrixRequest("/v1/groups/\(world[side].group)/members")
        },
        .project("POST /v1/groups/{id}/members", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            try MatrixRequest(
                "/v1/groups/\(world[side].group)/members", json: ["beneficiaryIds": [world[side].beneficiary]])
        },
        .project(
            "POST /v1/groups/{id}/members/remove", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/groups/\(try await world.freshGroup(in: side))/members/remove",
                json: ["beneficiaryIds": [world[side].beneficiary]])
        },

        // Vendors
        .project("GET /v1/vendors", 200, "401 | ok | ok 403 | ok | 403 | ok 403 | ok | ok | 403 | 401") {
            world, side in
            MatrixRequest("/v1/vendors?projectId=\(world[side].id)")
        },
        .global("POST /v1/vendors", 201, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            try MatrixRequest(
                "/v1/vendors",
                json: [
                    "name": "New shop", "email": MatrixWorld.freshEmail(), "password": "a shop's long passphrase",
                    "payoutAccount": MatrixWorld.payoutAccount("0100-0000-0003"),
                ])
        },
        .project("GET /v1/vendors/{id}", 200, "401 | ok | ok 404 | ok | 403 | ok 404 | ok 404 | 404 ok | 403 | 401") {
            world, side in
            MatrixRequest("/v1/vendors/\(world[side].vendor)")
        },
        .project("PATCH /v1/vendors/{id}", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            try MatrixRequest("/v1/vendors/\(world[side].vendor)", json: ["location": "Ward 4"])
        },
        .project(
            "POST /v1/vendors/{id}/deactivate", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/vendors/\(try await world.freshVendor(in: side))/deactivate")
        },
        .project(
            "POST /v1/vendors/{id}/payout-change/approve", 200,
            "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/vendors/\(try await world.freshPayoutChange(in: side))/payout-change/approve",
                json: ["note": "checked with the shop"])
        },
        .project(
            "POST /v1/vendors/{id}/payout-change/reject", 200,
            "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/vendors/\(try await world.freshPayoutChange(in: side))/payout-change/reject",
                json: ["note": "not the shop's account"])
        },
        .project("POST /v1/projects/{id}/vendors", 200, "401 | ok | ok 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            try MatrixRequest("/v1/projects/\(world[side].id)/vendors", json: ["vendorId": world[side].vendor])
        },
        .project(
            "DELETE /v1/projects/{id}/vendors/{vendorId}", 204,
            "401 | ok | ok 403 | ok | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/vendors/\(try await world.freshVendor(in: side))")
        },
        .project(
            "GET /v1/projects/{id}/stats", 200, "401 | ok | ok 403 | ok | ok 403 | ok 403 | 403 | 403 | ok 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/stats")
        },

        // Imports
        .global("GET /v1/imports", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            MatrixRequest("/v1/imports")
        },
        .project("POST /v1/imports", 202, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            // A file of its own each time: the same one twice at once is refused as a duplicate import.
            MatrixRequest(
                "/v1/imports?projectId=\(world[side].id)", text: "name\nPerson \(MatrixWorld.next())\n",
                contentType: "text/csv")
        },
        .project("GET /v1/imports/{id}", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            MatrixRequest("/v1/imports/\(world[side].importID)")
        },
        .project("GET /v1/imports/{id}/rejects", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            MatrixRequest("/v1/imports/\(world[side].importID)/rejects")
        },

        // The ledger
        .project(
            "GET /v1/ledger/accounts", 200, "401 | ok | ok 403 | ok | 403 | ok 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/ledger/accounts?projectId=\(world[side].id)&kind=project_fund")
        },
        .project(
            "GET /v1/ledger/accounts/{id}", 200, "401 | ok | ok 404 | ok | 404 | ok 404 | 404 | 404 | 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/ledger/accounts/\(world[side].fundAccount)")
        },
        .project(
            "GET /v1/ledger/accounts/{id}/statement", 200,
            "401 | ok | ok 404 | ok | 404 | ok 404 | 404 | 404 | 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/ledger/accounts/\(world[side].fundAccount)/statement")
        },
        .project(
            "GET /v1/ledger/transfers", 200, "401 | ok | ok 403 | ok | 403 | ok 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/ledger/transfers?projectId=\(world[side].id)")
        },
        .project(
            "GET /v1/ledger/transfers/{id}", 200, "401 | ok | ok 404 | ok | 404 | ok 404 | 404 | 404 | 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/ledger/transfers/\(world[side].transfer)")
        },
        .global("GET /v1/ledger/verify", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") { _, _ in
            MatrixRequest("/v1/ledger/verify")
        },
        .project(
            "GET /v1/projects/{id}/reconciliation", 200,
            "401 | ok | ok 403 | ok | 403 | ok 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/reconciliation")
        },

        // Money governance
        .project(
            "GET /v1/projects/{id}/approvers", 200,
            "401 | ok | ok 403 | ok | ok 403 | ok 403 | 403 | 403 | ok 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/approvers")
        },
        .project(
            "PUT /v1/projects/{id}/approvers", 200, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/projects/\(world[side].id)/approvers", json: ["userIds": world.approvers(side), "required": 1])
        },
        .project(
            "GET /v1/projects/{id}/settlement-schedule", 200,
            "401 | ok | ok 403 | ok | 403 | ok 403 | ok | ok | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/settlement-schedule")
        },
        .project(
            "PUT /v1/projects/{id}/settlement-schedule", 200,
            "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest("/v1/projects/\(world[side].id)/settlement-schedule", json: MatrixWorld.schedule)
        },
        .project(
            "DELETE /v1/projects/{id}/settlement-schedule", 204,
            "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try await world.restoreSchedule(in: side)
            return MatrixRequest("/v1/projects/\(world[side].id)/settlement-schedule")
        },
        .project(
            "GET /v1/projects/{id}/funding", 200, "401 | ok | ok 403 | ok | ok 403 | ok 403 | 403 | 403 | ok 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/funding")
        },
        .project(
            "POST /v1/projects/{id}/funding", 201, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/projects/\(world[side].id)/funding",
                json: ["amount": 1, "reference": "GRANT-\(UUID().uuidString.prefix(8))"])
        },

        // Disbursements
        .project(
            "GET /v1/disbursements", 200, "401 | ok | ok 403 | ok | 403 | ok 403 | 403 | 403 | ok 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/disbursements?projectId=\(world[side].id)")
        },
        .project(
            "POST /v1/disbursements", 201, "401 | ok | ok 403 | ok | 403 | 403 | 403 | 403 | ok 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/disbursements",
                json: [
                    "projectId": world[side].id, "name": "December", "amountPerBeneficiary": 100,
                    "reference": "DEC-\(UUID().uuidString.prefix(8))",
                ])
        },
        .project(
            "GET /v1/disbursements/{id}", 200, "401 | ok | ok 404 | ok | 403 | ok 404 | 403 | 403 | ok 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/disbursements/\(world[side].disbursement)")
        },
        .project(
            "GET /v1/disbursements/{id}/lines", 200,
            "401 | ok | ok 404 | ok | 403 | ok 404 | 403 | 403 | ok 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/disbursements/\(world[side].disbursement)/lines")
        },
        .project(
            "POST /v1/disbursements/{id}/submit", 200,
            "401 | ok | ok 404 | ok | 403 | 403 404 | 403 | 403 | 403 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/disbursements/\(try await world.freshDisbursement(in: side, submitted: false))/submit")
        },
        .project(
            "POST /v1/disbursements/{id}/approve", 200,
            "401 | 403 | ok 404 | ok | 403 | 403 404 | 403 | 403 | 403 404 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/disbursements/\(try await world.freshDisbursement(in: side))/approve", json: ["note": "checked"])
        },
        .project(
            "POST /v1/disbursements/{id}/reject", 200,
            "401 | 403 | ok 404 | ok | 403 | 403 404 | 403 | 403 | 403 404 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/disbursements/\(try await world.freshDisbursement(in: side))/reject",
                json: ["note": "the list is wrong"])
        },
        .project(
            "POST /v1/disbursements/{id}/cancel", 200,
            "401 | ok | ok 404 | ok | 403 | 403 404 | 403 | 403 | 403 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/disbursements/\(try await world.freshDisbursement(in: side))/cancel")
        },
        .project(
            "POST /v1/disbursements/{id}/retry", 200,
            "401 | 409 | 409 404 | 409 | 403 | 403 404 | 403 | 403 | 403 404 | 401"
        ) { world, side in
            try MatrixRequest("/v1/disbursements/\(world[side].disbursement)/retry", json: [:])
        },

        // Redemptions
        .project(
            "GET /v1/redemptions", 200, "401 | ok | ok 403 | ok | 403 | ok 403 | ok | ok | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/redemptions?projectId=\(world[side].id)")
        },
        .project(
            "POST /v1/redemptions", 201, "401 | ok | 403 | 403 | 403 | 403 | ok 403 | 403 ok | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/redemptions",
                // An amount of its own: asking again for an open one answers it (200), not a new one.
                json: [
                    "vendorId": world[side].vendor, "phone": world[side].shopperPhone, "amount": 1 + MatrixWorld.next(),
                ])
        },
        .project(
            "GET /v1/redemptions/{id}", 200, "401 | ok | ok 404 | ok | 403 | ok 404 | ok 404 | 404 ok | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/redemptions/\(world[side].redemption)")
        },
        .project(
            "POST /v1/redemptions/{id}/confirm", 200,
            "401 | ok | 403 404 | 403 | 403 | 403 404 | ok 404 | 404 ok | 403 | 401"
        ) { world, side in
            let redemption = try await world.freshRedemption(in: side)
            return try MatrixRequest("/v1/redemptions/\(redemption.id)/confirm", json: ["code": redemption.code])
        },

        // Settlements
        .project(
            "GET /v1/settlements", 200, "401 | ok | ok 403 | ok | 403 | ok 403 | ok | ok | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/settlements?projectId=\(world[side].id)")
        },
        .project(
            "POST /v1/settlements", 202, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest("/v1/settlements", json: ["projectId": world[side].id])
        },
        .project(
            "GET /v1/settlements/{id}", 200, "401 | ok | ok 404 | ok | 403 | ok 404 | ok 404 | 404 ok | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/settlements/\(world[side].settlement)")
        },
        .project(
            "GET /v1/settlements/{id}/payout-file", 200,
            "401 | ok | ok 404 | ok | 403 | ok 404 | 403 | 403 | 403 | 401"
        ) { world, side in
            MatrixRequest("/v1/settlements/\(world[side].settlement)/payout-file?format=csv")
        },
        .project(
            "POST /v1/settlements/{id}/confirm", 200,
            "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/settlements/\(world[side].settlement)/confirm",
                json: ["status": "paid", "payoutReference": "BANK-\(side.rawValue)"])
        },

        // Verification
        .project(
            "GET /v1/verifications", 200, "401 | ok | ok 404 | ok | ok 404 | ok 404 | 403 | 403 | ok 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/verifications?beneficiaryId=\(world[side].beneficiary)")
        },
        .project(
            "GET /v1/verifications/{id}", 200, "401 | ok | ok 404 | ok | ok 404 | ok 404 | 403 | 403 | ok 404 | 401"
        ) { world, side in
            MatrixRequest("/v1/verifications/\(world[side].verification)")
        },
        .project(
            "POST /v1/beneficiaries/{id}/verification", 200,
            "401 | 409 | 403 | 409 | 403 | 403 | 403 | 403 | 403 | 401"
        ) { world, side in
            try MatrixRequest(
                "/v1/beneficiaries/\(world[side].beneficiary)/verification",
                json: ["decision": "verified", "note": "met in person"])
        },
        .global("GET /v1/verification/watch-list", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            _, _ in
            MatrixRequest("/v1/verification/watch-list")
        },
        .global("PUT /v1/verification/watch-list", 200, "401 | ok | 403 | ok | 403 | 403 | 403 | 403 | 403 | 401") {
            _, _ in
            MatrixRequest(
                "/v1/verification/watch-list", text: "nationalId,reason\n55-0000-0001,court order\n",
                contentType: "text/csv")
        },

        // Jobs
        .global("GET /v1/jobs", 200, "401 | ok | ok | ok | ok | ok | ok | ok | ok | 401") { _, _ in
            MatrixRequest("/v1/jobs")
        },
        .project("GET /v1/jobs/{id}", 200, "401 | ok | 404 | 404 | 404 | 404 | 404 | 404 | 404 | 401") {
            world, side in
            MatrixRequest("/v1/jobs/\(world[side].job)")
        },
        .project("POST /v1/jobs/{id}/retry", 200, "401 | 409 | 404 | 404 | 404 | 404 | 404 | 404 | 404 | 401") {
            world, side in
            MatrixRequest("/v1/jobs/\(world[side].job)/retry")
        },
        .project("GET /v1/jobs/{id}/stream", 200, "401 | ok | 404 | 404 | 404 | 404 | 404 | 404 | 404 | 401") {
            world, side in
            MatrixRequest("/v1/jobs/\(world[side].job)/stream")
        },

        // Last, as it ends the projects the rows above use.
        .project("POST /v1/projects/{id}/close", 200, "401 | ok | 403 | 403 | 403 | 403 | 403 | 403 | 403 | 401") {
            world, side in
            MatrixRequest("/v1/projects/\(world[side].id)/close")
        },
    ]
}

/// One operation's row: how to call it about a project, and what each caller must get.
struct MatrixRow: Sendable {
    typealias Build = @Sendable (MatrixWorld, MatrixSide) async throws -> MatrixRequest
    typealias BuildForCaller = @Sendable (MatrixWorld, MatrixCaller) async throws -> MatrixRequest

    /// `METHOD /path` as `openapi.yaml` names the operation.
    let route: String
    /// What `ok` stands for.
    let success: Int
    /// Whether the route names a project (so asks about A and B) or not.
    let namesProject: Bool
    /// The cells, one per caller, as written.
    let cells: [String]
    let build: BuildForCaller?
    let buildForSide: Build?

    /// The request `caller` sends about `side`.
    func request(_ world: MatrixWorld, _ side: MatrixSide, as caller: MatrixCaller) async throws -> MatrixRequest {
        if let build { return try await build(world, caller) }
        guard let buildForSide else { throw MatrixSetupFailed(step: "\(route) has no request", answer: nil) }
        return try await buildForSide(world, side)
    }

    var method: String { String(route.prefix { $0 != " " }) }

    /// A route about one project: each cell is A's status then B's, or one for both.
    static func project(_ route: String, _ success: Int, _ cells: String, build: @escaping Build) -> MatrixRow {
        MatrixRow(
            route: route, success: success, namesProject: true, cells: split(cells), build: nil, buildForSide: build)
    }

    /// A route about no project.
    static func global(_ route: String, _ success: Int, _ cells: String, build: @escaping Build) -> MatrixRow {
        MatrixRow(
            route: route, success: success, namesProject: false, cells: split(cells), build: nil, buildForSide: build)
    }

    /// A route about no project whose request depends on who sends it (their own session).
    static func byCaller(_ route: String, _ success: Int, _ cells: String, build: @escaping BuildForCaller) -> MatrixRow
    {
        MatrixRow(
            route: route, success: success, namesProject: false, cells: split(cells), build: build, buildForSide: nil)
    }

    private static func split(_ cells: String) -> [String] {
        cells.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The status `caller` must get about `side`'s project, or nil when the cell is malformed.
    func expected(_ caller: MatrixCaller, _ side: MatrixSide) -> Int? {
        guard let column = MatrixCaller.allCases.firstIndex(of: caller), column < cells.count else { return nil }
        let values = cells[column].split(separator: " ")
        guard values.count == 1 || (values.count == 2 && namesProject) else { return nil }
        let value = side == .other && values.count == 2 ? values[1] : values[0]
        return value == "ok" ? success : Int(value)
    }
}

extension AuthorizationMatrix {
    package static let beginMarker = "<!-- authorization-matrix:begin -->"
    package static let endMarker = "<!-- authorization-matrix:end -->"

    /// The table for people: a legend, then one line per operation.
    package static var markdown: String {
        var lines = ["", "Columns:", ""]
        lines += MatrixCaller.allCases.map { "- `\($0.rawValue)`: \($0.legend)" }
        lines += [
            "",
            "A cell is `ok` (the operation's success status, given after the route) or the status answered "
                + "instead; two values are about project A, then project B.",
            "",
            "| operation | ok | " + MatrixCaller.allCases.map(\.rawValue).joined(separator: " | ") + " |",
            "|---|---|" + String(repeating: "---|", count: MatrixCaller.allCases.count),
        ]
        for row in rows {
            lines.append("| `\(row.route)` | \(row.success) | " + row.cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n\n"
    }
}
