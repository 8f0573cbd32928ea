import Foundation
package import ServerKit
import SharedModels

/// Where a vendor is paid, as a settlement run found it (core's vendor payout account).
struct PayoutAccount: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable {
        case bank
        case mobileMoney = "mobile_money"
    }

    var kind: Kind
    var bankName: String?
    var accountName: String?
    /// Letters and digits, 4–34 (an IBAN or a local account number).
    var accountNumber: String?
    var branch: String?
    var bic: String?
    var provider: String?
    /// E.164.
    var mobileNumber: String?

    /// Whether `accountNumber` is an IBAN (core has checked its digits when it is).
    var iban: String? {
        guard let number = accountNumber, PayoutFiles.looksLikeIBAN(number) else { return nil }
        return number
    }
}

/// The agency's account that pays vendors: the debtor of every pain.001 file.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_PAYOUT_DEBTOR_NAME` | `Rahat` | the paying organisation's name |
/// | `RAHAT_PAYOUT_DEBTOR_ACCOUNT` | `NOTPROVIDED` | its IBAN or local account number |
/// | `RAHAT_PAYOUT_DEBTOR_BIC` | none | its bank's BIC |
package struct PayoutDebtor: Sendable, Equatable {
    package var name: String
    package var account: String
    package var bic: String?

    package init(name: String = "Rahat", account: String = "NOTPROVIDED", bic: String? = nil) {
        self.name = name
        self.account = account
        self.bic = bic
    }
}

/// One vendor's credit transfer in a payout file.
struct PayoutLine: Sendable, Equatable {
    var settlementID: UUID
    var vendorID: UUID
    var vendorName: String
    var account: PayoutAccount
    var amount: Int64
    var redemptionCount: Int64
    var periodStart: Date
    var periodEnd: Date

    /// The settlement id without dashes: 32 characters, within pain.001's 35.
    var endToEndID: String { PayoutFiles.compact(settlementID) }
}

/// The payout files a settlement run gives the agency's bank: a CSV for people and local bank
/// portals, and an ISO 20022 pain.001.001.09 customer credit transfer initiation.
enum PayoutFiles {
    static let painNamespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"

