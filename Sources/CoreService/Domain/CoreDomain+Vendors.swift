import CoreAPI
import FluentKit
import Foundation
import Messaging
import Persistence
import ServerKit
import SharedModels
import SwiftProtobuf

/// Whether a vendor may take part in new work.
enum VendorStatus: String, Sendable, CaseIterable {
    case active, inactive
}

/// A vendor as the rest of the system sees it.
struct VendorInfo: Sendable, Equatable {
    var id: UUID
    var userID: UUID
    var name: String
    var phone: String?
    var email: String?
    var location: String?
    var payoutAccount: PayoutAccount
    var status: VendorStatus
    var projectIDs: [UUID]
    var createdAt: Date
    var updatedAt: Date
    var deactivatedAt: Date?
    /// A new payout account waiting for a second person's approval.
    var pendingPayoutChange: PayoutChange?
}

/// A request to register a vendor, as received.
struct NewVendor: Sendable {
    var name: String
    var phone: String?
    var email: String?
    var password: String?
    var userID: String?
    var location: String?
    var payoutAccount: PayoutAccount.Input
    var defaultCountry: String?
}

/// Changes to a vendor; `nil` leaves a field as it is.
struct VendorChanges: Sendable {
    var name: String?
    var phone: String?
    var location: String?
    var payoutAccount: PayoutAccount.Input?
    var defaultCountry: String?
}

extension CoreDomain {
    /// Registers a vendor and its login. Everything the core service can check is checked before
    /// the auth service is asked for the login, and the login is removed again if the vendor
    /// record cannot be written, so a failed registration leaves nothing behind.
    func registerVendor(_ request: NewVendor, by caller: Principal) async throws -> VendorInfo {
        try caller.require(Permission(.vendor, .create))
        var violations: [FieldViolation] = []
        let name = Self.validName(request.name, into: &violations)
        let phone = request.phone.flatMap { Self.validPhone($0, country: request.defaultCountry, into: &violations) }
        let location = request.location.flatMap { Self.validLocation($0, into: &violations) }
        let payout = PayoutAccount.validate(
            request.payoutAccount, defaultCountry: request.defaultCountry, prefix: "payoutAccount", into: &violations)
        let linkedUser = parseID(request.userID, field: "userId", into: &violations)
        if request.userID != nil {
            if request.password != nil {
                violations.append(FieldViolation(field: "password", reason: "must be omitted when linking a user"))
            }
        } else {
            if (request.email ?? "").isEmpty {
                violations.append(FieldViolation(field: "email", reason: "is required"))
            }
            if (request.password ?? "").isEmpty {
                violations.append(FieldViolation(field: "password", reason: "is required"))
            }
        }
        guard violations.isEmpty, let payout else { throw CoreError.invalidInput(violations) }
        if let linkedUser, try await VendorStore.find(user: linkedUser, on: db) != nil {
            throw CoreError.vendorExists
        }

        let userID: UUID
        var email = request.email.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if let linkedUser {
            email = try await accounts.grantVendorRole(to: linkedUser)
            userID = linkedUser
        } else {
            userID = try await accounts.createVendorLogin(
                name: name, email: email ?? "", password: request.password ?? "", phone: phone)
        }
        let now = self.now()
        let row = VendorRow()
        row.id = UUID.v7(at: now)
        row.userID = userID
        row.name = name
        row.phone = phone
        row.email = email
        row.location = location
        Self.write(payout, to: row)
        row.status = VendorStatus.active.rawValue
        row.createdBy = caller.userID
        row.createdAt = now
        row.updatedAt = now
        do {
            try await database.transaction { tx in
                try await VendorStore.create(row, on: tx)
                try await Outbox.append(
                    CoreEvents.vendorChanged(Rahat_Core_V1_VendorChanged.registered, row, at: now), on: tx)
            }
        } catch {
            if linkedUser == nil {
                do {
                    try await accounts.removeLogin(userID)
                } catch let cleanup {
                    logger.error(
                        "could not remove the login of a vendor that failed to register",
                        metadata: ["user_id": "\(userID.lowercasedString)", "error": "\(cleanup)"])
                }
            } else if try await VendorStore.find(user: userID, on: db) != nil {
                // A concurrent registration of the same user won the unique index.
                throw CoreError.vendorExists
            }
            throw error
        }
        logger.info("vendor registered", metadata: ["vendor_id": "\(row.id?.lowercasedString ?? "")"])
        return try Self.vendorInfo(row, projects: [])
    }

