import Crypto
import Foundation
import Logging
import MetricCatalog
import Metrics
import Notifications
import Persistence
import SQLKit
import ServerKit
import SharedModels

/// requested → confirmed | expired | failed.
enum RedemptionStatus: String, Sendable, CaseIterable {
    case requested, confirmed, expired, failed
}

/// A redemption at a vendor.
struct RedemptionRecord: Sendable, Equatable {
    var id: UUID
    var projectID: UUID
    var vendorID: UUID
    var vendorUserID: UUID
    var beneficiaryID: UUID
    var amount: Int64
    var asset: String
    /// As stored; a request past its expiry reads as expired (see ``effectiveStatus(at:)``).
    var status: RedemptionStatus
    var phoneHint: String
    var expiresAt: Date
    var attempts: Int
    var transferID: UUID?
    var failureReason: String?
    var settlementID: UUID?
    var requestedBy: UUID
    var createdAt: Date
    var confirmedAt: Date?
    /// True when a request was answered with the same one made before: no new code was sent.
    var replayed = false

    /// A request nobody confirmed in time has expired whether or not a confirmation came to say so.
    func effectiveStatus(at now: Date) -> RedemptionStatus {
        status == .requested && expiresAt <= now ? .expired : status
    }

    var attemptsRemaining: Int { max(0, C2CDomain.codeAttempts - attempts) }
}

/// What a vendor asks to redeem.
struct RedemptionInput: Sendable {
    var vendorID: String
    var beneficiaryID: String?
    var phone: String?
    var amount: Int64
    var projectID: String?
    var defaultCountry: String?
}

extension C2CDomain {
    /// How long a code may be used.
    static let codeLifetime: TimeInterval = 5 * 60
    /// Wrong codes before the redemption fails.
    static let codeAttempts = 3
    /// Codes one beneficiary may be sent in ``codeWindow``: enough for a mistyped amount or two,
    /// too few for a vendor to flood a phone.
    static let codesPerWindow = 5
    static let codeWindow: TimeInterval = 15 * 60
    /// Wrong codes one vendor may enter, across all beneficiaries, in ``vendorCodeWindow``: a
    /// shop mistypes a few a day; guessing one code in a million over many wallets takes many
    /// more. Over it the vendor's confirmations pause and the agency is alerted.
    static let vendorWrongCodes = 10
    static let vendorCodeWindow: TimeInterval = 60 * 60

    // MARK: Requesting

