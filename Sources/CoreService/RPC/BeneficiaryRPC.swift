import CoreAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.core.v1.BeneficiaryService` over the core domain.
struct BeneficiaryRPC: Rahat_Core_V1_BeneficiaryService.SimpleServiceProtocol {
    let domain: CoreDomain

    func createBeneficiary(
        request: Rahat_Core_V1_CreateBeneficiaryRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_Beneficiary {
        let created = try await domain.createBeneficiaries(
            [BeneficiaryInput(request.beneficiary)],
            by: try await domain.caller(),
            batchField: nil
        )
        guard let first = created.first else { throw CoreError.beneficiaryNotFound }
        return Rahat_Core_V1_Beneficiary(first)
    }

    func createBeneficiaries(
        request: Rahat_Core_V1_CreateBeneficiariesRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_CreateBeneficiariesResponse {
        let created = try await domain.createBeneficiaries(
            request.beneficiaries.map(BeneficiaryInput.init),
            by: try await domain.caller(),
            batchField: "beneficiaries"
        )
        return .with { $0.beneficiaries = created.map(Rahat_Core_V1_Beneficiary.init) }
    }

    func getBeneficiary(
        request: Rahat_Core_V1_GetBeneficiaryRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_Beneficiary {
        Rahat_Core_V1_Beneficiary(try await domain.getBeneficiary(request.id, by: try await domain.caller()))
    }

    func updateBeneficiary(
        request: Rahat_Core_V1_UpdateBeneficiaryRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_Beneficiary {
        let updated = try await domain.updateBeneficiary(
            request.id,
            input: BeneficiaryInput(request.changes),
            fields: Set(request.fields),
            by: try await domain.caller()
        )
        return Rahat_Core_V1_Beneficiary(updated)
    }

    func archiveBeneficiary(
        request: Rahat_Core_V1_ArchiveBeneficiaryRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_Beneficiary {
        Rahat_Core_V1_Beneficiary(try await domain.archiveBeneficiary(request.id, by: try await domain.caller()))
    }

    func listBeneficiaries(
        request: Rahat_Core_V1_ListBeneficiariesRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_ListBeneficiariesResponse {
        let filter = BeneficiaryFilter(
            gender: request.hasGender ? request.gender : nil,
            verificationStatus: request.hasVerificationStatus ? request.verificationStatus : nil,
            bankedStatus: request.hasBankedStatus ? request.bankedStatus : nil,
            internetStatus: request.hasInternetStatus ? request.internetStatus : nil,
            phoneStatus: request.hasPhoneStatus ? request.phoneStatus : nil,
            createdFrom: request.hasCreatedFrom ? request.createdFrom.date : nil,
            createdTo: request.hasCreatedTo ? request.createdTo.date : nil,
            phone: request.hasPhone ? request.phone : nil,
            nationalID: request.hasNationalID ? request.nationalID : nil,
            walletAddress: request.hasWalletAddress ? request.walletAddress : nil,
            defaultCountry: request.hasDefaultCountry ? request.defaultCountry : nil,
            projectID: request.hasProjectID ? request.projectID : nil,
            groupID: request.hasGroupID ? request.groupID : nil,
            name: request.hasName ? request.name : nil
        )
        let (items, next) = try await domain.listBeneficiaries(
            limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil,
            filter: filter,
            by: try await domain.caller()
        )
        return .with {
            $0.beneficiaries = items.map(Rahat_Core_V1_Beneficiary.init)
            if let next { $0.nextCursor = next }
        }
    }
}

extension BeneficiaryInput {
    init(_ message: Rahat_Core_V1_NewBeneficiary) {
        self.init(
            name: message.name,
            phone: message.hasPhone ? message.phone : nil,
            email: message.hasEmail ? message.email : nil,
            nationalID: message.hasNationalID ? message.nationalID : nil,
            gender: message.hasGender ? message.gender : nil,
            birthDate: message.hasBirthDate ? message.birthDate : nil,
            location: message.hasLocation ? message.location : nil,
            latitude: message.hasLatitude ? message.latitude : nil,
            longitude: message.hasLongitude ? message.longitude : nil,
            bankedStatus: message.hasBankedStatus ? message.bankedStatus : nil,
            internetStatus: message.hasInternetStatus ? message.internetStatus : nil,
            phoneStatus: message.hasPhoneStatus ? message.phoneStatus : nil,
            walletAddress: message.hasWalletAddress ? message.walletAddress : nil,
            extrasJSON: message.hasExtrasJson ? message.extrasJson : nil,
            defaultCountry: message.hasDefaultCountry ? message.defaultCountry : nil
        )
    }
}

extension Rahat_Core_V1_Beneficiary {
    init(_ info: BeneficiaryInfo) {
        self.init()
        id = info.id.lowercasedString
        if let pii = info.pii {
            self.pii = .with {
                $0.name = pii.name
                if let phone = pii.phone { $0.phone = phone }
                if let email = pii.email { $0.email = email }
                if let nationalID = pii.nationalID { $0.nationalID = nationalID }
            }
        }
        gender = info.gender
        if let details = info.details {
            if let birthDate = details.birthDate { self.birthDate = birthDate }
            if let location = details.location { self.location = location }
            if let latitude = details.latitude { self.latitude = latitude }
            if let longitude = details.longitude { self.longitude = longitude }
            extrasJson = details.extrasJSON
        }
        bankedStatus = info.bankedStatus
        internetStatus = info.internetStatus
        phoneStatus = info.phoneStatus
        if let wallet = info.walletAddress { walletAddress = wallet }
        verificationStatus = info.verificationStatus
        if let reason = info.verificationReason { verificationReason = reason }
        createdAt = Google_Protobuf_Timestamp(date: info.createdAt)
        updatedAt = Google_Protobuf_Timestamp(date: info.updatedAt)
        if let archivedAt = info.archivedAt { self.archivedAt = Google_Protobuf_Timestamp(date: archivedAt) }
        if let changed = info.phoneChangedAt { phoneChangedAt = Google_Protobuf_Timestamp(date: changed) }
    }
}
