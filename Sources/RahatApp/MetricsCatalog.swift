import C2CService
import CoreService
import Gateway
import LedgerService
import Messaging
package import MetricCatalog
import Operations
import Persistence
import RedisClient
import ServerKit

extension Platform {
    /// Every metric a Rahat process may expose, as each target declares it: what `rahat metrics`
    /// lists, and what the shipped dashboards and alert rules may name.
    package static let metricCatalog: [MetricDefinition] =
        (ServerKitMetrics.all + GatewayMetrics.all + PersistenceMetrics.all + RedisClientMetrics.all
        + MessagingMetrics.all + CoreServiceMetrics.all + LedgerServiceMetrics.all + C2CServiceMetrics.all
        + ProcessMetrics.all).sorted { $0.name < $1.name }
}