    /// Checks who asks and what the beneficiary holds, records the request with the code's digest
    /// and sends the code to the beneficiary's phone.
    func requestRedemption(_ input: RedemptionInput, by caller: Principal) async throws -> RedemptionRecord {
        var violations: [FieldViolation] = []
        let vendorID = UUID(input.vendorID, field: "vendorId", into: &violations)
        var beneficiaryID: UUID?
        switch (input.beneficiaryID, input.phone) {
        case (let text?, nil):
            beneficiaryID = UUID(text, field: "beneficiaryId", into: &violations)
        case (nil, let phone?):
            if phone.trimmingCharacters(in: .whitespaces).isEmpty {
                violations.append(FieldViolation(field: "phone", reason: "must not be empty"))
            }
        case (.some, .some):
            violations.append(FieldViolation(field: "phone", reason: "give beneficiaryId or phone, not both"))
        case (nil, nil):
            violations.append(FieldViolation(field: "beneficiaryId", reason: "give beneficiaryId or phone"))
        }
        if input.amount <= 0 { violations.append(FieldViolation(field: "amount", reason: "must be more than zero")) }
        var projectID: UUID?
        if let text = input.projectID {
            projectID = UUID(text, field: "projectId", into: &violations)
        }
        guard violations.isEmpty, let vendorID else { throw C2CError.invalidInput(violations) }

        let vendor = try await clients.vendor(vendorID)
        // A vendor's login redeems for its own shop; only a manager of redemptions for another.
        let scope = projectID?.lowercasedString
        if vendor.userID == caller.userID {
            try caller.require(Permission(.redemption, .create, projectID: scope))
        } else {
            try caller.require(Permission(.redemption, .manage, projectID: scope))
        }
        guard vendor.active else { throw C2CError.vendorInactive }
        if let projectID, !vendor.projectIDs.contains(projectID) { throw C2CError.vendorNotAssigned }

        let beneficiary: C2CClients.BeneficiaryFacts
        if let beneficiaryID {
            beneficiary = try await clients.beneficiary(beneficiaryID)
        } else {
            // Looked up among the people of the vendor's projects only: whether a number belongs
            // to an aid recipient anywhere else is not a vendor's to learn.
            let candidates = projectID.map { [$0] } ?? vendor.projectIDs.sorted { $0.uuidString < $1.uuidString }
            guard !candidates.isEmpty else { throw C2CError.vendorNotAssigned }
            var found: [UUID: C2CClients.BeneficiaryFacts] = [:]
            for candidate in candidates {
                for person in try await clients.beneficiaries(
                    phone: input.phone ?? "", defaultCountry: input.defaultCountry, in: candidate)
                {
                    found[person.id] = person
                }
            }
            guard let first = found.values.first else { throw C2CError.beneficiaryNotFound }
            guard found.count == 1 else { throw C2CError.beneficiaryPhoneShared }
            beneficiary = first
        }
        guard !beneficiary.archived else { throw C2CError.beneficiaryNotFound }
        guard let phone = beneficiary.phone else { throw C2CError.beneficiaryWithoutPhone }
        // Value reaches only people whose identity stands: a changed phone reopens verification.
        guard beneficiary.verified else { throw C2CError.beneficiaryNotVerified }
        // Verification may pass again at once; the old number's owner, who was told, needs time.
        let now = self.now()
        if let changed = beneficiary.phoneChangedAt {
            let until = changed.addingTimeInterval(TimeInterval(phoneChangeHold.components.seconds))
            guard now >= until else { throw C2CError.beneficiaryPhoneChanged(until: until) }
        }

        let project = try await redemptionProject(
            named: projectID, vendor: vendor, beneficiaryID: beneficiary.id, amount: input.amount, for: caller)
        // One live code per vendor and beneficiary. The same request again (a retry after a
        // timeout, a double tap) is answered with it, and the phone gets no second code.
        if let open = try await openRedemption(vendorID: vendor.id, beneficiaryID: beneficiary.id, at: now) {
            if open.amount == input.amount && open.projectID == project.id {
                var replay = open
                replay.replayed = true
                return replay
            }
            // Another amount: the vendor changed its mind; the earlier code stops working (unless
            // it was confirmed and only the record of it was lost), once a new one may be sent.
            try await requireCodeAllowance(for: beneficiary.id)
            try await close(open, reason: "superseded by a later request", at: now, on: sql)
        } else {
            try await requireCodeAllowance(for: beneficiary.id)
        }

        let code = Self.newCode()
        let salt = Data((0..<16).map { _ in UInt8.random(in: .min ... .max) }).hexString
        let record = RedemptionRecord(
            id: UUID.v7(), projectID: project.id, vendorID: vendor.id, vendorUserID: vendor.userID,
            beneficiaryID: beneficiary.id, amount: input.amount, asset: project.asset, status: .requested,
            phoneHint: Self.phoneHint(phone), expiresAt: now.addingTimeInterval(Self.codeLifetime), attempts: 0,
            requestedBy: caller.userID, createdAt: now)
        let inserted = try await RedemptionStore.insert(
            record, codeSalt: salt, codeHash: Self.codeDigest(code, salt: salt, id: record.id), on: sql)
        guard inserted else {
            guard var open = try await openRedemption(vendorID: vendor.id, beneficiaryID: beneficiary.id, at: now),
                open.amount == input.amount && open.projectID == project.id
            else { throw C2CError.redemptionInProgress }
            open.replayed = true
            return open
        }
        let body =
            "Rahat: your code is \(code) to redeem \(project.asset) \(Self.format(input.amount, scale: project.scale)) at \(vendor.name.prefix(40)). It expires in 5 minutes. Give it only to this vendor."
        do {
            try await sms.send(SmsMessage(to: phone, body: body))
        } catch {
            // The code never reached the phone: nothing may be confirmed with it.
            logger.warning(
                "redemption code not sent",
                metadata: ["redemption_id": "\(record.id.lowercasedString)", "error": "\(error)"])
            try await RedemptionStore.fail(
                record.id, reason: "the code could not be sent by SMS", at: self.now(), on: sql)
            C2CServiceMetrics.redemptions.counter("failed").increment()
            throw C2CError.codeNotSent
        }
        C2CServiceMetrics.redemptions.counter("requested").increment()
        logger.info(
            "redemption requested",
            metadata: [
                "redemption_id": "\(record.id.lowercasedString)", "vendor_id": "\(vendor.id.lowercasedString)",
                "project_id": "\(project.id.lowercasedString)", "amount": "\(input.amount)",
            ])
        return record
    }

