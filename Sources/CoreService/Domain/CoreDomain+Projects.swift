import CoreAPI
import FluentKit
import Foundation
import Messaging
import Persistence
import ServerKit
import SharedModels
import SwiftProtobuf

/// The kinds of project (docs/domain.md).
enum ProjectType: String, Sendable, CaseIterable {
    /// Cash disbursed to beneficiaries.
    case c2c
    /// Vouchers redeemed at vendors.
    case cva
}

/// Where a project is in its life.
enum ProjectStatus: String, Sendable, CaseIterable {
    case draft, active, closed
}

/// A project as the rest of the system sees it.
struct ProjectInfo: Sendable, Equatable {
    var id: UUID
    var name: String
    var description: String?
    var type: ProjectType
    var status: ProjectStatus
    var asset: String
    var assetScale: Int
    var settingsJSON: String
    var defaultCountry: String?
    var createdAt: Date
    var updatedAt: Date
    var activatedAt: Date?
    var closedAt: Date?
}

/// A request to create a project, as received.
struct NewProject: Sendable {
    var name: String
    var description: String?
    var type: ProjectType?
    var asset: String
    var assetScale: Int
    var settingsJSON: String?
    var defaultCountry: String?
}

/// Changes to a project; `nil` leaves a field as it is.
struct ProjectChanges: Sendable {
    var name: String?
    var description: String?
    var settingsJSON: String?
    var defaultCountry: String?
}

extension CoreDomain {
    static let maxSettingsBytes = 16 * 1024

    func createProject(_ request: NewProject, by caller: Principal) async throws -> ProjectInfo {
        try caller.require(Permission(.project, .create))
        var violations: [FieldViolation] = []
        let name = Self.validName(request.name, into: &violations)
        let description = request.description.map { Self.validDescription($0, into: &violations) }
        if request.type == nil {
            violations.append(FieldViolation(field: "type", reason: "must be one of c2c, cva"))
        }
        let asset = request.asset.trimmingCharacters(in: .whitespaces).uppercased()
        if !Self.isValidAsset(asset) {
            violations.append(
                FieldViolation(
                    field: "asset", reason: "must be 3–12 letters or digits starting with a letter, like NPR"))
        }
        if !(0...8).contains(request.assetScale) {
            violations.append(FieldViolation(field: "assetScale", reason: "must be between 0 and 8"))
        }
        let settings = Self.validSettings(request.settingsJSON ?? "{}", into: &violations)
        let country = request.defaultCountry.map { Self.validCountry($0, into: &violations) }
        guard violations.isEmpty, let type = request.type else { throw CoreError.invalidInput(violations) }

        let now = self.now()
        let row = ProjectRow()
        row.id = UUID.v7(at: now)
        row.name = name
        row.projectDescription = description
        row.type = type.rawValue
        row.status = ProjectStatus.draft.rawValue
        row.asset = asset
        row.assetScale = request.assetScale
        row.settings = settings
        row.defaultCountry = country
        row.createdBy = caller.userID
        row.createdAt = now
        row.updatedAt = now
        try await database.transaction { tx in
            try await ProjectStore.create(row, on: tx)
            try await Outbox.append(
                CoreEvents.projectChanged(Rahat_Core_V1_ProjectChanged.created, row, at: now), on: tx)
        }
        logger.info("project created", metadata: ["project_id": "\(row.id?.lowercasedString ?? "")"])
        return try Self.info(row)
    }

    func getProject(_ id: String, by caller: Principal) async throws -> ProjectInfo {
        let projectID = try parseID(id)
        let required = Permission(.project, .read, projectID: projectID.lowercasedString)
        if !caller.permissions.allows(required) {
            // A shop's login reads the projects it serves: their names, assets and scales are
            // what it redeems in. A deactivated shop still reads them: its redemptions and
            // settlements there stay its own to follow.
            guard Self.isVendorLogin(caller), let vendor = try await VendorStore.find(user: caller.userID, on: db),
                try await VendorStore.projects(servedBy: try vendor.requireID(), on: db).contains(projectID)
            else { try caller.require(required); throw CoreError.projectNotFound }
        }
        return try Self.info(try await find(projectID))
    }

    /// Projects the caller may read: all of them with an unscoped grant, else those it is scoped to.
    func listProjects(
        limit: Int,
        cursor: String?,
        status: ProjectStatus?,
        type: ProjectType?,
        by caller: Principal
    ) async throws -> ([ProjectInfo], String?) {
        guard caller.permissions.allowsAnywhere(.project, .read) else {
            throw CoreError.permissionDenied("This action needs the permission 'project:read'.")
        }
        let page = try PageRequest<UUID>.validate(limit: limit, cursor: cursor).get()
        var scoped: [UUID]?
        if !caller.permissions.allows(Permission(.project, .read)) {
            scoped = caller.permissions.grants.compactMap { grant -> UUID? in
                guard grant.allows(Permission(.project, .read, projectID: grant.projectID)) else { return nil }
                return grant.projectID.flatMap(UUID.init(uuidString:))
            }
        }
        let only = scoped
        let found = try await database.replicaRead { db in
            try await ProjectStore.page(
                after: page.after, status: status?.rawValue, type: type?.rawValue, only: only, limit: limit + 1, on: db)
        }
        let (rows, next) = try page.page(of: found) { try $0.requireID() }
        return (try rows.map(Self.info), next)
    }

