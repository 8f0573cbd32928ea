import CoreAPI
import Foundation
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func listProjects(_ input: Operations.ListProjects.Input) async throws -> Operations.ListProjects.Output {
        let response = try await core.projects.listProjects(
            .with {
                $0.page(limit: input.query.limit, cursor: input.query.cursor)
                if let status = input.query.status { $0.status = status.proto }
                if let type = input.query._type { $0.type = type.proto }
            },
            metadata: asCaller
        )
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try response.projects.map(Components.Schemas.Project.init),
                        nextCursor: response.next
                    )
                )
            )
        )
    }

    func createProject(_ input: Operations.CreateProject.Input) async throws -> Operations.CreateProject.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let project = try await core.projects.createProject(
            .with {
                $0.name = body.name
                if let description = body.description { $0.description_p = description }
                $0.type = body._type.proto
                $0.asset = body.asset
                $0.assetScale = Int32(clamping: body.assetScale)
                if let settings = body.settings { $0.settingsJson = Self.json(settings.additionalProperties) }
                if let country = body.defaultCountry { $0.defaultCountry = country }
            },
            metadata: asCaller
        )
        return .created(.init(headers: .init(location: "/v1/projects/\(project.id)"), body: .json(try .init(project))))
    }

    func getProject(_ input: Operations.GetProject.Input) async throws -> Operations.GetProject.Output {
        let project = try await core.projects.getProject(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(project))))
    }

    func updateProject(_ input: Operations.UpdateProject.Input) async throws -> Operations.UpdateProject.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        if body.name == nil && body.description == nil && body.settings == nil && body.defaultCountry == nil {
            throw ServiceError.invalid(field: "body", "must change at least one field")
        }
        let project = try await core.projects.updateProject(
            .with {
                $0.id = input.path.id
                if let name = body.name { $0.name = name }
                if let description = body.description { $0.description_p = description }
                if let settings = body.settings { $0.settingsJson = Self.json(settings.additionalProperties) }
                if let country = body.defaultCountry { $0.defaultCountry = country }
            },
            metadata: asCaller
        )
        return .ok(.init(body: .json(try .init(project))))
    }

    func activateProject(_ input: Operations.ActivateProject.Input) async throws -> Operations.ActivateProject.Output {
        let project = try await core.projects.activateProject(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(project))))
    }

    func closeProject(_ input: Operations.CloseProject.Input) async throws -> Operations.CloseProject.Output {
        let project = try await core.projects.closeProject(
            .with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(try .init(project))))
    }

    /// Settings travel between services as JSON text.
    static func json(_ object: OpenAPIObjectContainer) -> String {
        (try? JSONEncoder().encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension Components.Schemas.Project {
    init(_ project: Rahat_Core_V1_Project) throws {
        let settings = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(project.settingsJson.utf8))
        self.init(
            id: project.id,
            name: project.name,
            description: project.hasDescription_p ? project.description_p : nil,
            _type: project.type == .cva ? .cva : .c2c,
            status: Components.Schemas.ProjectStatus(project.status),
            asset: project.asset,
            assetScale: Int(project.assetScale),
            settings: .init(additionalProperties: settings),
            defaultCountry: project.hasDefaultCountry ? project.defaultCountry : nil,
            createdAt: project.createdAt.date,
            updatedAt: project.updatedAt.date,
            activatedAt: project.hasActivatedAt ? project.activatedAt.date : nil,
            closedAt: project.hasClosedAt ? project.closedAt.date : nil
        )
    }
}

extension Components.Schemas.ProjectStatus {
    init(_ status: Rahat_Core_V1_ProjectStatus) {
        switch status {
        case .active: self = .active
        case .closed: self = .closed
        default: self = .draft
        }
    }

    var proto: Rahat_Core_V1_ProjectStatus {
        switch self {
        case .draft: .draft
        case .active: .active
        case .closed: .closed
        }
    }
}

extension Components.Schemas.ProjectType {
    var proto: Rahat_Core_V1_ProjectType {
        switch self {
        case .c2c: .c2C
        case .cva: .cva
        }
    }
}

extension APIHandler {
    func listProjectBeneficiaries(
        _ input: Operations.ListProjectBeneficiaries.Input
    ) async throws -> Operations.ListProjectBeneficiaries.Output {
        let query = input.query
        let page = try await beneficiaryPage(
            .init(
                limit: query.limit, cursor: query.cursor, gender: query.gender,
                verificationStatus: query.verificationStatus, bankedStatus: query.bankedStatus,
                internetStatus: query.internetStatus, phoneStatus: query.phoneStatus, createdFrom: query.createdFrom,
                createdTo: query.createdTo, projectId: input.path.id, groupId: query.groupId))
        return .ok(.init(body: .json(page)))
    }

    func enrolBeneficiaries(
        _ input: Operations.EnrolBeneficiaries.Input
    ) async throws -> Operations.EnrolBeneficiaries.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let result = try await core.projects.enrolBeneficiaries(
            .with {
                $0.projectID = input.path.id
                $0.beneficiaryIds = body.beneficiaryIds ?? []
                if let group = body.groupId { $0.groupID = group }
                if let filter = body.filter { $0.filter = .init(filter) }
                $0.type = body._type == .referred ? .referred : .enrolled
            },
            metadata: asCaller
        )
        return .ok(
            .init(body: .json(.init(enrolled: Int(result.enrolled), alreadyEnrolled: Int(result.alreadyEnrolled)))))
    }

    func unenrolBeneficiary(
        _ input: Operations.UnenrolBeneficiary.Input
    ) async throws -> Operations.UnenrolBeneficiary.Output {
        _ = try await core.projects.unenrolBeneficiary(
            .with {
                $0.projectID = input.path.id
                $0.beneficiaryID = input.path.beneficiaryId
            },
            metadata: asCaller
        )
        return .noContent(.init())
    }
}

