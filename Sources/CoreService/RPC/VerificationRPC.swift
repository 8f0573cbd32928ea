import CoreAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.core.v1.VerificationService` over the core domain.
struct VerificationRPC: Rahat_Core_V1_VerificationService.SimpleServiceProtocol {
    let domain: CoreDomain

    func listVerifications(
        request: Rahat_Core_V1_ListVerificationsRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_ListVerificationsResponse {
        let (runs, next) = try await domain.listVerifications(
            status: request.hasStatus ? request.status : nil,
            beneficiaryID: request.hasBeneficiaryID ? request.beneficiaryID : nil,
            projectID: request.hasProjectID ? request.projectID : nil,
            limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil,
            by: try await domain.caller())
        return .with {
            $0.verifications = runs.map(Rahat_Core_V1_Verification.init)
            if let next { $0.nextCursor = next }
        }
    }

    func getVerification(
        request: Rahat_Core_V1_GetVerificationRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Verification {
        Rahat_Core_V1_Verification(try await domain.getVerification(request.id, by: try await domain.caller()))
    }

    func decideVerification(
        request: Rahat_Core_V1_DecideVerificationRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Verification {
        Rahat_Core_V1_Verification(
            try await domain.decideVerification(
                beneficiaryID: request.beneficiaryID, decision: request.decision, note: request.note,
                by: try await domain.caller()))
    }

    func uploadWatchList(
        request: Rahat_Core_V1_UploadWatchListRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_WatchList {
        Rahat_Core_V1_WatchList(
            try await domain.uploadWatchList(
                csv: request.csv, fileName: request.hasFileName ? request.fileName : nil,
                defaultCountry: request.hasDefaultCountry ? request.defaultCountry : nil,
                by: try await domain.caller()))
    }

    func getWatchList(
        request: Rahat_Core_V1_GetWatchListRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_WatchList {
        Rahat_Core_V1_WatchList(try await domain.getWatchList(by: try await domain.caller()))
    }
}

extension Rahat_Core_V1_Verification {
    init(_ info: VerificationInfo) {
        self = .with {
            $0.id = info.id.lowercasedString
            $0.beneficiaryID = info.beneficiaryID.lowercasedString
            $0.status = info.status
            $0.checks = info.checks.map { check in
                .with {
                    $0.rule = check.rule
                    $0.result = check.result.rawValue
                    if let detail = check.detail { $0.detail = detail }
                }
            }
            $0.reasons = info.reasons
            $0.requestedAt = Google_Protobuf_Timestamp(date: info.requestedAt)
            if let checked = info.checkedAt { $0.checkedAt = Google_Protobuf_Timestamp(date: checked) }
            $0.jobID = info.jobID
            if let reviewer = info.reviewerID { $0.reviewerID = reviewer.lowercasedString }
            if let decision = info.decision { $0.decision = decision }
            if let note = info.note { $0.note = note }
            if let decided = info.decidedAt { $0.decidedAt = Google_Protobuf_Timestamp(date: decided) }
        }
    }
}

extension Rahat_Core_V1_WatchList {
    init(_ info: WatchListInfo) {
        self = .with {
            if let id = info.id { $0.id = id.lowercasedString }
            $0.entries = Int64(info.entries)
            if let name = info.fileName { $0.fileName = name }
            if let by = info.uploadedBy { $0.uploadedBy = by.lowercasedString }
            if let at = info.uploadedAt { $0.uploadedAt = Google_Protobuf_Timestamp(date: at) }
            $0.rejected = info.rejected.map { row in
                .with {
                    $0.line = Int64(row.line)
                    $0.reason = row.reason
                }
            }
        }
    }
}
