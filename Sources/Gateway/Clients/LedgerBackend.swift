package import GRPCCore
import LedgerAPI
import ServerKit

/// The ledger service's clients, over whatever transport the process uses.
package struct LedgerBackend: Sendable {
    let ledger: any Rahat_Ledger_V1_LedgerService.ClientProtocol
    let health: any Grpc_Health_V1_Health.ClientProtocol

    package init<Transport: ClientTransport>(client: GRPCClient<Transport>) {
        ledger = Rahat_Ledger_V1_LedgerService.Client(wrapping: client)
        health = Grpc_Health_V1_Health.Client(wrapping: client)
    }
}
