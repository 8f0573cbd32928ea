import C2CAPI
package import GRPCCore
import ServerKit

/// project-c2c's clients, over whatever transport the process uses.
package struct C2CBackend: Sendable {
    let funds: any Rahat_C2c_V1_ProjectFundsService.ClientProtocol
    let disbursements: any Rahat_C2c_V1_DisbursementService.ClientProtocol
    let redemptions: any Rahat_C2c_V1_RedemptionService.ClientProtocol
    let settlements: any Rahat_C2c_V1_SettlementService.ClientProtocol
    let health: any Grpc_Health_V1_Health.ClientProtocol

    package init<Transport: ClientTransport>(client: GRPCClient<Transport>) {
        funds = Rahat_C2c_V1_ProjectFundsService.Client(wrapping: client)
        disbursements = Rahat_C2c_V1_DisbursementService.Client(wrapping: client)
        redemptions = Rahat_C2c_V1_RedemptionService.Client(wrapping: client)
        settlements = Rahat_C2c_V1_SettlementService.Client(wrapping: client)
        health = Grpc_Health_V1_Health.Client(wrapping: client)
    }
}
