import CoreAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.core.v1.ProjectService` over the core domain.
struct ProjectRPC: Rahat_Core_V1_ProjectService.SimpleServiceProtocol {
    let domain: CoreDomain

    func createProject(
        request: Rahat_Core_V1_CreateProjectRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Project {
        let project = try await domain.createProject(
            NewProject(
                name: request.name,
                description: request.hasDescription_p ? request.description_p : nil,
                type: ProjectType(request.type),
                asset: request.asset,
                assetScale: Int(request.assetScale),
                settingsJSON: request.hasSettingsJson ? request.settingsJson : nil,
                defaultCountry: request.hasDefaultCountry ? request.defaultCountry : nil
            ),
            by: try await domain.caller()
        )
        return Rahat_Core_V1_Project(project)
    }

    func getProject(
        request: Rahat_Core_V1_GetProjectRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Project {
        Rahat_Core_V1_Project(try await domain.getProject(request.id, by: try await domain.caller()))
    }

    func listProjects(
        request: Rahat_Core_V1_ListProjectsRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_ListProjectsResponse {
        let (projects, next) = try await domain.listProjects(
            limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil,
            status: request.hasStatus ? ProjectStatus(request.status) : nil,
            type: request.hasType ? ProjectType(request.type) : nil,
            by: try await domain.caller()
        )
        return .with {
            $0.projects = projects.map(Rahat_Core_V1_Project.init)
            if let next { $0.nextCursor = next }
        }
    }

    func updateProject(
        request: Rahat_Core_V1_UpdateProjectRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Project {
        let changes = ProjectChanges(
            name: request.hasName ? request.name : nil,
            description: request.hasDescription_p ? request.description_p : nil,
            settingsJSON: request.hasSettingsJson ? request.settingsJson : nil,
            defaultCountry: request.hasDefaultCountry ? request.defaultCountry : nil
        )
        return Rahat_Core_V1_Project(
            try await domain.updateProject(request.id, changes: changes, by: try await domain.caller()))
    }

    func activateProject(
        request: Rahat_Core_V1_ProjectLifecycleRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Project {
        Rahat_Core_V1_Project(try await domain.activateProject(request.id, by: try await domain.caller()))
    }

    func closeProject(
        request: Rahat_Core_V1_ProjectLifecycleRequest, context: ServerContext
    ) async throws -> Rahat_Core_V1_Project {
        Rahat_Core_V1_Project(try await domain.closeProject(request.id, by: try await domain.caller()))
    }
}

extension ProjectType {
    init?(_ proto: Rahat_Core_V1_ProjectType) {
        switch proto {
        case .c2C: self = .c2c
        case .cva: self = .cva
        default: return nil
        }
    }

    var proto: Rahat_Core_V1_ProjectType {
        switch self {
        case .c2c: .c2C
        case .cva: .cva
        }
    }
}

extension ProjectStatus {
    init?(_ proto: Rahat_Core_V1_ProjectStatus) {
        switch proto {
        case .draft: self = .draft
        case .active: self = .active
        case .closed: self = .closed
        default: return nil
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

extension Rahat_Core_V1_Project {
    init(_ project: ProjectInfo) {
        self.init()
        id = project.id.lowercasedString
        name = project.name
        if let description = project.description { description_p = description }
        type = project.type.proto
        status = project.status.proto
        asset = project.asset
        assetScale = Int32(project.assetScale)
        settingsJson = project.settingsJSON
        if let country = project.defaultCountry { defaultCountry = country }
        createdAt = Google_Protobuf_Timestamp(date: project.createdAt)
        updatedAt = Google_Protobuf_Timestamp(date: project.updatedAt)
        if let activatedAt = project.activatedAt { self.activatedAt = Google_Protobuf_Timestamp(date: activatedAt) }
        if let closedAt = project.closedAt { self.closedAt = Google_Protobuf_Timestamp(date: closedAt) }
    }
}
