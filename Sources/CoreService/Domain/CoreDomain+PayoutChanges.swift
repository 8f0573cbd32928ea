import CoreAPI
import FluentKit
import Foundation
import Messaging
import Notifications
import Persistence
import ServerKit
import SharedModels
import SwiftProtobuf

/// A change of a vendor's payout account that waits for a second person.
struct PayoutChange: Sendable, Equatable {
    var id: UUID
    var account: PayoutAccount
    var requestedBy: UUID
    var requestedAt: Date
}

/// How a payout change ended.
enum PayoutChangeStatus: String, Sendable {
    case pending, approved, rejected, superseded
}

extension CoreDomain {
    // MARK: Requesting

    /// Records `account` as the vendor's pending payout account, superseding one already pending,
    /// in the caller's transaction. Where settlements are paid is where money leaves the agency:
    /// it changes only when someone other than the requester approves (``decidePayoutChange``).
    func requestPayoutChange(
        _ account: PayoutAccount, vendorID: UUID, by caller: Principal, at now: Date, on tx: any Database
    ) async throws {
        let sql = try tx.sql()
        try await PayoutChangeStore.supersedePending(of: vendorID, at: now, on: sql)
        let id = UUID.v7(at: now)
        try await PayoutChangeStore.insertPending(
            id, vendorID: vendorID, account: account, requestedBy: caller.userID, at: now, on: sql)
        try await Outbox.append(
            CoreEvents.vendorPayoutChange(
                Rahat_Core_V1_VendorPayoutChange.requested, vendorID: vendorID, changeID: id, at: now),
            on: tx)
        logger.notice(
            "vendor payout account change requested; it waits for a second person's approval",
            metadata: [
                "vendor_id": "\(vendorID.lowercasedString)", "change_id": "\(id.lowercasedString)",
                "requested_by": "\(caller.userID.lowercasedString)",
            ])
    }

    /// The vendor's pending payout change, if any.
    func pendingPayoutChange(of vendorID: UUID, on db: any Database) async throws -> PayoutChange? {
        try await PayoutChangeStore.pending(of: vendorID, on: try db.sql())
    }

    // MARK: Deciding

    /// Approves or rejects the vendor's pending payout change. Needs `vendor:approve`, a person's
    /// password session, and someone other than the requester. An approved account replaces the
    /// vendor's at once (settlements already started keep the account they were started with)
    /// and the vendor is told by text message.
    func decidePayoutChange(
        vendorID text: String, approve: Bool, note rawNote: String?, by caller: Principal
    ) async throws -> VendorInfo {
        let vendorID = try parseID(text)
        let note = rawNote?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let note, note.count > 1_000 {
            throw CoreError.invalidInput([FieldViolation(field: "note", reason: "must be at most 1000 characters")])
        }
        try caller.require(Permission(.vendor, .approve))
        guard caller.method == .password else {
            throw CoreError.permissionDenied(
                "Approving a payout account needs a person signed in with a password, not an API key.")
        }
        let now = self.now()
        let status: PayoutChangeStatus = approve ? .approved : .rejected
        let row = try await database.transaction { tx -> VendorRow in
            let vendor = try await findVendor(vendorID, on: tx)
            // Claimed in one statement: of two deciders at once, one wins, and the requester never.
            let claimed = try await PayoutChangeStore.decidePending(
                of: vendorID, as: status, by: caller.userID, note: note, at: now, on: try tx.sql())
            guard let claimed else {
                if let pending = try await pendingPayoutChange(of: vendorID, on: tx),
                    pending.requestedBy == caller.userID
                {
                    throw CoreError.ownPayoutChange
                }
                throw CoreError.payoutChangeNotFound
            }
            let changeID = claimed.id
            if approve {
                Self.write(try claimed.account(), to: vendor)
                vendor.updatedAt = now
                try await VendorStore.save(vendor, on: tx)
            }
            try await Outbox.append(
                CoreEvents.vendorPayoutChange(
                    approve ? Rahat_Core_V1_VendorPayoutChange.changed : Rahat_Core_V1_VendorPayoutChange.rejected,
                    vendorID: vendorID, changeID: changeID, at: now),
                on: tx)
            return vendor
        }
        logger.notice(
            approve ? "vendor payout account changed" : "vendor payout account change rejected",
            metadata: ["vendor_id": "\(vendorID.lowercasedString)", "decided_by": "\(caller.userID.lowercasedString)"])
        let info = try await vendorInfo(row)
        if approve { await tellVendor(info, at: now) }
        return info
    }

    /// Tells the vendor its payout account changed, on the phone it registered, so a change it
    /// did not ask for is noticed before money goes there. A message that cannot be sent is
    /// logged; the change stands.
    private func tellVendor(_ vendor: VendorInfo, at now: Date) async {
        guard let sms, let phone = vendor.phone else {
            logger.warning(
                "vendor not told of its payout account change: no phone or no SMS sender",
                metadata: ["vendor_id": "\(vendor.id.lowercasedString)"])
            return
        }
        let ending = String(vendor.payoutAccount.number.suffix(4))
        let body =
            "Rahat: the payout account of \(vendor.name.prefix(40)) was changed to one ending \(ending) on \(now.formatted(.iso8601.year().month().day())). If you did not ask for this, call your agency now."
        do {
            try await sms.send(SmsMessage(to: phone, body: body))
        } catch {
            logger.error(
                "could not tell the vendor of its payout account change",
                metadata: ["vendor_id": "\(vendor.id.lowercasedString)", "error": "\(error)"])
        }
    }
}

extension PayoutAccount {
    /// The account or mobile number money is sent to.
    var number: String {
        switch self {
        case .bank(_, _, let accountNumber, _, _): accountNumber
        case .mobileMoney(_, let number): number
        }
    }
}
