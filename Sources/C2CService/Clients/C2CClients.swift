package import AuthAPI
package import CoreAPI
import Foundation
import GRPCCore
package import LedgerAPI
package import ServerKit
import SharedModels
import SwiftProtobuf

/// The other services as project-c2c uses them. Reads of projects and users and every movement
/// of value go as the service itself (its service credentials): the caller's rights are checked
/// here first, and the ledger takes value moves only from services that hold `ledger:create`.
package struct C2CClients: Sendable {
    let projects: any Rahat_Core_V1_ProjectService.ClientProtocol
    let beneficiaries: any Rahat_Core_V1_BeneficiaryService.ClientProtocol
    let vendors: any Rahat_Core_V1_VendorService.ClientProtocol
    let users: any Rahat_Auth_V1_UserService.ClientProtocol
    let ledger: any Rahat_Ledger_V1_LedgerService.ClientProtocol
    let credentials: ServiceCredentials

    package init(
        projects: any Rahat_Core_V1_ProjectService.ClientProtocol,
        beneficiaries: any Rahat_Core_V1_BeneficiaryService.ClientProtocol,
        vendors: any Rahat_Core_V1_VendorService.ClientProtocol,
        users: any Rahat_Auth_V1_UserService.ClientProtocol,
        ledger: any Rahat_Ledger_V1_LedgerService.ClientProtocol,
        credentials: ServiceCredentials
    ) {
        self.projects = projects
        self.beneficiaries = beneficiaries
        self.vendors = vendors
        self.users = users
        self.ledger = ledger
        self.credentials = credentials
    }

    /// Credentials for service `c2c` from the auth service `auth`, with the deployment's secret.
    package static func credentials(
        auth: any Rahat_Auth_V1_AuthService.ClientProtocol, secret: String
    ) -> ServiceCredentials {
        ServiceCredentials {
            let token = try await auth.issueServiceToken(
                .with {
                    $0.service = "c2c"
                    $0.secret = secret
                })
            return (token.accessToken, .seconds(token.expiresInSeconds))
        }
    }

    /// What c2c needs of a project.
    struct ProjectFacts: Sendable {
        var id: UUID
        var asset: String
        /// Digits after the decimal point of the asset (2 for `NPR`).
        var scale: Int
        var closed: Bool
        var active: Bool
        /// Voucher projects allocate; cash projects disburse.
        var vouchers: Bool
    }

    /// The project, or `projectNotFound`.
    func project(_ id: UUID) async throws -> ProjectFacts {
        do {
            let project = try await asService { metadata in
                try await projects.getProject(.with { $0.id = id.lowercasedString }, metadata: metadata)
            }
            return ProjectFacts(
                id: id, asset: project.asset, scale: Int(project.assetScale), closed: project.status == .closed,
                active: project.status == .active,
                vouchers: project.type == .cva)
        } catch let error as RPCError where error.code == .notFound {
            throw C2CError.projectNotFound
        }
    }

    /// Whether `id` names an active user.
    func isActiveUser(_ id: UUID) async throws -> Bool {
        do {
            let user = try await asService { metadata in
                try await users.getUser(.with { $0.id = id.lowercasedString }, metadata: metadata)
            }
            return user.status == .active
        } catch let error as RPCError where error.code == .notFound {
            return false
        }
    }

    /// Who a disbursement may pay (see core's `StreamRoster`), in beneficiary id order, handed
    /// to `tally` as it streams; an error `tally` throws ends the stream. Only the named
    /// beneficiaries' entries, if any are named.
    func roster<Tally: RosterTally>(
        projectID: UUID, groupID: UUID?, filter: RecipientFilter?, beneficiaryIDs: [UUID] = [],
        into tally: Tally
    ) async throws -> Tally {
        let request = Rahat_Core_V1_StreamRosterRequest.with {
            $0.projectID = projectID.lowercasedString
            if let groupID { $0.groupID = groupID.lowercasedString }
            if let filter { $0.filter = Self.coreFilter(filter) }
            $0.beneficiaryIds = beneficiaryIDs.map(\.lowercasedString)
        }
        do {
            return try await asService { metadata in
                try await projects.streamRoster(request, metadata: metadata) { response in
                    var tally = tally
                    for try await chunk in response.messages {
                        for entry in chunk.entries {
                            guard let id = UUID(uuidString: entry.beneficiaryID) else {
                                throw C2CStorageError(
                                    description: "core answered beneficiary id '\(entry.beneficiaryID)'")
                            }
                            try tally.add(
                                RosterEntry(
                                    beneficiaryID: id, enrolled: entry.enrolled,
                                    verificationStatus: entry.verificationStatus,
                                    verified: entry.verificationStatus == Rahat_Core_V1_Beneficiary.verifiedStatus,
                                    archived: entry.archived))
                        }
                    }
                    return tally
                }
            }
        } catch let error as RPCError where error.code == .notFound {
            throw ServiceError(error).reason == "group.not_found"
                ? C2CError.invalidInput([FieldViolation(field: "groupId", reason: "names no group")])
                : C2CError.projectNotFound
        } catch let error as RPCError where error.code == .invalidArgument {
            // The filter's criteria go to core under the names they have here (`filter.gender`).
            throw C2CError.invalidInput(ServiceError(error).violations)
        }
    }

    /// The criteria in core's words: the same names, so core's violations name the caller's fields.
    private static func coreFilter(_ filter: RecipientFilter) -> Rahat_Core_V1_BeneficiaryFilter {
        .with {
            if let value = filter.gender { $0.gender = value }
            if let value = filter.bankedStatus { $0.bankedStatus = value }
            if let value = filter.internetStatus { $0.internetStatus = value }
            if let value = filter.phoneStatus { $0.phoneStatus = value }
            if let value = filter.createdFrom { $0.createdFrom = Google_Protobuf_Timestamp(date: value) }
            if let value = filter.createdTo { $0.createdTo = Google_Protobuf_Timestamp(date: value) }
        }
    }

    /// The project fund's balance; zero before its first funding.
    func fundBalance(projectID: UUID) async throws -> Int64 {
        try await balance(of: .projectFund, projectID: projectID)
    }

    /// An account's balance; zero before the ledger opened it (its first transfer).
    private func balance(
        of kind: Rahat_Ledger_V1_AccountKind, projectID: UUID, ownerID: UUID? = nil
    ) async throws -> Int64 {
        do {
            return try await asService { metadata in
                try await ledger.findAccount(
                    .with {
                        $0.kind = kind
                        $0.projectID = projectID.lowercasedString
                        if let ownerID { $0.ownerID = ownerID.lowercasedString }
                    }, metadata: metadata)
            }.balance
        } catch let error as RPCError where error.code == .notFound {
            return 0
        }
    }

    /// What c2c needs of a vendor.
    struct VendorFacts: Sendable {
        var id: UUID
        var userID: UUID
        var name: String
        var active: Bool
        var projectIDs: Set<UUID>
        /// `nil` when core holds none a payout can go to.
        var payout: PayoutAccount?
    }

    /// The vendor, or `vendorNotFound`.
    func vendor(_ id: UUID) async throws -> VendorFacts {
        let vendor: Rahat_Core_V1_Vendor
        do {
            vendor = try await asService { metadata in
                try await vendors.getVendor(.with { $0.id = id.lowercasedString }, metadata: metadata)
            }
        } catch let error as RPCError where error.code == .notFound {
            throw C2CError.vendorNotFound
        }
        guard let userID = UUID(uuidString: vendor.userID) else {
            throw C2CStorageError(description: "core answered vendor user id '\(vendor.userID)'")
        }
        let account = vendor.payoutAccount
        func value(_ has: Bool, _ text: String) -> String? { has && !text.isEmpty ? text : nil }
        let kind: PayoutAccount.Kind? =
            switch account.type {
            case .bank: .bank
            case .mobileMoney: .mobileMoney
            default: nil
            }
        return VendorFacts(
            id: id, userID: userID, name: vendor.name, active: vendor.status == .active,
            projectIDs: Set(vendor.projectIds.compactMap(UUID.init(uuidString:))),
            payout: kind.map { kind in
                PayoutAccount(
                    kind: kind, bankName: value(account.hasBankName, account.bankName),
                    accountName: value(account.hasAccountName, account.accountName),
                    accountNumber: value(account.hasAccountNumber, account.accountNumber),
                    branch: value(account.hasBranch, account.branch), bic: value(account.hasBic, account.bic),
                    provider: value(account.hasProvider, account.provider),
                    mobileNumber: value(account.hasMobileNumber, account.mobileNumber))
            })
    }

    /// What c2c needs of a beneficiary: where a code goes.
    struct BeneficiaryFacts: Sendable {
        var id: UUID
        /// E.164.
        var phone: String?
        var archived: Bool
        /// Whether KYC passed and has not been reopened (by a changed phone, say).
        var verified: Bool
        /// When the phone last changed on the record.
        var phoneChangedAt: Date?
    }

    /// The beneficiary, or `beneficiaryNotFound`.
    func beneficiary(_ id: UUID) async throws -> BeneficiaryFacts {
        do {
            let beneficiary = try await asService { metadata in
                try await beneficiaries.getBeneficiary(.with { $0.id = id.lowercasedString }, metadata: metadata)
            }
            return try Self.facts(beneficiary)
        } catch let error as RPCError where error.code == .notFound {
            throw C2CError.beneficiaryNotFound
        }
    }

    /// Up to two live beneficiaries with this phone (core's blind index): two means the phone
    /// does not tell them apart.
    /// The live beneficiaries enrolled in `projectID` with this phone: at most two, which is
    /// enough to tell one from several.
    func beneficiaries(phone: String, defaultCountry: String?, in projectID: UUID) async throws -> [BeneficiaryFacts] {
        do {
            let page = try await asService { metadata in
                try await beneficiaries.listBeneficiaries(
                    .with {
                        $0.limit = 2
                        $0.phone = phone
                        $0.projectID = projectID.lowercasedString
                        if let defaultCountry { $0.defaultCountry = defaultCountry }
                    }, metadata: metadata)
            }
            return try page.beneficiaries.map(Self.facts).filter { !$0.archived }
        } catch let error as RPCError where error.code == .invalidArgument {
            throw C2CError.invalidInput(ServiceError(error).violations)
        }
    }

    private static func facts(_ beneficiary: Rahat_Core_V1_Beneficiary) throws -> BeneficiaryFacts {
        guard let id = UUID(uuidString: beneficiary.id) else {
            throw C2CStorageError(description: "core answered beneficiary id '\(beneficiary.id)'")
        }
        return BeneficiaryFacts(
            id: id, phone: beneficiary.pii.hasPhone ? beneficiary.pii.phone : nil, archived: beneficiary.hasArchivedAt,
            verified: beneficiary.verificationStatus == Rahat_Core_V1_Beneficiary.verifiedStatus,
            phoneChangedAt: beneficiary.hasPhoneChangedAt ? beneficiary.phoneChangedAt.date : nil)
    }

    /// What a beneficiary holds in a project; zero before anything was paid to them.
    func walletBalance(projectID: UUID, beneficiaryID: UUID) async throws -> Int64 {
        try await balance(of: .beneficiaryWallet, projectID: projectID, ownerID: beneficiaryID)
    }

    /// Records up to 10,000 transfers in one atomic call, as the service: all of them, or, refused
    /// (``LedgerRefusal``), none.
    func transferBatch(_ transfers: [LedgerTransfer]) async throws -> [RecordedTransfer] {
        let results = try await refusable {
            try await asService { metadata in
                try await ledger.recordTransferBatch(
                    .with { $0.transfers = transfers.map(\.request) }, metadata: metadata)
            }.results
        }
        guard results.count == transfers.count else {
            throw C2CStorageError(
                description: "the ledger answered \(results.count) results for \(transfers.count) transfers")
        }
        return try results.map { result in
            guard let id = UUID.parse(result.transferID) else {
                throw C2CStorageError(description: "the ledger answered transfer id '\(result.transferID)'")
            }
            return RecordedTransfer(id: id, replayed: result.replayed)
        }
    }

    /// The transfers the ledger recorded under `reference` in the project, by idempotency key: what
    /// a move whose answer never arrived (or whose local commit failed) did.
    func recordedTransfers(projectID: UUID, reference: String) async throws -> [String: UUID] {
        let page = try await asService { metadata in
            try await ledger.listTransfers(
                .with {
                    $0.projectID = projectID.lowercasedString
                    $0.referencePrefix = reference
                    $0.limit = 20
                }, metadata: metadata)
        }
        var found: [String: UUID] = [:]
        for transfer in page.transfers where transfer.reference == reference {
            found[transfer.idempotencyKey] = UUID(uuidString: transfer.id)
        }
        return found
    }

    /// Records one transfer as the service; a refusal is thrown as ``LedgerRefusal``.
    func transfer(_ transfer: LedgerTransfer) async throws -> RecordedTransfer {
        let result = try await refusable {
            try await asService { metadata in try await ledger.recordTransfer(transfer.request, metadata: metadata) }
        }
        guard let id = UUID.parse(result.transfer.id) else {
            throw C2CStorageError(description: "the ledger answered the transfer id '\(result.transfer.id)'")
        }
        return RecordedTransfer(id: id, replayed: result.replayed)
    }

    /// Runs a ledger call, its refusals thrown as ``LedgerRefusal``.
    private func refusable<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let error as RPCError {
            if let refusal = LedgerRefusal(error) { throw refusal }
            throw error
        }
    }

    /// Runs `call` with the service's credentials. The service's own credentials being refused is
    /// this deployment's fault (secrets that differ, grants that do not fit), never the caller's:
    /// it is raised as an unexpected error, logged and answered as internal, not passed on as the
    /// caller's 401 or 403.
    private func asService<T>(_ call: (Metadata) async throws -> T) async throws -> T {
        let metadata: Metadata
        do {
            metadata = try await credentials.metadata()
        } catch let error as RPCError
            where [.unauthenticated, .permissionDenied, .failedPrecondition].contains(error.code)
        {
            throw ServiceCallRefused(call: "IssueServiceToken", error: error)
        }
        do {
            return try await call(metadata)
        } catch let error as RPCError where [.unauthenticated, .permissionDenied].contains(error.code) {
            throw ServiceCallRefused(call: "a call as service c2c", error: error)
        }
    }
}

/// The auth service refused project-c2c's own credentials, or a service refused a call made with them.
struct ServiceCallRefused: Error, CustomStringConvertible {
    var call: String
    var error: RPCError

    var description: String { "\(call) was refused: \(error.code): \(error.message)" }
}