    static func csv(_ lines: [PayoutLine], asset: String, scale: Int) -> String {
        var rows = [
            [
                "end_to_end_id", "settlement_id", "vendor_id", "vendor_name", "payout_type", "bank_name", "bic",
                "branch", "account_name", "account_number", "provider", "mobile_number", "amount", "currency",
                "redemptions", "period_start", "period_end",
            ]
        ]
        for line in lines {
            let account = line.account
            rows.append([
                line.endToEndID, line.settlementID.lowercasedString, line.vendorID.lowercasedString, line.vendorName,
                account.kind.rawValue, account.bankName ?? "", account.bic ?? "", account.branch ?? "",
                account.accountName ?? "", account.accountNumber ?? "", account.provider ?? "",
                account.mobileNumber ?? "", C2CDomain.format(line.amount, scale: scale), asset,
                String(line.redemptionCount), timestamp(line.periodStart), timestamp(line.periodEnd),
            ])
        }
        return rows.map { $0.map(CSVField.escape).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// One group header, one payment information block paying from `debtor`, one credit transfer
    /// per line. Amounts are the asset's major units with `scale` decimals.
    static func pain001(
        runID: UUID, createdAt: Date, debtor: PayoutDebtor, lines: [PayoutLine], asset: String, scale: Int
    ) -> String {
        let total = lines.reduce(Int64(0)) { $0 + $1.amount }
        let sum = C2CDomain.format(total, scale: scale)
        let count = String(lines.count)
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += #"<Document xmlns="\#(painNamespace)"><CstmrCdtTrfInitn>"#
        xml += "<GrpHdr><MsgId>\(compact(runID))</MsgId><CreDtTm>\(timestamp(createdAt))</CreDtTm>"
        xml += "<NbOfTxs>\(count)</NbOfTxs><CtrlSum>\(sum)</CtrlSum>"
        xml += "<InitgPty><Nm>\(text(debtor.name, max: 140))</Nm></InitgPty></GrpHdr>"
        xml += "<PmtInf><PmtInfId>P\(compact(runID))</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>false</BtchBookg>"
        xml += "<NbOfTxs>\(count)</NbOfTxs><CtrlSum>\(sum)</CtrlSum>"
        xml += "<ReqdExctnDt><Dt>\(date(createdAt))</Dt></ReqdExctnDt>"
        xml += "<Dbtr><Nm>\(text(debtor.name, max: 140))</Nm></Dbtr>"
        xml +=
            "<DbtrAcct>\(accountID(iban: looksLikeIBAN(debtor.account) ? debtor.account : nil, other: debtor.account, scheme: nil))</DbtrAcct>"
        xml += "<DbtrAgt>\(agent(bic: debtor.bic, name: nil))</DbtrAgt><ChrgBr>SLEV</ChrgBr>"
        for line in lines {
            let account = line.account
            xml += "<CdtTrfTxInf><PmtId><EndToEndId>\(line.endToEndID)</EndToEndId></PmtId>"
            xml +=
                #"<Amt><InstdAmt Ccy="\#(asset)">\#(C2CDomain.format(line.amount, scale: scale))</InstdAmt></Amt>"#
            switch account.kind {
            case .bank:
                xml += "<CdtrAgt>\(agent(bic: account.bic, name: account.bankName))</CdtrAgt>"
                xml += "<Cdtr><Nm>\(text(account.accountName ?? line.vendorName, max: 140))</Nm></Cdtr>"
                xml +=
                    "<CdtrAcct>\(accountID(iban: account.iban, other: account.accountNumber ?? "", scheme: nil))</CdtrAcct>"
            case .mobileMoney:
                xml += "<CdtrAgt>\(agent(bic: nil, name: account.provider))</CdtrAgt>"
                xml += "<Cdtr><Nm>\(text(line.vendorName, max: 140))</Nm></Cdtr>"
                xml +=
                    "<CdtrAcct>\(accountID(iban: nil, other: account.mobileNumber ?? "", scheme: "MSISDN"))</CdtrAcct>"
            }
            let remittance =
                "Rahat settlement \(line.endToEndID): \(line.redemptionCount) redemption\(line.redemptionCount == 1 ? "" : "s") \(date(line.periodStart)) to \(date(line.periodEnd))"
            xml += "<RmtInf><Ustrd>\(text(remittance, max: 140))</Ustrd></RmtInf></CdtTrfTxInf>"
        }
        xml += "</PmtInf></CstmrCdtTrfInitn></Document>\n"
        return xml
    }

    private static func accountID(iban: String?, other: String, scheme: String?) -> String {
        if let iban { return "<Id><IBAN>\(iban)</IBAN></Id>" }
        let schemeName = scheme.map { "<SchmeNm><Prtry>\($0)</Prtry></SchmeNm>" } ?? ""
        return "<Id><Othr><Id>\(text(other, max: 34))</Id>\(schemeName)</Othr></Id>"
    }

    /// By BIC when known; otherwise by name, or `NOTPROVIDED` as the schemes' convention has it.
    private static func agent(bic: String?, name: String?) -> String {
        if let bic { return "<FinInstnId><BICFI>\(bic)</BICFI></FinInstnId>" }
        if let name, !name.isEmpty { return "<FinInstnId><Nm>\(text(name, max: 140))</Nm></FinInstnId>" }
        return "<FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId>"
    }

    static func looksLikeIBAN(_ text: String) -> Bool {
        let characters = Array(text.utf8)
        guard (15...34).contains(characters.count) else { return false }
        let isUpper = { (c: UInt8) in (65...90).contains(c) }
        let isDigit = { (c: UInt8) in (48...57).contains(c) }
        return isUpper(characters[0]) && isUpper(characters[1]) && isDigit(characters[2]) && isDigit(characters[3])
            && characters.allSatisfy { isUpper($0) || isDigit($0) }
    }

    static func compact(_ id: UUID) -> String { id.lowercasedString.filter { $0 != "-" } }

    /// XML-escaped and cut to the schema's length in code points (as XSD counts them). Control
    /// characters are not allowed in XML 1.0 text: they become spaces.
    private static func text(_ value: String, max: Int) -> String {
        var out = ""
        for scalar in value.unicodeScalars.prefix(max) {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(scalar.properties.generalCategory == .control ? " " : scalar)
            }
        }
        return out
    }

    /// Whether pain.001 can carry amounts of this asset: an ISO 4217 code, at most 5 decimals.
    static func painCarries(asset: String, scale: Int) -> Bool {
        asset.utf8.count == 3 && asset.utf8.allSatisfy { (65...90).contains($0) } && (0...5).contains(scale)
    }

    /// `2026-11-26T09:30:00Z`: UTC, whole seconds.
    private static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// `2026-11-26`, the UTC day.
    private static func date(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }
}

extension PayoutDebtor {
    /// Reads `RAHAT_PAYOUT_DEBTOR_*`, reporting values a bank's file cannot carry.
    package init(from source: inout ConfigurationSource) {
        let name = source.string("RAHAT_PAYOUT_DEBTOR_NAME", default: "Rahat").trimmingCharacters(in: .whitespaces)
        let account = source.string("RAHAT_PAYOUT_DEBTOR_ACCOUNT", default: "NOTPROVIDED")
            .uppercased().filter { !" -".contains($0) }
        let bic = source.raw("RAHAT_PAYOUT_DEBTOR_BIC")?.uppercased()
        if name.isEmpty || name.count > 140 {
            source.report("RAHAT_PAYOUT_DEBTOR_NAME: must be 1 to 140 characters")
        }
        if !(1...34).contains(account.count) || !account.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            source.report("RAHAT_PAYOUT_DEBTOR_ACCOUNT: must be an IBAN or account number of 1 to 34 letters or digits")
        }
        if let bic, !PayoutFiles.isBIC(bic) {
            source.report("RAHAT_PAYOUT_DEBTOR_BIC: must be a BIC of 8 or 11 letters and digits")
        }
        self.init(name: name, account: account, bic: bic)
    }
}

extension PayoutFiles {
    /// ISO 9362: 4 letters or digits (the bank), 2 letters (the country), 2 and optionally 3 more.
    static func isBIC(_ text: String) -> Bool {
        let characters = Array(text)
        guard characters.count == 8 || characters.count == 11,
            characters.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) })
        else { return false }
        return characters[4].isLetter && characters[5].isLetter
    }
}
