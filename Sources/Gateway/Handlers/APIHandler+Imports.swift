import CoreAPI
import Foundation
import GRPCCore
import OpenAPIRuntime
import ServerKit
import SwiftProtobuf

extension APIHandler {
    func createImport(_ input: Operations.CreateImport.Input) async throws -> Operations.CreateImport.Output {
        let query = input.query
        let format: Rahat_Core_V1_ImportFormat
        let file: HTTPBody
        switch input.body {
        case .csv(let body):
            format = .csv
            file = body
        case .applicationXNdjson(let body):
            format = .jsonLines
            file = body
        case .multipartForm(let parts):
            format = .csv
            file = try await Self.filePart(of: parts)
        }
        let options = Rahat_Core_V1_ImportOptions.with {
            $0.format = format
            if let project = query.projectId { $0.projectID = project }
            if let group = query.groupId { $0.groupID = group }
            $0.onDuplicate =
                switch query.onDuplicate {
                case .skip: .skip
                case .update: .update
                case .reject, nil: .reject
                }
            if let country = query.country { $0.defaultCountry = country }
            if let name = query.fileName { $0.fileName = name }
        }
        // The body is forwarded as it arrives; neither the gateway nor the service holds it whole.
        let created = try await core.imports.uploadImport(metadata: asCaller) { writer in
            try await writer.write(.with { $0.options = options })
            for try await chunk in file {
                try await writer.write(.with { $0.chunk = Data(chunk) })
            }
        }
        return .accepted(.init(headers: .init(location: "/v1/imports/\(created.id)"), body: .json(.init(created))))
    }

    /// The `file` part of a multipart upload; other parts are refused so nothing is ignored unseen.
    static func filePart(
        of parts: MultipartBody<Operations.CreateImport.Input.Body.MultipartFormPayload>
    )
        async throws -> HTTPBody
    {
        do {
            for try await part in parts {
                switch part {
                case .file(let file): return file.payload.body
                case .undocumented(let raw):
                    throw ServiceError.invalid(
                        field: raw.name ?? "part", "is not an accepted part; send the file as 'file'")
                }
            }
        } catch let error as ServiceError {
            throw error
        } catch {
            // The runtime checks the parts as they stream: a body with no `file` part, or one
            // that is not multipart at all, ends the sequence with its own (internal) error.
            throw ServiceError.invalid(
                field: "file", "is required, as a part of a well-formed multipart/form-data body")
        }
        throw ServiceError.invalid(field: "file", "is required")
    }

    func getImport(_ input: Operations.GetImport.Input) async throws -> Operations.GetImport.Output {
        let found = try await core.imports.getImport(.with { $0.id = input.path.id }, metadata: asCaller)
        return .ok(.init(body: .json(.init(found))))
    }

    func listImports(_ input: Operations.ListImports.Input) async throws -> Operations.ListImports.Output {
        let response = try await core.imports.listImports(
            .with {
                $0.page(limit: input.query.limit, cursor: input.query.cursor)
            },
            metadata: asCaller
        )
        let items = response.imports.map(Components.Schemas.Import.init)
        return .ok(
            .init(body: .json(.init(items: items, nextCursor: response.next))))
    }

    func getImportRejects(_ input: Operations.GetImportRejects.Input) async throws -> Operations.GetImportRejects.Output
    {
        let request = Rahat_Core_V1_GetImportRejectsRequest.with { $0.id = input.path.id }
        let metadata = try asCaller
        let imports = core.imports
        // Look the import up first so an unknown id is a 404, not an empty file.
        _ = try await imports.getImport(.with { $0.id = input.path.id }, metadata: metadata)
        let (stream, continuation) = AsyncThrowingStream<ArraySlice<UInt8>, any Error>.makeStream()
        let task = Task {
            do {
                try await imports.getImportRejects(request, metadata: metadata) { response in
                    for try await chunk in response.messages {
                        continuation.yield(ArraySlice(chunk.data))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return .ok(.init(body: .csv(HTTPBody(stream, length: .unknown, iterationBehavior: .single))))
    }
}

extension Components.Schemas.Import {
    init(_ found: Rahat_Core_V1_Import) {
        let options = found.options
        let status: Components.Schemas.Import.StatusPayload =
            switch found.status {
            case .running: .running
            case .completed: .completed
            case .failed: .failed
            default: .queued
            }
        let policy: Components.Schemas.Import.OnDuplicatePayload =
            switch options.onDuplicate {
            case .skip: .skip
            case .update: .update
            default: .reject
            }
        self.init(
            id: found.id,
            status: status,
            format: options.format == .jsonLines ? .jsonl : .csv,
            projectId: options.hasProjectID ? options.projectID : nil,
            groupId: options.hasGroupID ? options.groupID : nil,
            onDuplicate: policy,
            country: options.hasDefaultCountry ? options.defaultCountry : nil,
            fileName: options.hasFileName ? options.fileName : nil,
            bytes: Int(found.bytes),
            rows: Int(found.rows),
            created: Int(found.created),
            updated: Int(found.updated),
            duplicates: Int(found.duplicates),
            rejected: Int(found.rejected),
            error: found.hasError ? found.error : nil,
            sha256: found.sha256,
            jobId: found.jobID,
            createdBy: found.createdBy,
            createdAt: found.createdAt.date,
            startedAt: found.hasStartedAt ? found.startedAt.date : nil,
            finishedAt: found.hasFinishedAt ? found.finishedAt.date : nil
        )
    }
}
