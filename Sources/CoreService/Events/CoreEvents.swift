import CoreAPI
import Foundation
import Messaging
import Persistence
import SharedModels
import SwiftProtobuf

/// The events core publishes, built from what changed: each names its aggregate and carries no
/// personal data (consumers that need it ask the service, which checks them). The topics and
/// payload messages are `CoreAPI`'s (`Protos/rahat/core/v1/events.proto`).
enum CoreEvents {
    /// A project created, updated, activated or closed (`topic`), with its state after.
    static func projectChanged(_ topic: String, _ row: ProjectRow, at now: Date) throws -> OutboxEvent {
        let id = row.id?.lowercasedString ?? ""
        return try OutboxEvent(
            topic: topic,
            payload: Rahat_Core_V1_ProjectChanged.with {
                $0.projectID = id
                $0.name = row.name
                $0.type = row.type
                $0.status = row.status
                $0.asset = row.asset
                $0.assetScale = Int64(row.assetScale)
            },
            aggregateType: "project", aggregateID: id, occurredAt: now)
    }

    /// A beneficiary created, updated (naming the fields `changed`) or archived.
    static func beneficiaryChanged(
        _ topic: String, _ row: BeneficiaryRow, at now: Date, changed: [String]
    ) throws -> OutboxEvent {
        let id = row.id?.lowercasedString ?? ""
        return try OutboxEvent(
            topic: topic,
            payload: Rahat_Core_V1_BeneficiaryChanged.with {
                $0.beneficiaryID = id
                $0.verificationStatus = row.verificationStatus
                $0.changedFields = changed
            }, keepingEmpty: ["changedFields"],
            aggregateType: "beneficiary", aggregateID: id, occurredAt: now)
    }

    /// A check run's outcome, by the job or a reviewer (`decidedBy`); only a decided run has one.
    static func verificationDecided(
        _ outcome: VerificationStatus, beneficiaryID: UUID, verificationID: UUID, reasons: [String],
        decidedBy: UUID?, at now: Date
    ) throws -> OutboxEvent {
        let topic =
            switch outcome {
            case .verified: Rahat_Core_V1_BeneficiaryVerificationDecided.verified
            case .rejected: Rahat_Core_V1_BeneficiaryVerificationDecided.rejected
            case .needsReview: Rahat_Core_V1_BeneficiaryVerificationDecided.needsReview
            // A run still pending or superseded decided nothing: no caller publishes one.
            case .pending, .superseded: throw UndecidedVerification(status: outcome)
            }
        return try OutboxEvent(
            topic: topic,
            payload: Rahat_Core_V1_BeneficiaryVerificationDecided.with {
                $0.beneficiaryID = beneficiaryID.lowercasedString
                $0.verificationID = verificationID.lowercasedString
                $0.reasons = reasons
                if let decidedBy { $0.decidedBy = decidedBy.lowercasedString }
            }, keepingEmpty: ["reasons"],
            aggregateType: "beneficiary", aggregateID: beneficiaryID.lowercasedString, occurredAt: now)
    }

    /// A new watch list in force, replacing the last.
    static func watchListReplaced(
        _ listID: UUID, entries: Int, uploadedBy: UUID, at now: Date
    ) throws -> OutboxEvent {
        try OutboxEvent(
            topic: Rahat_Core_V1_WatchListReplaced.topic,
            payload: Rahat_Core_V1_WatchListReplaced.with {
                $0.watchListID = listID.lowercasedString
                $0.entries = Int64(entries)
                $0.uploadedBy = uploadedBy.lowercasedString
            },
            aggregateType: "watch_list", aggregateID: listID.lowercasedString, occurredAt: now)
    }

    /// A group created, updated or deleted.
    static func groupChanged(_ topic: String, _ row: GroupRow, at now: Date) throws -> OutboxEvent {
        let id = row.id?.lowercasedString ?? ""
        return try OutboxEvent(
            topic: topic,
            payload: Rahat_Core_V1_GroupChanged.with {
                $0.groupID = id
                $0.name = row.name
                $0.purpose = row.purpose
            },
            aggregateType: "group", aggregateID: id, occurredAt: now)
    }

    /// Beneficiaries added to or removed from a group.
    static func groupMembersChanged(
        _ topic: String, _ groupID: UUID, _ members: [UUID], at now: Date
    ) throws -> OutboxEvent {
        try OutboxEvent(
            topic: topic,
            payload: Rahat_Core_V1_GroupMembersChanged.with {
                $0.groupID = groupID.lowercasedString
                $0.beneficiaryIds = members.map(\.lowercasedString)
            }, keepingEmpty: ["beneficiaryIds"],
            aggregateType: "group", aggregateID: groupID.lowercasedString, occurredAt: now)
    }

    /// A vendor registered, updated or deactivated. Events name the vendor and its state; payout
    /// details stay in the service.
    static func vendorChanged(_ topic: String, _ row: VendorRow, at now: Date) throws -> OutboxEvent {
        let id = row.id?.lowercasedString ?? ""
        return try OutboxEvent(
            topic: topic,
            payload: Rahat_Core_V1_VendorChanged.with {
                $0.vendorID = id
                $0.userID = row.userID.lowercasedString
                $0.name = row.name
                $0.status = row.status
                $0.payoutType = row.payoutType
            },
            aggregateType: "vendor", aggregateID: id, occurredAt: now)
    }

    /// A vendor assigned to or unassigned from a project.
    static func vendorProjectLinked(
        _ topic: String, vendorID: UUID, projectID: UUID, at now: Date
    ) throws -> OutboxEvent {
        try OutboxEvent(
            topic: topic,
            payload: Rahat_Core_V1_VendorProjectLinked.with {
                $0.vendorID = vendorID.lowercasedString
                $0.projectID = projectID.lowercasedString
            },
            aggregateType: "vendor", aggregateID: vendorID.lowercasedString, occurredAt: now)
    }

    /// A change of a vendor's payout account requested, made or rejected; the account stays in
    /// the service.
    static func vendorPayoutChange(
        _ topic: String, vendorID: UUID, changeID: UUID, at now: Date
    ) throws -> OutboxEvent {
        try OutboxEvent(
            topic: topic,
            payload: Rahat_Core_V1_VendorPayoutChange.with {
                $0.vendorID = vendorID.lowercasedString
                $0.changeID = changeID.lowercasedString
            },
            aggregateType: "vendor", aggregateID: vendorID.lowercasedString, occurredAt: now)
    }

    /// An import completed or failed, with its counts.
    static func importFinished(_ topic: String, _ row: ImportRow, at now: Date) throws -> OutboxEvent {
        let id = row.id?.lowercasedString ?? ""
        let payload = Rahat_Core_V1_ImportFinished.with {
            $0.importID = id
            $0.status = row.status
            $0.rows = Int64(row.rows)
            $0.created = Int64(row.created)
            $0.updated = Int64(row.updated)
            $0.duplicates = Int64(row.duplicates)
            $0.rejected = Int64(row.rejected)
            if let projectID = row.projectID { $0.projectID = projectID.lowercasedString }
            if let groupID = row.groupID { $0.groupID = groupID.lowercasedString }
            if let error = row.error { $0.error = error }
        }
        return try OutboxEvent(
            topic: topic, payload: payload, aggregateType: "import", aggregateID: id, occurredAt: now)
    }
}