    func getVendor(_ id: String, by caller: Principal) async throws -> VendorInfo {
        let vendorID = try parseID(id)
        let ownOnly = !caller.permissions.allowsAnywhere(.vendor, .read)
        if ownOnly, !Self.isVendorLogin(caller) {
            throw CoreError.permissionDenied("This action needs the permission 'vendor:read'.")
        }
        let row = try await findVendor(vendorID, on: db)
        let projects = try await projectIDs(of: [vendorID])[vendorID] ?? []
        // Another project's vendor is answered as unknown: its id confirms nothing.
        guard row.userID == caller.userID || (!ownOnly && Self.mayRead(vendorIn: projects, caller)) else {
            throw CoreError.vendorNotFound
        }
        return try await vendorInfo(row, projects: projects)
    }

    /// Whether `caller` may read a vendor assigned to `projects`: with an unscoped `vendor:read`,
    /// or one scoped to a project the vendor serves.
    static func mayRead(vendorIn projects: [UUID], _ caller: Principal) -> Bool {
        caller.permissions.allows(Permission(.vendor, .read))
            || projects.contains {
                caller.permissions.allows(Permission(.vendor, .read, projectID: $0.lowercasedString))
            }
    }

    /// Whether `caller` may redeem but not read vendors: a shop's own login, which reads only its
    /// own vendor (to learn the id it redeems as, and the projects it serves).
    static func isVendorLogin(_ caller: Principal) -> Bool {
        caller.permissions.allowsAnywhere(.redemption, .create)
    }

    func listVendors(
        limit: Int, cursor: String?, projectID text: String?, status: VendorStatus?, by caller: Principal
    ) async throws
        -> ([VendorInfo], String?)
    {
        let projectID = try text.map { try parseID($0, field: "projectId") }
        let required = Permission(.vendor, .read, projectID: projectID?.lowercasedString)
        let login: UUID? = caller.permissions.allows(required) ? nil : caller.userID
        if login != nil, !Self.isVendorLogin(caller) { try caller.require(required) }
        let page = try PageRequest<UUID>.validate(limit: limit, cursor: cursor).get()
        let after = page.after
        return try await database.replicaRead { db in
            let found = try await VendorStore.page(
                after: after, status: status?.rawValue, serving: projectID, login: login, limit: limit + 1, on: db)
            let (rows, next) = try page.page(of: found) { try $0.requireID() }
            let ids = try rows.map { try $0.requireID() }
            let projects = ids.isEmpty ? [:] : try await VendorStore.projectIDs(of: ids, on: db)
            return (try rows.map { try Self.vendorInfo($0, projects: projects[try $0.requireID()] ?? []) }, next)
        }
    }

