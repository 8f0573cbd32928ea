import CoreAPI
package import GRPCCore
import ServerKit

/// The core service as the gateway reaches it: its generated clients over one connection.
package struct CoreBackend: Sendable {
    let projects: any Rahat_Core_V1_ProjectService.ClientProtocol
    let beneficiaries: any Rahat_Core_V1_BeneficiaryService.ClientProtocol
    let groups: any Rahat_Core_V1_GroupService.ClientProtocol
    let vendors: any Rahat_Core_V1_VendorService.ClientProtocol
    let imports: any Rahat_Core_V1_ImportService.ClientProtocol
    let verification: any Rahat_Core_V1_VerificationService.ClientProtocol
    let health: any Grpc_Health_V1_Health.ClientProtocol

    package init<Transport: ClientTransport>(client: GRPCClient<Transport>) {
        projects = Rahat_Core_V1_ProjectService.Client(wrapping: client)
        beneficiaries = Rahat_Core_V1_BeneficiaryService.Client(wrapping: client)
        groups = Rahat_Core_V1_GroupService.Client(wrapping: client)
        vendors = Rahat_Core_V1_VendorService.Client(wrapping: client)
        imports = Rahat_Core_V1_ImportService.Client(wrapping: client)
        verification = Rahat_Core_V1_VerificationService.Client(wrapping: client)
        health = Grpc_Health_V1_Health.Client(wrapping: client)
    }
}
