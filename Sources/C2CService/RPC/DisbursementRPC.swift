import C2CAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.c2c.v1.DisbursementService` over the c2c domain.
struct DisbursementRPC: Rahat_C2c_V1_DisbursementService.SimpleServiceProtocol {
    let domain: C2CDomain

    func planDisbursement(
        request: Rahat_C2c_V1_CreateDisbursementRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_DisbursementPlan {
        let plan = try await domain.plan(DisbursementInput(request), by: try await domain.caller())
        return .with {
            $0.projectID = plan.projectID.lowercasedString
            $0.asset = plan.asset
            $0.lineCount = Int64(plan.lines.count)
            $0.total = plan.total
            $0.excludedCounts = Dictionary(
                uniqueKeysWithValues: plan.excludedCounts.map { ($0.key.rawValue, $0.value) })
            $0.excluded = plan.excluded.map { exclusion in
                .with {
                    $0.beneficiaryID = exclusion.beneficiaryID.lowercasedString
                    $0.reason = Rahat_C2c_V1_ExclusionReason(exclusion.reason)
                    if let status = exclusion.verificationStatus { $0.verificationStatus = status }
                }
            }
            $0.fundBalance = plan.fundBalance
            $0.fundSufficient = plan.fundSufficient
        }
    }

    func createDisbursement(
        request: Rahat_C2c_V1_CreateDisbursementRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Disbursement {
        Rahat_C2c_V1_Disbursement(
            try await domain.createDisbursement(DisbursementInput(request), by: try await domain.caller()))
    }

    func getDisbursement(
        request: Rahat_C2c_V1_GetDisbursementRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Disbursement {
        Rahat_C2c_V1_Disbursement(try await domain.disbursement(request.id, by: try await domain.caller()))
    }

    func listDisbursements(
        request: Rahat_C2c_V1_ListDisbursementsRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_ListDisbursementsResponse {
        let (records, next) = try await domain.disbursements(
            projectID: request.hasProjectID ? request.projectID : nil,
            status: request.hasStatus ? try DisbursementStatus(request.status) : nil,
            limit: request.limit == 0 ? 50 : Int(request.limit), cursor: request.hasCursor ? request.cursor : nil,
            by: try await domain.caller())
        return .with {
            $0.disbursements = records.map(Rahat_C2c_V1_Disbursement.init)
            if let next { $0.nextCursor = next }
        }
    }

    func listDisbursementLines(
        request: Rahat_C2c_V1_ListDisbursementLinesRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_ListDisbursementLinesResponse {
        let status: LineStatus? =
            switch request.hasStatus ? request.status : nil {
            case nil: nil
            case .pending: .pending
            case .completed: .completed
            case .failed: .failed
            default: throw C2CError.invalidInput([FieldViolation(field: "status", reason: "is not a line status")])
            }
        let (lines, next) = try await domain.lines(
            of: request.disbursementID, status: status, limit: request.limit == 0 ? 100 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil, by: try await domain.caller())
        return .with {
            $0.lines = lines.map { line in
                .with {
                    $0.lineNumber = line.lineNumber
                    $0.beneficiaryID = line.beneficiaryID.lowercasedString
                    $0.amount = line.amount
                    $0.status =
                        switch line.status {
                        case .pending: .pending
                        case .completed: .completed
                        case .failed: .failed
                        }
                    if let transfer = line.transferID { $0.transferID = transfer.lowercasedString }
                    $0.attempts = Int32(line.attempts)
                    if let error = line.lastError { $0.lastError = error }
                }
            }
            if let next { $0.nextCursor = next }
        }
    }

    func submitDisbursement(
        request: Rahat_C2c_V1_DisbursementActionRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Disbursement {
        Rahat_C2c_V1_Disbursement(try await domain.submit(request.id, by: try await domain.caller()))
    }

    func approveDisbursement(
        request: Rahat_C2c_V1_DecideDisbursementRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Disbursement {
        Rahat_C2c_V1_Disbursement(
            try await domain.decide(
                request.id, approve: true, note: request.hasNote ? request.note : nil, by: try await domain.caller()))
    }

    func rejectDisbursement(
        request: Rahat_C2c_V1_DecideDisbursementRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Disbursement {
        Rahat_C2c_V1_Disbursement(
            try await domain.decide(
                request.id, approve: false, note: request.hasNote ? request.note : nil, by: try await domain.caller()))
    }

    func cancelDisbursement(
        request: Rahat_C2c_V1_DisbursementActionRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Disbursement {
        Rahat_C2c_V1_Disbursement(try await domain.cancel(request.id, by: try await domain.caller()))
    }

    func retryDisbursementLines(
        request: Rahat_C2c_V1_RetryDisbursementLinesRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Disbursement {
        Rahat_C2c_V1_Disbursement(
            try await domain.retry(request.id, lineNumbers: request.lineNumbers, by: try await domain.caller()))
    }
}

extension DisbursementInput {
    init(_ request: Rahat_C2c_V1_CreateDisbursementRequest) {
        self.init(
            projectID: request.projectID, name: request.name,
            amountPerBeneficiary: request.hasAmountPerBeneficiary ? request.amountPerBeneficiary : nil,
            lines: request.lines.map { ($0.beneficiaryID, $0.amount) },
            groupID: request.hasGroupID ? request.groupID : nil,
            filter: request.hasFilter ? RecipientFilter(request.filter) : nil,
            reference: request.hasReference ? request.reference : nil)
    }
}

extension RecipientFilter {
    init(_ message: Rahat_C2c_V1_RecipientFilter) {
        self.init(
            gender: message.hasGender ? message.gender : nil,
            bankedStatus: message.hasBankedStatus ? message.bankedStatus : nil,
            internetStatus: message.hasInternetStatus ? message.internetStatus : nil,
            phoneStatus: message.hasPhoneStatus ? message.phoneStatus : nil,
            createdFrom: message.hasCreatedFrom ? message.createdFrom.date : nil,
            createdTo: message.hasCreatedTo ? message.createdTo.date : nil)
    }
}

extension DisbursementStatus {
    init(_ status: Rahat_C2c_V1_DisbursementStatus) throws {
        switch status {
        case .draft: self = .draft
        case .pendingApproval: self = .pendingApproval
        case .approved: self = .approved
        case .processing: self = .processing
        case .completed: self = .completed
        case .partiallyFailed: self = .partiallyFailed
        case .rejected: self = .rejected
        case .cancelled: self = .cancelled
        default: throw C2CError.invalidInput([FieldViolation(field: "status", reason: "is not a disbursement status")])
        }
    }
}

extension Rahat_C2c_V1_DisbursementStatus {
    init(_ status: DisbursementStatus) {
        self =
            switch status {
            case .draft: .draft
            case .pendingApproval: .pendingApproval
            case .approved: .approved
            case .processing: .processing
            case .completed: .completed
            case .partiallyFailed: .partiallyFailed
            case .rejected: .rejected
            case .cancelled: .cancelled
            }
    }
}

extension Rahat_C2c_V1_ExclusionReason {
    init(_ reason: ExclusionReason) {
        self =
            switch reason {
            case .unverified: .unverified
            case .archived: .archived
            case .notEnrolled: .notEnrolled
            }
    }
}

extension Rahat_C2c_V1_Disbursement {
    init(_ record: DisbursementRecord) {
        self = .with {
            $0.id = record.id.lowercasedString
            $0.projectID = record.projectID.lowercasedString
            $0.name = record.name
            $0.status = Rahat_C2c_V1_DisbursementStatus(record.status)
            $0.asset = record.asset
            $0.total = record.total
            $0.lineCount = record.lineCount
            $0.requiredApprovals = Int32(record.requiredApprovals)
            $0.approverIds = record.approverIDs.map(\.lowercasedString)
            $0.approvals = record.approvals.map { approval in
                .with {
                    $0.userID = approval.userID.lowercasedString
                    $0.approved = approval.approved
                    if let note = approval.note { $0.note = note }
                    $0.decidedAt = Google_Protobuf_Timestamp(date: approval.decidedAt)
                }
            }
            $0.createdBy = record.createdBy.lowercasedString
            $0.createdAt = Google_Protobuf_Timestamp(date: record.createdAt)
            $0.updatedAt = Google_Protobuf_Timestamp(date: record.updatedAt)
            if let date = record.submittedAt { $0.submittedAt = Google_Protobuf_Timestamp(date: date) }
            if let date = record.approvedAt { $0.approvedAt = Google_Protobuf_Timestamp(date: date) }
            if let date = record.completedAt { $0.completedAt = Google_Protobuf_Timestamp(date: date) }
            $0.linesCompleted = record.linesCompleted
            $0.linesFailed = record.linesFailed
            $0.amountCompleted = record.amountCompleted
            $0.jobIds = record.jobIDs
            if let amount = record.amountPerBeneficiary { $0.amountPerBeneficiary = amount }
            if let group = record.groupID { $0.groupID = group.lowercasedString }
            if let reference = record.reference { $0.reference = reference }
            $0.replayed = record.replayed
        }
    }
}
