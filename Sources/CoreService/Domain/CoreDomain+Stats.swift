import FluentKit
import Foundation
import Persistence
import ServerKit
import SharedModels

/// A project's beneficiaries and vendors, counted.
struct ProjectStatsInfo: Sendable, Equatable {
    var beneficiaries: Int
    var byVerificationStatus: [String: Int]
    var byGender: [String: Int]
    var byPhoneStatus: [String: Int]
    var vendorsActive: Int
    var vendorsInactive: Int
    /// Counted from project-c2c's disbursement events.
    var receivedTotal: Int64 = 0
    var beneficiariesReceived = 0
}

extension CoreDomain {
    /// A project's counts: its live enrolled beneficiaries summed from the delta rows the database
    /// keeps as they change (see ``StatsStore/beneficiaryBuckets(of:on:)``), so the cost does not
    /// follow the project's size; its vendors and receipts counted.
    func projectStats(_ id: String, by caller: Principal) async throws -> ProjectStatsInfo {
        let projectID = try parseID(id, field: "projectId")
        try caller.require(Permission(.project, .read, projectID: projectID.lowercasedString))
        // Counts tolerate the read replica's bounded lag.
        return try await database.replicaRead { db in
            guard try await ProjectStore.find(projectID, on: db) != nil else { throw CoreError.projectNotFound }
            let sql = try db.sql()
            let buckets = try await StatsStore.beneficiaryBuckets(of: projectID, on: sql)
            var stats = ProjectStatsInfo(
                beneficiaries: 0,
                byVerificationStatus: Dictionary(
                    uniqueKeysWithValues: BeneficiaryVocabulary.verification.map { ($0, 0) }),
                byGender: Dictionary(uniqueKeysWithValues: BeneficiaryVocabulary.gender.map { ($0, 0) }),
                byPhoneStatus: Dictionary(uniqueKeysWithValues: BeneficiaryVocabulary.phone.map { ($0, 0) }),
                vendorsActive: 0,
                vendorsInactive: 0
            )
            for bucket in buckets {
                stats.beneficiaries += bucket.total
                stats.byVerificationStatus[bucket.verification_status, default: 0] += bucket.total
                stats.byGender[bucket.gender, default: 0] += bucket.total
                stats.byPhoneStatus[bucket.phone_status, default: 0] += bucket.total
            }

            let vendors = try await StatsStore.vendorBuckets(of: projectID, on: sql)
            for bucket in vendors {
                if bucket.status == VendorStatus.active.rawValue {
                    stats.vendorsActive += bucket.total
                } else {
                    stats.vendorsInactive += bucket.total
                }
            }
            let receipts = try await StatsStore.receipts(of: projectID, on: sql)
            stats.receivedTotal = receipts.total
            stats.beneficiariesReceived = receipts.people
            return stats
        }
    }
}

extension CoreDomain {
    /// Folds the count deltas of projects holding more than `rows` of them (see
    /// ``StatsStore/fold(_:on:)``); answers how many projects it folded.
    @discardableResult
    func foldProjectCounts(over rows: Int = 64) async throws -> Int {
        let projects = try await StatsStore.projectsToFold(over: rows, limit: 100, on: try db.sql())
        for projectID in projects {
            let removed = try await StatsStore.fold(projectID, on: db)
            logger.debug(
                "folded project counts", metadata: ["project": "\(projectID.lowercasedString)", "rows": "\(removed)"])
        }
        return projects.count
    }
}
