import CoreAPI
import Foundation
import GRPCCore
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listBeneficiaries(
        _ input: Operations.ListBeneficiaries.Input
    ) async throws -> Operations.ListBeneficiaries.Output {
        return .ok(.init(body: .json(try await beneficiaryPage(input.query))))
    }

    /// One page of `GET /v1/beneficiaries`, also behind a project's beneficiary list.
    func beneficiaryPage(
        _ query: Operations.ListBeneficiaries.Input.Query
    ) async throws -> Components.Schemas.BeneficiaryPage {
        let response = try await core.beneficiaries.listBeneficiaries(
            .with {
                $0.page(limit: query.limit, cursor: query.cursor)
                if let value = query.gender { $0.gender = value.rawValue }
                if let value = query.verificationStatus { $0.verificationStatus = value.rawValue }
                if let value = query.bankedStatus { $0.bankedStatus = value.rawValue }
                if let value = query.internetStatus { $0.internetStatus = value.rawValue }
                if let value = query.phoneStatus { $0.phoneStatus = value.rawValue }
                if let value = query.createdFrom { $0.createdFrom = Google_Protobuf_Timestamp(date: value) }
                if let value = query.createdTo { $0.createdTo = Google_Protobuf_Timestamp(date: value) }
                if let value = query.walletAddress { $0.walletAddress = value }
                if let value = query.projectId { $0.projectID = value }
                if let value = query.groupId { $0.groupID = value }
            },
            metadata: asCaller
        )
        return try .init(response)
    }

    func searchBeneficiaries(
        _ input: Operations.SearchBeneficiaries.Input
    ) async throws -> Operations.SearchBeneficiaries.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        guard body.name != nil || body.phone != nil || body.nationalId != nil else {
            throw ServiceError.invalid(field: "name", "give name, phone or nationalId")
        }
        let response = try await core.beneficiaries.listBeneficiaries(
            .with {
                $0.page(limit: body.limit, cursor: body.cursor)
                if let value = body.name { $0.name = value }
                if let value = body.phone { $0.phone = value }
                if let value = body.nationalId { $0.nationalID = value }
                if let value = body.country { $0.defaultCountry = value }
                if let value = body.projectId { $0.projectID = value }
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(try .init(response))))
    }

    func createBeneficiary(
        _ input: Operations.CreateBeneficiary.Input
    ) async throws -> Operations.CreateBeneficiary.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let created = try await core.beneficiaries.createBeneficiary(
            .with { $0.beneficiary = .init(body) },
            metadata: asCaller
        )
        return .created(
            .init(headers: .init(location: "/v1/beneficiaries/\(created.id)"), body: .json(try .init(created)))
        )
    }

    func createBeneficiaries(
        _ input: Operations.CreateBeneficiaries.Input
    ) async throws -> Operations.CreateBeneficiaries.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        do {
            let created = try await core.beneficiaries.createBeneficiaries(
                .with { $0.beneficiaries = body.items.map(Rahat_Core_V1_NewBeneficiary.init) },
                metadata: asCaller
            )
            return .created(
                .init(body: .json(.init(items: try created.beneficiaries.map(Components.Schemas.Beneficiary.init)))))
        } catch let error as RPCError {
            throw error.renamingBatchField(from: "beneficiaries", to: "items")
        }
    }

    func getBeneficiary(_ input: Operations.GetBeneficiary.Input) async throws -> Operations.GetBeneficiary.Output {
        let beneficiary = try await core.beneficiaries.getBeneficiary(
            .with { $0.id = input.path.id },
            metadata: asCaller
        )
        return .ok(.init(body: .json(try .init(beneficiary))))
    }

    func updateBeneficiary(
        _ input: Operations.UpdateBeneficiary.Input
    ) async throws -> Operations.UpdateBeneficiary.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let present: [(String, Bool)] = [
            ("name", body.name != nil), ("phone", body.phone != nil), ("email", body.email != nil),
            ("nationalId", body.nationalId != nil), ("gender", body.gender != nil),
            ("birthDate", body.birthDate != nil),
            ("location", body.location != nil), ("latitude", body.latitude != nil),
            ("longitude", body.longitude != nil),
            ("bankedStatus", body.bankedStatus != nil), ("internetStatus", body.internetStatus != nil),
            ("phoneStatus", body.phoneStatus != nil), ("walletAddress", body.walletAddress != nil),
            ("extras", body.extras != nil),
        ]
        let fields = present.filter(\.1).map(\.0)
        guard !fields.isEmpty else { throw ServiceError.invalid(field: "body", "must change at least one field") }
        let updated = try await core.beneficiaries.updateBeneficiary(
            .with {
                $0.id = input.path.id
                $0.changes = Rahat_Core_V1_NewBeneficiary(changes: body)
                $0.fields = fields
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(try .init(updated))))
    }

    func archiveBeneficiary(
        _ input: Operations.ArchiveBeneficiary.Input
    ) async throws -> Operations.ArchiveBeneficiary.Output {
        _ = try await core.beneficiaries.archiveBeneficiary(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .noContent(.init())
    }
}

