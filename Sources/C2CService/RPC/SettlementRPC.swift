import C2CAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.c2c.v1.SettlementService` over the c2c domain.
struct SettlementRPC: Rahat_C2c_V1_SettlementService.SimpleServiceProtocol {
    let domain: C2CDomain

    func createSettlements(
        request: Rahat_C2c_V1_CreateSettlementsRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_SettlementRun {
        let run = try await domain.createSettlements(
            projectID: request.projectID, vendorIDs: request.vendorIds, by: try await domain.caller())
        return .with {
            $0.id = run.id.lowercasedString
            $0.projectID = run.projectID.lowercasedString
            $0.jobID = run.jobID
            $0.settlements = run.settlements.map(Rahat_C2c_V1_Settlement.init)
            $0.createdAt = Google_Protobuf_Timestamp(date: run.createdAt)
        }
    }

    func getSettlement(
        request: Rahat_C2c_V1_GetSettlementRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Settlement {
        Rahat_C2c_V1_Settlement(try await domain.settlement(request.id, by: try await domain.caller()))
    }

    func listSettlements(
        request: Rahat_C2c_V1_ListSettlementsRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_ListSettlementsResponse {
        let status: SettlementStatus? =
            switch request.hasStatus ? request.status : nil {
            case nil: nil
            case .pending: .pending
            case .processing: .processing
            case .paid: .paid
            case .failed: .failed
            default:
                throw C2CError.invalidInput([FieldViolation(field: "status", reason: "is not a settlement status")])
            }
        let (records, next) = try await domain.settlements(
            projectID: request.hasProjectID ? request.projectID : nil,
            vendorID: request.hasVendorID ? request.vendorID : nil, runID: request.hasRunID ? request.runID : nil,
            status: status, limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil, by: try await domain.caller())
        return .with {
            $0.settlements = records.map(Rahat_C2c_V1_Settlement.init)
            if let next { $0.nextCursor = next }
        }
    }

    func getPayoutFile(
        request: Rahat_C2c_V1_GetPayoutFileRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_PayoutFile {
        let format: PayoutFileRecord.Format =
            switch request.format {
            case .csv: .csv
            case .pain001: .pain001
            default: throw C2CError.invalidInput([FieldViolation(field: "format", reason: "must be csv or pain.001")])
            }
        let file = try await domain.payoutFile(
            settlement: request.settlementID, format: format, by: try await domain.caller())
        return .with {
            $0.filename = file.filename
            $0.contentType = file.contentType
            $0.content = Data(file.content.utf8)
        }
    }

    func confirmSettlement(
        request: Rahat_C2c_V1_ConfirmSettlementRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_Settlement {
        Rahat_C2c_V1_Settlement(
            try await domain.confirmSettlement(
                request.id, paid: request.paid, reference: request.hasPayoutReference ? request.payoutReference : nil,
                reason: request.hasReason ? request.reason : nil, by: try await domain.caller()))
    }

    func setSettlementSchedule(
        request: Rahat_C2c_V1_SetSettlementScheduleRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_SettlementSchedule {
        let cadence =
            switch request.cadence {
            case .daily: "daily"
            case .weekly: "weekly"
            case .monthly: "monthly"
            default: ""
            }
        return Rahat_C2c_V1_SettlementSchedule(
            try await domain.setSettlementSchedule(
                projectID: request.projectID, cadence: cadence, at: request.at,
                weekday: request.hasWeekday ? Int(request.weekday) : nil,
                dayOfMonth: request.hasDayOfMonth ? Int(request.dayOfMonth) : nil,
                timeZone: request.hasTimeZone ? request.timeZone : nil, by: try await domain.caller()))
    }

    func getSettlementSchedule(
        request: Rahat_C2c_V1_SettlementScheduleRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_SettlementSchedule {
        Rahat_C2c_V1_SettlementSchedule(
            try await domain.settlementSchedule(projectID: request.projectID, by: try await domain.caller()))
    }

    func deleteSettlementSchedule(
        request: Rahat_C2c_V1_SettlementScheduleRequest, context: ServerContext
    ) async throws -> Rahat_C2c_V1_DeleteSettlementScheduleResponse {
        try await domain.deleteSettlementSchedule(projectID: request.projectID, by: try await domain.caller())
        return Rahat_C2c_V1_DeleteSettlementScheduleResponse()
    }
}

extension Rahat_C2c_V1_SettlementSchedule {
    init(_ record: SettlementScheduleRecord) {
        self = .with {
            $0.projectID = record.projectID.lowercasedString
            $0.cadence =
                switch record.schedule.cadence {
                case .daily: .daily
                case .weekly: .weekly
                case .monthly: .monthly
                }
            $0.at = record.schedule.at
            if let weekday = record.schedule.weekday { $0.weekday = Int32(weekday) }
            if let day = record.schedule.dayOfMonth { $0.dayOfMonth = Int32(day) }
            $0.timeZone = record.schedule.timeZone.identifier
            $0.nextRunAt = Google_Protobuf_Timestamp(date: record.nextRunAt)
            if let at = record.lastRunAt { $0.lastRunAt = Google_Protobuf_Timestamp(date: at) }
            if let run = record.lastRunID { $0.lastRunID = run.lowercasedString }
            $0.createdBy = record.createdBy.lowercasedString
            $0.createdAt = Google_Protobuf_Timestamp(date: record.createdAt)
            $0.updatedBy = record.updatedBy.lowercasedString
            $0.updatedAt = Google_Protobuf_Timestamp(date: record.updatedAt)
        }
    }
}

extension Rahat_C2c_V1_Settlement {
    init(_ record: SettlementRecord) {
        self = .with {
            $0.id = record.id.lowercasedString
            $0.runID = record.runID.lowercasedString
            $0.projectID = record.projectID.lowercasedString
            $0.vendorID = record.vendorID.lowercasedString
            $0.vendorName = record.vendorName
            $0.amount = record.amount
            $0.asset = record.asset
            $0.redemptionCount = record.redemptionCount
            $0.periodStart = Google_Protobuf_Timestamp(date: record.periodStart)
            $0.periodEnd = Google_Protobuf_Timestamp(date: record.periodEnd)
            $0.status =
                switch record.status {
                case .pending: .pending
                case .processing: .processing
                case .paid: .paid
                case .failed: .failed
                }
            if let reference = record.payoutReference { $0.payoutReference = reference }
            if let reason = record.failureReason { $0.failureReason = reason }
            $0.endToEndID = record.endToEndID
            $0.createdBy = record.createdBy.lowercasedString
            $0.createdAt = Google_Protobuf_Timestamp(date: record.createdAt)
            $0.updatedAt = Google_Protobuf_Timestamp(date: record.updatedAt)
            if let at = record.completedAt { $0.completedAt = Google_Protobuf_Timestamp(date: at) }
        }
    }
}