    /// The vendor's live request for the beneficiary, after marking any that ran out as expired
    /// (so the open-request index holds only live codes).
    private func openRedemption(vendorID: UUID, beneficiaryID: UUID, at now: Date) async throws -> RedemptionRecord? {
        let open = try await RedemptionStore.requested(vendorID: vendorID, beneficiaryID: beneficiaryID, on: sql)
        guard let open, open.expiresAt <= now else { return open }
        try await close(open, reason: nil, at: now, on: sql)
        return nil
    }

    /// Ends a request nobody will confirm now: expired, or confirmed after all when the ledger
    /// holds its transfer (the move committed, and the confirmation's own commit did not).
    /// Returns what it recorded.
    @discardableResult
    private func close(
        _ record: RedemptionRecord, reason: String?, at now: Date, on sql: any SQLDatabase
    ) async throws -> RedemptionStatus {
        let key = Self.redemptionTransfer(record).idempotencyKey
        let recorded = try await clients.recordedTransfers(
            projectID: record.projectID, reference: Self.redemptionTransfer(record).reference)
        let found = recorded[key] ?? nil
        try await RedemptionStore.close(record.id, transfer: found, reason: reason, at: now, on: sql)
        if found != nil {
            logger.warning(
                "redemption found confirmed in the ledger; recorded now",
                metadata: ["redemption_id": "\(record.id.lowercasedString)"])
        }
        return found == nil ? .expired : .confirmed
    }

    /// The project the value comes from: the one named, or the only one of the vendor's projects
    /// where the beneficiary holds enough.
    private func redemptionProject(
        named projectID: UUID?, vendor: C2CClients.VendorFacts, beneficiaryID: UUID, amount: Int64,
        for caller: Principal
    ) async throws -> C2CClients.ProjectFacts {
        let candidates = projectID.map { [$0] } ?? vendor.projectIDs.sorted { $0.uuidString < $1.uuidString }
        guard !candidates.isEmpty else { throw C2CError.vendorNotAssigned }
        var covered: [(project: UUID, balance: Int64)] = []
        var largest: Int64 = 0
        for candidate in candidates {
            let balance = try await clients.walletBalance(projectID: candidate, beneficiaryID: beneficiaryID)
            largest = max(largest, balance)
            if balance >= amount { covered.append((candidate, balance)) }
        }
        guard let chosen = covered.first else {
            // What someone holds is not a vendor's to learn by asking for too much.
            let readsBalances = candidates.allSatisfy {
                caller.permissions.allows(Permission(.ledger, .read, projectID: $0.lowercasedString))
            }
            throw C2CError.insufficientBalance(balance: readsBalances ? largest : nil, needed: amount)
        }
        guard covered.count == 1 else {
            throw C2CError.invalidInput([
                FieldViolation(
                    field: "projectId",
                    reason: "the beneficiary holds enough in \(covered.count) of the vendor's projects; name one")
            ])
        }
        let project = try await clients.project(chosen.project)
        guard !project.closed else { throw C2CError.projectClosed }
        guard project.active else { throw C2CError.projectNotActive }
        return project
    }

    /// Refuses confirmations at a vendor that entered too many wrong codes lately, across all its
    /// beneficiaries: a per-redemption limit alone lets a vendor guess at every wallet in turn.
    private func requireVendorCodeBudget(_ vendorID: UUID) async throws {
        let since = now().addingTimeInterval(-Self.vendorCodeWindow)
        let recent = try await RedemptionStore.recentWrongCodes(vendorID: vendorID, since: since, on: sql)
        guard recent.reduce(0, { $0 + $1.0 }) >= Self.vendorWrongCodes, let oldest = recent.map(\.1).min() else {
            return
        }
        let wait = max(1, Int(oldest.addingTimeInterval(Self.vendorCodeWindow).timeIntervalSince(now()).rounded(.up)))
        Self.vendorCodeRefusals.increment()
        logger.warning(
            "vendor over its budget of wrong redemption codes; confirmations paused",
            metadata: ["vendor_id": "\(vendorID.lowercasedString)", "retry_after_s": "\(wait)"])
        throw C2CError.vendorCodesThrottled(retryAfterSeconds: wait)
    }

    /// Confirmations refused because their vendor entered too many wrong codes: alert on any.
    private static let vendorCodeRefusals = C2CServiceMetrics.vendorCodeRefusals.counter()