extension RPCError {
    /// The core service names batch items `beneficiaries[i]`; the HTTP contract calls them `items[i]`.
    func renamingBatchField(from: String, to: String) -> ServiceError {
        var error = ServiceError(self)
        error.violations = error.violations.map { violation in
            guard violation.field.hasPrefix(from + "[") else { return violation }
            return FieldViolation(field: to + violation.field.dropFirst(from.count), reason: violation.reason)
        }
        return error
    }
}

extension Rahat_Core_V1_NewBeneficiary {
    init(_ body: Components.Schemas.NewBeneficiary) {
        self.init()
        name = body.name
        if let value = body.phone { phone = value }
        if let value = body.email { email = value }
        if let value = body.nationalId { nationalID = value }
        if let value = body.gender { gender = value.rawValue }
        if let value = body.birthDate { birthDate = value }
        if let value = body.location { location = value }
        if let value = body.latitude { latitude = value }
        if let value = body.longitude { longitude = value }
        if let value = body.bankedStatus { bankedStatus = value.rawValue }
        if let value = body.internetStatus { internetStatus = value.rawValue }
        if let value = body.phoneStatus { phoneStatus = value.rawValue }
        if let value = body.walletAddress { walletAddress = value }
        if let value = body.extras { extrasJson = APIHandler.json(value.additionalProperties) }
        if let value = body.country { defaultCountry = value }
    }

    init(changes body: Components.Schemas.BeneficiaryChanges) {
        self.init()
        if let value = body.name { name = value }
        if let value = body.phone { phone = value }
        if let value = body.email { email = value }
        if let value = body.nationalId { nationalID = value }
        if let value = body.gender { gender = value.rawValue }
        if let value = body.birthDate { birthDate = value }
        if let value = body.location { location = value }
        if let value = body.latitude { latitude = value }
        if let value = body.longitude { longitude = value }
        if let value = body.bankedStatus { bankedStatus = value.rawValue }
        if let value = body.internetStatus { internetStatus = value.rawValue }
        if let value = body.phoneStatus { phoneStatus = value.rawValue }
        if let value = body.walletAddress { walletAddress = value }
        if let value = body.extras { extrasJson = APIHandler.json(value.additionalProperties) }
        if let value = body.country { defaultCountry = value }
    }
}

extension Components.Schemas.BeneficiaryPage {
    init(_ response: Rahat_Core_V1_ListBeneficiariesResponse) throws {
        self.init(
            items: try response.beneficiaries.map(Components.Schemas.Beneficiary.init),
            nextCursor: response.next)
    }
}

extension Components.Schemas.Beneficiary {
    init(_ beneficiary: Rahat_Core_V1_Beneficiary) throws {
        // Empty when withheld (no `beneficiary_pii:read`); an object otherwise.
        let extras =
            beneficiary.extrasJson.isEmpty
            ? nil
            : try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(beneficiary.extrasJson.utf8))
        let pii = beneficiary.hasPii ? beneficiary.pii : nil
        self.init(
            id: beneficiary.id,
            name: pii?.name,
            phone: pii.flatMap { $0.hasPhone ? $0.phone : nil },
            email: pii.flatMap { $0.hasEmail ? $0.email : nil },
            nationalId: pii.flatMap { $0.hasNationalID ? $0.nationalID : nil },
            gender: Components.Schemas.Gender(rawValue: beneficiary.gender) ?? .unknown,
            birthDate: beneficiary.hasBirthDate ? beneficiary.birthDate : nil,
            location: beneficiary.hasLocation ? beneficiary.location : nil,
            latitude: beneficiary.hasLatitude ? beneficiary.latitude : nil,
            longitude: beneficiary.hasLongitude ? beneficiary.longitude : nil,
            bankedStatus: Components.Schemas.BankedStatus(rawValue: beneficiary.bankedStatus) ?? .unknown,
            internetStatus: Components.Schemas.InternetStatus(rawValue: beneficiary.internetStatus) ?? .unknown,
            phoneStatus: Components.Schemas.PhoneStatus(rawValue: beneficiary.phoneStatus) ?? .unknown,
            walletAddress: beneficiary.hasWalletAddress ? beneficiary.walletAddress : nil,
            verificationStatus: Components.Schemas.VerificationStatus(rawValue: beneficiary.verificationStatus)
                ?? .unverified,
            verificationReason: beneficiary.hasVerificationReason ? beneficiary.verificationReason : nil,
            extras: extras.map { .init(additionalProperties: $0) },
            createdAt: beneficiary.createdAt.date,
            updatedAt: beneficiary.updatedAt.date,
            phoneChangedAt: beneficiary.hasPhoneChangedAt ? beneficiary.phoneChangedAt.date : nil
        )
    }
}