    func updateVendor(_ id: String, changes: VendorChanges, by caller: Principal) async throws -> VendorInfo {
        try caller.require(Permission(.vendor, .update))
        let vendorID = try parseID(id)
        var violations: [FieldViolation] = []
        let name = changes.name.map { Self.validName($0, into: &violations) }
        let phone = changes.phone.map {
            $0.isEmpty ? "" : (Self.validPhone($0, country: changes.defaultCountry, into: &violations) ?? "")
        }
        let location = changes.location.map { Self.validLocation($0, into: &violations) ?? "" }
        let payout = changes.payoutAccount.flatMap {
            PayoutAccount.validate(
                $0, defaultCountry: changes.defaultCountry, prefix: "payoutAccount", into: &violations)
        }
        if changes.name == nil && changes.phone == nil && changes.location == nil && changes.payoutAccount == nil {
            violations.append(FieldViolation(field: "body", reason: "must change at least one field"))
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        let now = self.now()
        let row = try await database.transaction { tx in
            let row = try await findVendor(vendorID, on: tx)
            if let name { row.name = name }
            if let phone { row.phone = phone.isEmpty ? nil : phone }
            if let location { row.location = location.isEmpty ? nil : location }
            if let payout, Self.payoutAccount(of: row) != payout {
                try await requestPayoutChange(payout, vendorID: vendorID, by: caller, at: now, on: tx)
            }
            if name != nil || phone != nil || location != nil {
                row.updatedAt = now
                try await VendorStore.save(row, on: tx)
                try await Outbox.append(
                    CoreEvents.vendorChanged(Rahat_Core_V1_VendorChanged.updated, row, at: now), on: tx)
            }
            return row
        }
        return try await vendorInfo(row)
    }

    /// The vendor as callers see it: with the projects it serves (looked up unless given) and any
    /// payout change pending.
    func vendorInfo(_ row: VendorRow, projects known: [UUID]? = nil) async throws -> VendorInfo {
        let vendorID = try row.requireID()
        let projects: [UUID]
        if let known {
            projects = known
        } else {
            projects = try await projectIDs(of: [vendorID])[vendorID] ?? []
        }
        var info = try Self.vendorInfo(row, projects: projects)
        info.pendingPayoutChange = try await pendingPayoutChange(of: vendorID, on: db)
        return info
    }

    func deactivateVendor(_ id: String, by caller: Principal) async throws -> VendorInfo {
        try caller.require(Permission(.vendor, .update))
        let vendorID = try parseID(id)
        let now = self.now()
        let row = try await database.transaction { tx in
            let row = try await findVendor(vendorID, on: tx)
            guard row.status == VendorStatus.active.rawValue else { return row }
            row.status = VendorStatus.inactive.rawValue
            row.deactivatedAt = now
            row.updatedAt = now
            try await VendorStore.save(row, on: tx)
            try await Outbox.append(
                CoreEvents.vendorChanged(Rahat_Core_V1_VendorChanged.deactivated, row, at: now), on: tx)
            return row
        }
        return try Self.vendorInfo(row, projects: try await projectIDs(of: [vendorID])[vendorID] ?? [])
    }

    /// Assigns a vendor to a project; needs `vendor:update` for that project and a vendor the
    /// caller may already read. Returns false when it already was.
    func assignVendor(
        projectID projectText: String, vendorID vendorText: String, by caller: Principal
    ) async throws
        -> Bool
    {
        let projectID = try parseID(projectText, field: "projectId")
        let vendorID = try parseID(vendorText, field: "vendorId")
        try caller.require(Permission(.vendor, .update, projectID: projectID.lowercasedString))
        let now = self.now()
        let userID = caller.userID
        return try await database.transaction { tx in
            guard let project = try await ProjectStore.find(projectID, on: tx) else { throw CoreError.projectNotFound }
            guard project.status != ProjectStatus.closed.rawValue else { throw CoreError.projectClosed }
            let vendor = try await findVendor(vendorID, on: tx)
            // Assigning a vendor would show the caller its payout account: only vendors the
            // caller may read already, others answered as unknown.
            let serves = try await VendorStore.projects(servedBy: vendorID, on: tx)
            guard Self.mayRead(vendorIn: serves, caller) else { throw CoreError.vendorNotFound }
            guard vendor.status == VendorStatus.active.rawValue else { throw CoreError.vendorInactive }
            if try await VendorStore.link(vendorID, to: projectID, on: tx) != nil { return false }
            try await VendorStore.createLink(vendorID, to: projectID, by: userID, at: now, on: tx)
            try await Outbox.append(
                CoreEvents.vendorProjectLinked(
                    Rahat_Core_V1_VendorProjectLinked.assigned, vendorID: vendorID, projectID: projectID, at: now),
                on: tx)
            return true
        }
    }

    func unassignVendor(projectID projectText: String, vendorID vendorText: String, by caller: Principal) async throws {
        let projectID = try parseID(projectText, field: "projectId")
        let vendorID = try parseID(vendorText, field: "vendorId")
        try caller.require(Permission(.vendor, .update, projectID: projectID.lowercasedString))
        let now = self.now()
        try await database.transaction { tx in
            guard let link = try await VendorStore.link(vendorID, to: projectID, on: tx) else {
                throw CoreError.vendorNotAssigned
            }
            try await VendorStore.deleteLink(link, on: tx)
            try await Outbox.append(
                CoreEvents.vendorProjectLinked(
                    Rahat_Core_V1_VendorProjectLinked.unassigned, vendorID: vendorID, projectID: projectID, at: now),
                on: tx)
        }
    }

    // MARK: Helpers

    func findVendor(_ id: UUID, on db: any Database) async throws -> VendorRow {
        guard let row = try await VendorStore.find(id, on: db) else { throw CoreError.vendorNotFound }
        return row
    }

    /// The projects each vendor serves, in one query.
    private func projectIDs(of vendors: [UUID]) async throws -> [UUID: [UUID]] {
        guard !vendors.isEmpty else { return [:] }
        return try await VendorStore.projectIDs(of: vendors, on: db)
    }

    static func validPhone(_ raw: String, country: String?, into violations: inout [FieldViolation]) -> String? {
        switch PhoneNumber.parse(raw, defaultCountry: country) {
        case .success(let number): return number.e164
        case .failure(let problem):
            violations.append(FieldViolation(field: "phone", reason: problem.description))
            return nil
        }
    }

    static func validLocation(_ raw: String, into violations: inout [FieldViolation]) -> String? {
        let location = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if location.count > 200 {
            violations.append(FieldViolation(field: "location", reason: "must be at most 200 characters"))
        }
        return location.isEmpty ? nil : location
    }

    static func write(_ payout: PayoutAccount, to row: VendorRow) {
        row.payoutType = payout.type
        row.bankName = nil
        row.accountName = nil
        row.accountNumber = nil
        row.branch = nil
        row.bic = nil
        row.provider = nil
        row.mobileNumber = nil
        switch payout {
        case .bank(let bankName, let accountName, let accountNumber, let branch, let bic):
            row.bankName = bankName
            row.accountName = accountName
            row.accountNumber = accountNumber
            row.branch = branch
            row.bic = bic
        case .mobileMoney(let provider, let number):
            row.provider = provider
            row.mobileNumber = number
        }
    }

    /// The account the vendor is paid to now, as its row holds it.
    static func payoutAccount(of row: VendorRow) -> PayoutAccount {
        row.payoutType == "bank"
            ? .bank(
                bankName: row.bankName ?? "", accountName: row.accountName ?? "",
                accountNumber: row.accountNumber ?? "",
                branch: row.branch, bic: row.bic)
            : .mobileMoney(provider: row.provider ?? "", number: row.mobileNumber ?? "")
    }

    static func vendorInfo(_ row: VendorRow, projects: [UUID]) throws -> VendorInfo {
        let payout = payoutAccount(of: row)
        return VendorInfo(
            id: try row.requireID(),
            userID: row.userID,
            name: row.name,
            phone: row.phone,
            email: row.email,
            location: row.location,
            payoutAccount: payout,
            status: VendorStatus(rawValue: row.status) ?? .active,
            projectIDs: projects,
            createdAt: row.createdAt,
            updatedAt: row.updatedAt,
            deactivatedAt: row.deactivatedAt
        )
    }
}
