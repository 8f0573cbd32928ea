import C2CAPI
import FluentKit
import Foundation
import Messaging
import Persistence
import ServerKit
import SharedModels

extension CoreDomain {
    /// The name core records its processed events under.
    static let eventConsumer = "core"

    /// The events core subscribes to.
    var eventHandlers: [EventHandler] {
        [EventHandler(topics: [Rahat_C2c_V1_FundDisbursed.topic]) { event in try await self.recordReceipts(event) }]
    }

    /// Adds a paid batch's amounts to its beneficiaries' receipts, once per event: a
    /// redelivered event finds its record in `processed_events` and changes nothing.
    func recordReceipts(_ event: ReceivedEvent) async throws {
        let batch = try event.payload(as: Rahat_C2c_V1_FundDisbursed.self)
        guard let project = UUID.parse(batch.projectID) else {
            throw EventDecodingError(reason: "\(event.type) \(event.id): project id '\(batch.projectID)'")
        }
        let payments = try batch.payments.map { payment in
            guard let beneficiary = UUID.parse(payment.beneficiaryID) else {
                throw EventDecodingError(
                    reason: "\(event.type) \(event.id): beneficiary id '\(payment.beneficiaryID)'")
            }
            return (beneficiary: beneficiary, amount: payment.amount)
        }
        let at = event.occurredAt
        try await ProcessedEvents.once(event.id, consumer: Self.eventConsumer, on: database) { tx in
            // One beneficiary may be paid twice in a batch only by two disbursements, never by
            // one; summed first all the same, as one statement may not upsert a row twice.
            var sums: [UUID: (amount: Int64, count: Int)] = [:]
            for payment in payments {
                sums[payment.beneficiary, default: (0, 0)].amount += payment.amount
                sums[payment.beneficiary, default: (0, 0)].count += 1
            }
            try await ReceiptStore.add(sums, in: project, at: at, on: try tx.sql())
        }
    }
}
