import CoreAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// `rahat.core.v1.ImportService` over the core domain.
struct ImportRPC: Rahat_Core_V1_ImportService.ServiceProtocol {
    let domain: CoreDomain

    func uploadImport(
        request: StreamingServerRequest<Rahat_Core_V1_UploadImportRequest>,
        context: ServerContext
    ) async throws -> ServerResponse<Rahat_Core_V1_Import> {
        let caller = try await domain.caller()
        var messages = request.messages.makeAsyncIterator()
        guard let first = try await messages.next(), case .options(let options)? = first.part else {
            throw CoreError.invalidInput([FieldViolation(field: "options", reason: "must be the first message")])
        }
        var upload = try await domain.beginImport(ImportOptionsInput(options), by: caller)
        let info: ImportInfo
        do {
            while let message = try await messages.next() {
                guard case .chunk(let bytes)? = message.part else {
                    throw CoreError.invalidInput([FieldViolation(field: "options", reason: "must be sent only once")])
                }
                try await upload.append(bytes)
            }
            info = try await upload.finish()
        } catch {
            await upload.abandon()
            throw error
        }
        return ServerResponse(message: Rahat_Core_V1_Import(info))
    }

    func getImport(
        request: ServerRequest<Rahat_Core_V1_GetImportRequest>,
        context: ServerContext
    ) async throws -> ServerResponse<Rahat_Core_V1_Import> {
        let info = try await domain.getImport(request.message.id, by: try await domain.caller())
        return ServerResponse(message: Rahat_Core_V1_Import(info))
    }

    func listImports(
        request: ServerRequest<Rahat_Core_V1_ListImportsRequest>,
        context: ServerContext
    ) async throws -> ServerResponse<Rahat_Core_V1_ListImportsResponse> {
        let (imports, next) = try await domain.listImports(
            limit: request.message.limit == 0 ? 50 : Int(request.message.limit),
            cursor: request.message.hasCursor ? request.message.cursor : nil,
            by: try await domain.caller()
        )
        return ServerResponse(
            message: .with {
                $0.imports = imports.map(Rahat_Core_V1_Import.init)
                if let next { $0.nextCursor = next }
            })
    }

    func getImportRejects(
        request: ServerRequest<Rahat_Core_V1_GetImportRejectsRequest>,
        context: ServerContext
    ) async throws -> StreamingServerResponse<Rahat_Core_V1_ImportRejectsChunk> {
        let caller = try await domain.caller()
        // Checked before the stream opens, so an unknown import is an error, not an empty file.
        _ = try await domain.getImport(request.message.id, by: caller)
        let domain = domain
        return StreamingServerResponse { writer in
            try await domain.importRejects(request.message.id, by: caller) { data in
                try await writer.write(.with { $0.data = data })
            }
            return [:]
        }
    }
}

extension ImportOptionsInput {
    init(_ options: Rahat_Core_V1_ImportOptions) {
        let policy: DuplicatePolicy =
            switch options.onDuplicate {
            case .skip: .skip
            case .update: .update
            default: .reject
            }
        self.init(
            format: options.format == .jsonLines ? .jsonLines : .csv,
            projectID: options.hasProjectID ? options.projectID : nil,
            groupID: options.hasGroupID ? options.groupID : nil,
            onDuplicate: policy,
            defaultCountry: options.hasDefaultCountry ? options.defaultCountry : nil,
            fileName: options.hasFileName ? options.fileName : nil
        )
    }
}

extension Rahat_Core_V1_Import {
    init(_ info: ImportInfo) {
        self = .with {
            $0.id = info.id.lowercasedString
            $0.status =
                switch info.status {
                case .queued, .uploading: .queued
                case .running: .running
                case .completed: .completed
                case .failed: .failed
                }
            $0.options = .with {
                $0.format = info.format == .jsonLines ? .jsonLines : .csv
                if let project = info.projectID { $0.projectID = project.lowercasedString }
                if let group = info.groupID { $0.groupID = group.lowercasedString }
                $0.onDuplicate =
                    switch info.onDuplicate {
                    case .reject: .reject
                    case .skip: .skip
                    case .update: .update
                    }
                if let country = info.defaultCountry { $0.defaultCountry = country }
                if let name = info.fileName { $0.fileName = name }
            }
            $0.bytes = Int64(info.bytes)
            $0.rows = Int64(info.rows)
            $0.created = Int64(info.created)
            $0.updated = Int64(info.updated)
            $0.duplicates = Int64(info.duplicates)
            $0.rejected = Int64(info.rejected)
            if let error = info.error { $0.error = error }
            $0.createdBy = info.createdBy.lowercasedString
            $0.createdAt = Google_Protobuf_Timestamp(date: info.createdAt)
            if let started = info.startedAt { $0.startedAt = Google_Protobuf_Timestamp(date: started) }
            if let finished = info.finishedAt { $0.finishedAt = Google_Protobuf_Timestamp(date: finished) }
            $0.sha256 = info.sha256
            $0.jobID = CoreDomain.importJobID(info.id)
        }
    }
}
