import C2CAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.c2c.v1.ProjectFundsService` over the c2c domain.
struct ProjectFundsRPC: Rahat_C2c_V1_ProjectFundsService.SimpleServiceProtocol {
    let domain: C2CDomain

    func setApprovers(
        request: Rahat_C2c_V1_SetApproversRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Approvers {
        Rahat_C2c_V1_Approvers(
            try await domain.setApprovers(
                projectID: request.projectID, userIDs: request.userIds, required: Int(request.required),
                by: try await domain.caller()))
    }

    func getApprovers(
        request: Rahat_C2c_V1_GetApproversRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Approvers {
        Rahat_C2c_V1_Approvers(try await domain.approvers(projectID: request.projectID, by: try await domain.caller()))
    }

    func recordFunding(
        request: Rahat_C2c_V1_RecordFundingRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Funding {
        Rahat_C2c_V1_Funding(
            try await domain.recordFunding(
                projectID: request.projectID, amount: request.amount, reference: request.reference,
                note: request.hasNote ? request.note : nil, by: try await domain.caller()))
    }

    func listFundings(
        request: Rahat_C2c_V1_ListFundingsRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_ListFundingsResponse {
        let (fundings, next) = try await domain.fundings(
            projectID: request.projectID, limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil, by: try await domain.caller())
        return .with {
            $0.fundings = fundings.map(Rahat_C2c_V1_Funding.init)
            if let next { $0.nextCursor = next }
        }
    }
}

extension Rahat_C2c_V1_Approvers {
    init(_ set: ApproverSet) {
        self = .with {
            $0.projectID = set.projectID.lowercasedString
            $0.userIds = set.userIDs.map(\.lowercasedString)
            $0.required = Int32(set.required)
            if let updatedAt = set.updatedAt { $0.updatedAt = Google_Protobuf_Timestamp(date: updatedAt) }
            if let updatedBy = set.updatedBy { $0.updatedBy = updatedBy.lowercasedString }
        }
    }
}

extension Rahat_C2c_V1_Funding {
    init(_ record: FundingRecord) {
        self = .with {
            $0.id = record.id.lowercasedString
            $0.projectID = record.projectID.lowercasedString
            $0.amount = record.amount
            $0.asset = record.asset
            $0.reference = record.reference
            if let note = record.note { $0.note = note }
            $0.transferID = record.transferID.lowercasedString
            $0.createdBy = record.createdBy.lowercasedString
            $0.createdAt = Google_Protobuf_Timestamp(date: record.createdAt)
            $0.replayed = record.replayed
        }
    }
}