    func updateProject(_ id: String, changes: ProjectChanges, by caller: Principal) async throws -> ProjectInfo {
        let projectID = try parseID(id)
        try caller.require(Permission(.project, .update, projectID: projectID.lowercasedString))
        let row = try await find(projectID)
        var violations: [FieldViolation] = []
        if let name = changes.name { row.name = Self.validName(name, into: &violations) }
        if let description = changes.description {
            row.projectDescription = description.isEmpty ? nil : Self.validDescription(description, into: &violations)
        }
        if let settings = changes.settingsJSON { row.settings = Self.validSettings(settings, into: &violations) }
        if let country = changes.defaultCountry {
            row.defaultCountry = country.isEmpty ? nil : Self.validCountry(country, into: &violations)
        }
        guard violations.isEmpty else { throw CoreError.invalidInput(violations) }
        let now = self.now()
        row.updatedAt = now
        try await database.transaction { tx in
            try await ProjectStore.save(row, on: tx)
            try await Outbox.append(
                CoreEvents.projectChanged(Rahat_Core_V1_ProjectChanged.updated, row, at: now), on: tx)
        }
        return try Self.info(row)
    }

    /// draft → active.
    func activateProject(_ id: String, by caller: Principal) async throws -> ProjectInfo {
        try await transition(
            id, from: .draft, to: .active, action: "activated", event: Rahat_Core_V1_ProjectChanged.activated,
            by: caller)
    }

    /// active → closed. A closed project accepts no new enrolments.
    func closeProject(_ id: String, by caller: Principal) async throws -> ProjectInfo {
        try await transition(
            id, from: .active, to: .closed, action: "closed", event: Rahat_Core_V1_ProjectChanged.closed, by: caller)
    }

    private func transition(
        _ id: String,
        from: ProjectStatus,
        to: ProjectStatus,
        action: String,
        event type: String,
        by caller: Principal
    ) async throws -> ProjectInfo {
        let projectID = try parseID(id)
        try caller.require(Permission(.project, .manage, projectID: projectID.lowercasedString))
        let now = self.now()
        let row = try await database.transaction { tx in
            guard let row = try await ProjectStore.find(projectID, on: tx) else { throw CoreError.projectNotFound }
            guard row.status == from.rawValue else {
                throw CoreError.invalidTransition(from: row.status, action: action)
            }
            row.status = to.rawValue
            row.updatedAt = now
            if to == .active { row.activatedAt = now }
            if to == .closed { row.closedAt = now }
            try await ProjectStore.save(row, on: tx)
            try await Outbox.append(CoreEvents.projectChanged(type, row, at: now), on: tx)
            return row
        }
        logger.info("project \(action)", metadata: ["project_id": "\(projectID.lowercasedString)"])
        return try Self.info(row)
    }

    private func find(_ id: UUID) async throws -> ProjectRow {
        guard let row = try await ProjectStore.find(id, on: db) else { throw CoreError.projectNotFound }
        return row
    }

    // MARK: Validation

    static func validName(_ raw: String, into violations: inout [FieldViolation]) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty {
            violations.append(FieldViolation(field: "name", reason: "is required"))
        } else if name.count > 200 {
            violations.append(FieldViolation(field: "name", reason: "must be at most 200 characters"))
        }
        return name
    }

    static func validDescription(_ raw: String, into violations: inout [FieldViolation]) -> String {
        if raw.count > 2000 {
            violations.append(FieldViolation(field: "description", reason: "must be at most 2000 characters"))
        }
        return raw
    }

    static func isValidAsset(_ asset: String) -> Bool {
        guard (3...12).contains(asset.count), let first = asset.first, first.isLetter, first.isASCII else {
            return false
        }
        return asset.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    static func validSettings(_ raw: String, into violations: inout [FieldViolation]) -> String {
        guard raw.utf8.count <= maxSettingsBytes else {
            violations.append(FieldViolation(field: "settings", reason: "must be at most \(maxSettingsBytes) bytes"))
            return "{}"
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(raw.utf8)), object is [String: Any] else {
            violations.append(FieldViolation(field: "settings", reason: "must be a JSON object"))
            return "{}"
        }
        return raw
    }

    static func validCountry(_ raw: String, into violations: inout [FieldViolation]) -> String {
        let country = raw.trimmingCharacters(in: .whitespaces).uppercased()
        guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            violations.append(
                FieldViolation(field: "defaultCountry", reason: "must be an ISO 3166-1 alpha-2 code like NP"))
            return country
        }
        return country
    }

    static func info(_ row: ProjectRow) throws -> ProjectInfo {
        ProjectInfo(
            id: try row.requireID(),
            name: row.name,
            description: row.projectDescription,
            type: ProjectType(rawValue: row.type) ?? .c2c,
            status: ProjectStatus(rawValue: row.status) ?? .draft,
            asset: row.asset,
            assetScale: row.assetScale,
            settingsJSON: row.settings,
            defaultCountry: row.defaultCountry,
            createdAt: row.createdAt,
            updatedAt: row.updatedAt,
            activatedAt: row.activatedAt,
            closedAt: row.closedAt
        )
    }
}