    /// Refuses a sixth code to one phone within the window. Two requests at the same instant may
    /// both pass; the window still bounds what a vendor can send.
    private func requireCodeAllowance(for beneficiaryID: UUID) async throws {
        let since = now().addingTimeInterval(-Self.codeWindow)
        let recent = try await RedemptionStore.recentRequests(
            beneficiaryID: beneficiaryID, since: since, limit: Self.codesPerWindow, on: sql)
        guard recent.count >= Self.codesPerWindow, let oldest = recent.first else { return }
        let wait = oldest.addingTimeInterval(Self.codeWindow).timeIntervalSince(now())
        throw C2CError.codesThrottled(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
    }

    // MARK: Confirming

    /// What one confirmation did, decided under the redemption's lock.
    private enum ConfirmOutcome: Sendable {
        case confirmed
        /// Confirmed by this call: value moved now.
        case confirmedNow(amount: Int64, asset: String)
        case wrongCode(remaining: Int)
        case refused(C2CError)
        /// Refused, and the redemption failed for good (the wallet cannot cover it).
        case failed(C2CError)
    }

    /// Checks the code and moves the amount, wallet → vendor account, keyed by the redemption:
    /// of identical confirmations at once, one moves value and all answer it.
    func confirmRedemption(
        _ text: String, code rawCode: String, by caller: Principal
    ) async throws
        -> RedemptionRecord
    {
        let id = try parseID(text, field: "id")
        let code = rawCode.trimmingCharacters(in: .whitespaces)
        guard code.count == 6, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else {
            throw C2CError.invalidInput([FieldViolation(field: "code", reason: "must be the 6 digits sent")])
        }
        try Self.requireReadAnywhere(.redemption, by: caller)
        let record = try await storedRedemption(id)
        try authorizeVendorAction(on: record, by: caller)
        if record.status == .requested {
            try await requireVendorCodeBudget(record.vendorID)
            // The code may have been sent before the vendor was deactivated or the project closed.
            guard try await clients.vendor(record.vendorID).active else { throw C2CError.vendorInactive }
            try await requireOpen(record.projectID)
        }
        let ledger = clients
        let logger = self.logger
        let now = self.now()
        let outcome = try await database.sqlTransaction { tx -> ConfirmOutcome in
            // Locking the row: identical confirmations wait here for the first to finish, then
            // see what it did.
            guard let (current, salt, hash) = try await RedemptionStore.lockForConfirmation(id, at: now, on: tx)
            else { throw C2CError.redemptionNotFound }
            let matches = Self.codeDigest(code, salt: salt, id: id) == hash
            switch current.effectiveStatus(at: now) {
            case .confirmed:
                return matches ? .confirmed : .refused(.redemptionState(status: "confirmed"))
            case .failed, .expired:
                if current.status == .requested {
                    // Expired, unless an earlier confirmation moved the value and lost only its
                    // record: then it is recorded as confirmed, whatever this code says.
                    switch try await close(current, reason: nil, at: now, on: tx) {
                    case .confirmed: return matches ? .confirmed : .refused(.redemptionState(status: "confirmed"))
                    default: return .refused(.redemptionExpired)
                    }
                }
                return .refused(.redemptionState(status: current.effectiveStatus(at: now).rawValue))
            case .requested:
                break
            }
            guard matches else {
                let attempts = current.attempts + 1
                let exhausted = attempts >= Self.codeAttempts
                try await RedemptionStore.recordWrongCode(id, attempts: attempts, exhausted: exhausted, on: tx)
                return .wrongCode(remaining: Self.codeAttempts - attempts)
            }
            // The ledger call runs under the lock. Its key makes a repeat after an unanswered call
            // (rolled back here) find the transfer the first one made.
            let result: RecordedTransfer
            do {
                result = try await ledger.transfer(Self.redemptionTransfer(current))
            } catch let refusal as LedgerRefusal where refusal.kind == .precondition {
                let insufficient = refusal.isInsufficientFunds
                let reason = insufficient ? "insufficient balance" : refusal.description
                try await RedemptionStore.fail(id, reason: reason, on: tx)
                return .failed(
                    insufficient
                        ? .insufficientBalance(balance: nil, needed: current.amount)
                        : .redemptionRefused(reason: reason))
            }
            let transferID = result.id
            try await RedemptionStore.confirm(id, transfer: transferID, at: now, on: tx)
            logger.info(
                "redemption confirmed",
                metadata: [
                    "redemption_id": "\(id.lowercasedString)", "transfer_id": "\(transferID.lowercasedString)",
                    "amount": "\(current.amount)",
                ])
            return .confirmedNow(amount: current.amount, asset: current.asset)
        }
        switch outcome {
        case .confirmed: return try await storedRedemption(id)
        case .confirmedNow(let amount, let asset):
            C2CServiceMetrics.redemptions.counter("confirmed").increment()
            C2CServiceMetrics.redeemedValue.counter(asset).increment(by: amount)
            return try await storedRedemption(id)
        case .failed(let error):
            C2CServiceMetrics.redemptions.counter("failed").increment()
            throw error
        case .wrongCode(let remaining): throw C2CError.wrongCode(attemptsRemaining: remaining)
        case .refused(let error): throw error
        }
    }

    private func storedRedemption(_ id: UUID) async throws -> RedemptionRecord {
        guard let record = try await RedemptionStore.redemption(id, on: sql) else { throw C2CError.redemptionNotFound }
        return record
    }

    static func redemptionTransfer(_ record: RedemptionRecord) -> LedgerTransfer {
        LedgerTransfer(
            idempotencyKey: "redemption:\(record.id.lowercasedString)",
            debit: .beneficiaryWallet(project: record.projectID, beneficiary: record.beneficiaryID),
            credit: .vendor(project: record.projectID, vendor: record.vendorID), amount: record.amount,
            asset: record.asset, kind: .redeem, reference: "redemption:\(record.id.lowercasedString)")
    }

    // MARK: Reading

    func redemption(_ text: String, by caller: Principal) async throws -> RedemptionRecord {
        let id = try parseID(text, field: "id")
        try Self.requireReadAnywhere(.redemption, by: caller)
        let record = try await storedRedemption(id)
        try Self.requireVendorRecordRead(
            .redemption, projectID: record.projectID, vendorUserID: record.vendorUserID, by: caller,
            otherwise: .redemptionNotFound)
        return record
    }

    func redemptions(
        projectID: String?, vendorID: String?, beneficiaryID: String?, status: RedemptionStatus?, limit: Int,
        cursor: String?, by caller: Principal
    ) async throws -> ([RedemptionRecord], String?) {
        let (ids, page) = try Self.listFilters(
            [(projectID, "projectId"), (vendorID, "vendorId"), (beneficiaryID, "beneficiaryId")], limit: limit,
            cursor: cursor)
        let (project, vendor, beneficiary) = (ids[0], ids[1], ids[2])
        let ownOnly = try Self.ownVendorRowsOnly(.redemption, scope: project?.lowercasedString, by: caller)
        let at = now()
        let rows = try await database.replicaRead { sql in
            try await RedemptionStore.redemptions(
                projectID: project, vendorID: vendor, beneficiaryID: beneficiary, vendorUserID: ownOnly,
                status: status, at: at, after: page.after, limit: page.limit + 1, on: sql)
        }
        let (shown, next) = page.page(of: rows) { $0.id }
        return (shown, next)
    }

    /// The vendor's own login, or a manager of redemptions in the project.
    private func authorizeVendorAction(on record: RedemptionRecord, by caller: Principal) throws {
        let scope = record.projectID.lowercasedString
        if record.vendorUserID == caller.userID {
            try caller.require(Permission(.redemption, .create, projectID: scope))
        } else {
            let manage = Permission(.redemption, .manage, projectID: scope)
            guard caller.permissions.allows(manage) else {
                // Whoever may read it is told what is missing; to anyone else, as to another
                // vendor, it is not told apart from a missing one.
                try Self.requireVendorRecordRead(
                    .redemption, projectID: record.projectID, vendorUserID: record.vendorUserID, by: caller,
                    otherwise: .redemptionNotFound)
                try caller.require(manage)
                return
            }
        }
    }

    // MARK: Codes

    /// Six decimal digits from the system's CSPRNG, leading zeros kept.
    static func newCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = Int.random(in: 0..<1_000_000, using: &generator)
        let digits = String(value)
        return String(repeating: "0", count: 6 - digits.count) + digits
    }

    /// Salted and bound to the redemption, so one row's digest says nothing about another's code.
    static func codeDigest(_ code: String, salt: String, id: UUID) -> String {
        SHA256.hash(data: Data("\(salt):\(id.lowercasedString):\(code)".utf8)).hexString
    }

    /// `+977*******678`: enough for the vendor to check with the beneficiary which phone to look at.
    static func phoneHint(_ phone: String) -> String {
        let visible = 3
        guard phone.count > visible + 4 else { return String(repeating: "*", count: phone.count) }
        let prefix = phone.prefix(4)
        return prefix + String(repeating: "*", count: phone.count - 4 - visible) + phone.suffix(visible)
    }

    /// `150000` at scale 2 → `1500.00`.
    static func format(_ amount: Int64, scale: Int) -> String {
        guard scale > 0 else { return String(amount) }
        let digits = String(amount.magnitude)
        let padded = String(repeating: "0", count: max(0, scale + 1 - digits.count)) + digits
        let whole = padded.dropLast(scale)
        return (amount < 0 ? "-" : "") + whole + "." + padded.suffix(scale)
    }
}
