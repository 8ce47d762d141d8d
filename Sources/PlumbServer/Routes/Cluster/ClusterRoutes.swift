import Foundation
import Hummingbird
import PlumbAPI
import PlumbPostgres

/// `GET /api/v1/cluster`: the nodes sharing this node's PostgreSQL, the leader, and each node's health. A node on the
/// embedded stores answers as a cluster of one.
struct ClusterRoutes {
    let membership: ClusterMembership?
    let node: String
    let url: String
    let isReady: @Sendable () -> Bool

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("cluster", use: status)
    }

    @Sendable func status(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        guard let membership else {
            let now = TimeParsing.format(Int64(Date().timeIntervalSince1970))
            let me = ClusterNode(
                name: node, url: url, version: PlumbVersion.current, startedAt: now, lastSeen: now, alive: true,
                leader: true, ready: isReady())
            return try .json(ClusterStatus(clustered: false, node: node, leader: node, nodes: [me]))
        }
        return try .json(try await membership.status())
    }
}