extension APIHandler {
    func getProjectStats(_ input: Operations.GetProjectStats.Input) async throws -> Operations.GetProjectStats.Output {
        let stats = try await core.projects.getProjectStats(
            .with { $0.projectID = input.path.id }, metadata: asCaller)
        func counts(_ map: [String: Int64]) -> [String: Int] { map.mapValues { Int($0) } }
        return .ok(
            .init(
                body: .json(
                    .init(
                        projectId: stats.projectID,
                        beneficiaries: Int(stats.beneficiaries),
                        byVerificationStatus: .init(additionalProperties: counts(stats.byVerificationStatus)),
                        byGender: .init(additionalProperties: counts(stats.byGender)),
                        byPhoneStatus: .init(additionalProperties: counts(stats.byPhoneStatus)),
                        vendors: .init(active: Int(stats.vendorsActive), inactive: Int(stats.vendorsInactive)),
                        receivedTotal: stats.receivedTotal,
                        beneficiariesReceived: Int(stats.beneficiariesReceived)
                    )
                )
            )
        )
    }
}

extension Rahat_Core_V1_BeneficiaryFilter {
    init(_ filter: Components.Schemas.BeneficiaryFilter) {
        self = .with {
            if let value = filter.gender { $0.gender = value.rawValue }
            if let value = filter.verificationStatus { $0.verificationStatus = value.rawValue }
            if let value = filter.bankedStatus { $0.bankedStatus = value.rawValue }
            if let value = filter.internetStatus { $0.internetStatus = value.rawValue }
            if let value = filter.phoneStatus { $0.phoneStatus = value.rawValue }
            if let value = filter.createdFrom { $0.createdFrom = Google_Protobuf_Timestamp(date: value) }
            if let value = filter.createdTo { $0.createdTo = Google_Protobuf_Timestamp(date: value) }
            if let value = filter.projectId { $0.projectID = value }
            if let value = filter.groupId { $0.groupID = value }
        }
    }
}
