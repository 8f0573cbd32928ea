import C2CAPI
import Foundation
import Messaging
import Persistence
import SharedModels
import SwiftProtobuf

/// The events project-c2c publishes (`Protos/rahat/c2c/v1/events.proto`), built from its
/// records. Each goes into the outbox in the transaction that made it true.
enum C2CEvents {
    /// One paid batch of a disbursement: core counts what each beneficiary received from it.
    static func fundDisbursed(
        _ record: DisbursementRecord, payments: [(number: Int64, beneficiary: UUID, amount: Int64)], amount: Int64,
        at now: Date
    ) throws -> OutboxEvent {
        let payload = Rahat_C2c_V1_FundDisbursed.with {
            $0.disbursementID = record.id.lowercasedString
            $0.projectID = record.projectID.lowercasedString
            $0.asset = record.asset
            $0.amount = amount
            $0.payments = payments.map { line in
                .with {
                    $0.line = line.number
                    $0.beneficiaryID = line.beneficiary.lowercasedString
                    $0.amount = line.amount
                }
            }
        }
        return try OutboxEvent(
            topic: Rahat_C2c_V1_FundDisbursed.topic, payload: payload, keepingEmpty: ["payments"],
            aggregateType: "disbursement", aggregateID: record.id.lowercasedString, occurredAt: now)
    }

    /// No line of the disbursement is left pending: once per execution round (the first, then
    /// each retry), with the totals so far.
    static func disbursementCompleted(
        _ record: DisbursementRecord, status: String, linesCompleted: Int64, linesFailed: Int64,
        amountCompleted: Int64, at now: Date
    ) throws -> OutboxEvent {
        try OutboxEvent(
            topic: Rahat_C2c_V1_DisbursementCompleted.topic,
            payload: Rahat_C2c_V1_DisbursementCompleted.with {
                $0.disbursementID = record.id.lowercasedString
                $0.projectID = record.projectID.lowercasedString
                $0.status = status
                $0.round = Int64(record.round)
                $0.linesCompleted = linesCompleted
                $0.linesFailed = linesFailed
                $0.amountCompleted = amountCompleted
                $0.asset = record.asset
            }, aggregateType: "disbursement", aggregateID: record.id.lowercasedString, occurredAt: now)
    }

    /// The bank answered a vendor's settlement: paid, or failed.
    static func settlementCompleted(
        _ record: SettlementRecord, status: SettlementStatus, at now: Date
    ) throws -> OutboxEvent {
        try OutboxEvent(
            topic: Rahat_C2c_V1_SettlementCompleted.topic,
            payload: Rahat_C2c_V1_SettlementCompleted.with {
                $0.settlementID = record.id.lowercasedString
                $0.runID = record.runID.lowercasedString
                $0.projectID = record.projectID.lowercasedString
                $0.vendorID = record.vendorID.lowercasedString
                $0.status = status.rawValue
                $0.amount = record.amount
                $0.asset = record.asset
                $0.redemptions = record.redemptionCount
            }, aggregateType: "settlement", aggregateID: record.id.lowercasedString, occurredAt: now)
    }
}
