import C2CAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.c2c.v1.RedemptionService` over the c2c domain.
struct RedemptionRPC: Rahat_C2c_V1_RedemptionService.SimpleServiceProtocol {
    let domain: C2CDomain

    func requestRedemption(
        request: Rahat_C2c_V1_RequestRedemptionRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Redemption {
        let record = try await domain.requestRedemption(
            RedemptionInput(
                vendorID: request.vendorID, beneficiaryID: request.hasBeneficiaryID ? request.beneficiaryID : nil,
                phone: request.hasPhone ? request.phone : nil, amount: request.amount,
                projectID: request.hasProjectID ? request.projectID : nil,
                defaultCountry: request.hasDefaultCountry ? request.defaultCountry : nil),
            by: try await domain.caller())
        return Rahat_C2c_V1_Redemption(record, now: domain.now())
    }

    func confirmRedemption(
        request: Rahat_C2c_V1_ConfirmRedemptionRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Redemption {
        let record = try await domain.confirmRedemption(request.id, code: request.code, by: try await domain.caller())
        return Rahat_C2c_V1_Redemption(record, now: domain.now())
    }

    func getRedemption(
        request: Rahat_C2c_V1_GetRedemptionRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Redemption {
        Rahat_C2c_V1_Redemption(
            try await domain.redemption(request.id, by: try await domain.caller()), now: domain.now())
    }

    func listRedemptions(
        request: Rahat_C2c_V1_ListRedemptionsRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_ListRedemptionsResponse {
        let status: RedemptionStatus? =
            switch request.hasStatus ? request.status : nil {
            case nil: nil
            case .requested: .requested
            case .confirmed: .confirmed
            case .expired: .expired
            case .failed: .failed
            default:
                throw C2CError.invalidInput([FieldViolation(field: "status", reason: "is not a redemption status")])
            }
        let (records, next) = try await domain.redemptions(
            projectID: request.hasProjectID ? request.projectID : nil,
            vendorID: request.hasVendorID ? request.vendorID : nil,
            beneficiaryID: request.hasBeneficiaryID ? request.beneficiaryID : nil, status: status,
            limit: request.limit == 0 ? 50 : Int(request.limit), cursor: request.hasCursor ? request.cursor : nil,
            by: try await domain.caller())
        let now = domain.now()
        return .with {
            $0.redemptions = records.map { Rahat_C2c_V1_Redemption($0, now: now) }
            if let next { $0.nextCursor = next }
        }
    }
}

extension Rahat_C2c_V1_Redemption {
    init(_ record: RedemptionRecord, now: Date) {
        self = .with {
            $0.id = record.id.lowercasedString
            $0.projectID = record.projectID.lowercasedString
            $0.vendorID = record.vendorID.lowercasedString
            $0.beneficiaryID = record.beneficiaryID.lowercasedString
            $0.amount = record.amount
            $0.asset = record.asset
            $0.status =
                switch record.effectiveStatus(at: now) {
                case .requested: .requested
                case .confirmed: .confirmed
                case .expired: .expired
                case .failed: .failed
                }
            $0.phoneHint = record.phoneHint
            $0.expiresAt = Google_Protobuf_Timestamp(date: record.expiresAt)
            $0.attemptsRemaining = Int32(record.attemptsRemaining)
            if let id = record.transferID { $0.transferID = id.lowercasedString }
            if let reason = record.failureReason { $0.failureReason = reason }
            if let id = record.settlementID { $0.settlementID = id.lowercasedString }
            $0.requestedBy = record.requestedBy.lowercasedString
            $0.createdAt = Google_Protobuf_Timestamp(date: record.createdAt)
            if let at = record.confirmedAt { $0.confirmedAt = Google_Protobuf_Timestamp(date: at) }
            $0.replayed = record.replayed
        }
    }
}
