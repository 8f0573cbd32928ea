import CoreAPI
import GRPCCore
import SharedModels
import SwiftProtobuf

extension ProjectRPC {
    func enrolBeneficiaries(
        request: Rahat_Core_V1_EnrolBeneficiariesRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_EnrolBeneficiariesResponse {
        let (enrolled, already) = try await domain.enrol(
            projectID: request.projectID,
            beneficiaryIDs: request.beneficiaryIds,
            groupID: request.hasGroupID ? request.groupID : nil,
            filter: request.hasFilter ? BeneficiaryFilter(request.filter) : nil,
            type: request.type == .referred ? .referred : .enrolled,
            by: try await domain.caller()
        )
        return .with {
            $0.enrolled = Int32(enrolled)
            $0.alreadyEnrolled = Int32(already)
        }
    }

    func unenrolBeneficiary(
        request: Rahat_Core_V1_UnenrolBeneficiaryRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_UnenrolBeneficiaryResponse {
        try await domain.unenrol(
            projectID: request.projectID, beneficiaryID: request.beneficiaryID, by: try await domain.caller())
        return Rahat_Core_V1_UnenrolBeneficiaryResponse()
    }

    func listEnrolments(
        request: Rahat_Core_V1_ListEnrolmentsRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_ListEnrolmentsResponse {
        let (items, next) = try await domain.listEnrolments(
            projectID: request.projectID,
            limit: request.limit == 0 ? 50 : Int(request.limit),
            cursor: request.hasCursor ? request.cursor : nil,
            by: try await domain.caller()
        )
        return .with {
            $0.enrolments = items.map { item in
                .with {
                    $0.beneficiaryID = item.beneficiaryID.lowercasedString
                    $0.type = item.type == .referred ? .referred : .enrolled
                    $0.enrolledAt = Google_Protobuf_Timestamp(date: item.enrolledAt)
                }
            }
            if let next { $0.nextCursor = next }
        }
    }
}

extension ProjectRPC {
    func getProjectStats(
        request: Rahat_Core_V1_GetProjectStatsRequest,
        context: ServerContext
    ) async throws -> Rahat_Core_V1_ProjectStats {
        let stats = try await domain.projectStats(request.projectID, by: try await domain.caller())
        return .with {
            $0.projectID = request.projectID.lowercased()
            $0.beneficiaries = Int64(stats.beneficiaries)
            $0.byVerificationStatus = stats.byVerificationStatus.mapValues(Int64.init)
            $0.byGender = stats.byGender.mapValues(Int64.init)
            $0.byPhoneStatus = stats.byPhoneStatus.mapValues(Int64.init)
            $0.vendorsActive = Int64(stats.vendorsActive)
            $0.vendorsInactive = Int64(stats.vendorsInactive)
            $0.receivedTotal = stats.receivedTotal
            $0.beneficiariesReceived = Int64(stats.beneficiariesReceived)
        }
    }
}

extension BeneficiaryFilter {
    init(_ message: Rahat_Core_V1_BeneficiaryFilter) {
        self.init(
            gender: message.hasGender ? message.gender : nil,
            verificationStatus: message.hasVerificationStatus ? message.verificationStatus : nil,
            bankedStatus: message.hasBankedStatus ? message.bankedStatus : nil,
            internetStatus: message.hasInternetStatus ? message.internetStatus : nil,
            phoneStatus: message.hasPhoneStatus ? message.phoneStatus : nil,
            createdFrom: message.hasCreatedFrom ? message.createdFrom.date : nil,
            createdTo: message.hasCreatedTo ? message.createdTo.date : nil,
            projectID: message.hasProjectID ? message.projectID : nil,
            groupID: message.hasGroupID ? message.groupID : nil
        )
    }
}

extension ProjectRPC {
    func streamRoster(
        request: Rahat_Core_V1_StreamRosterRequest,
        response: RPCWriter<Rahat_Core_V1_RosterChunk>,
        context: ServerContext
    ) async throws {
        // Planned first, so a bad request is an error status, not an empty stream.
        let plan = try await domain.planRoster(
            projectID: request.projectID, groupID: request.hasGroupID ? request.groupID : nil,
            filter: request.hasFilter ? BeneficiaryFilter(request.filter) : nil, beneficiaryIDs: request.beneficiaryIds,
            by: try await domain.caller())
        try await domain.streamRoster(plan) { entries in
            try await response.write(
                .with {
                    $0.entries = entries.map { entry in
                        .with {
                            $0.beneficiaryID = entry.beneficiaryID.lowercasedString
                            $0.enrolled = entry.enrolled
                            $0.verificationStatus = entry.verificationStatus
                            $0.archived = entry.archived
                        }
                    }
                })
        }
    }
}
