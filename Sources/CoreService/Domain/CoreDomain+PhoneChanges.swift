import Foundation
import Logging
import Notifications
import SharedModels

/// A beneficiary's phone as it stood before a change: its blind index and the sealed number.
struct PhoneOnRecord: Sendable {
    var index: String?
    var sealed: String?

    init(_ row: BeneficiaryRow) {
        index = row.phoneIndex
        sealed = row.phoneSealed
    }
}

/// A number a beneficiary's registration moved away from, to be told so.
struct PhoneChangeNotice: Sendable {
    var beneficiaryID: UUID
    /// E.164.
    var oldPhone: String
}

extension CoreDomain {
    /// Dates a change of phone on an existing record, which starts redemption's cooling-off (a
    /// changed phone also reopens verification, `verificationSnapshot`). Returns the old number
    /// to tell, when there was one: whoever held it learns that codes will no longer reach them.
    func markPhoneChange(of row: BeneficiaryRow, before: PhoneOnRecord, at now: Date) throws -> PhoneChangeNotice? {
        guard row.phoneIndex != before.index else { return nil }
        row.phoneChangedAt = now
        guard let sealed = before.sealed, let id = row.id else { return nil }
        let old = try vault.open(sealed, context: "beneficiary:\(id.lowercasedString):phone")
        return PhoneChangeNotice(beneficiaryID: id, oldPhone: old)
    }

    /// Tells each old number that the registration it belonged to now has another, once the
    /// change has committed. A message that cannot be sent is logged; the change stands, and
    /// redemption still waits out the cooling-off period.
    func tellOldNumbers(_ notices: [PhoneChangeNotice], at now: Date) async {
        guard !notices.isEmpty else { return }
        guard let sms else {
            logger.warning(
                "old phone numbers not told of a change: no SMS sender", metadata: ["count": "\(notices.count)"])
            return
        }
        let day = now.formatted(.iso8601.year().month().day())
        for notice in notices {
            let body =
                "Rahat: the phone number of your aid registration was changed on \(day). If you did not ask for this, contact your aid agency now."
            do {
                try await sms.send(SmsMessage(to: notice.oldPhone, body: body))
            } catch {
                logger.error(
                    "could not tell a beneficiary's old number of its change",
                    metadata: ["beneficiary_id": "\(notice.beneficiaryID.lowercasedString)", "error": "\(error)"])
            }
        }
    }
}
