import ArgumentParser
import Foundation
import PlumbAPI

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "The nodes sharing one PostgreSQL: who leads and how each node is.",
        subcommands: [Status.self], defaultSubcommand: Status.self)

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every node, the leader, and each node's health (GET /api/v1/cluster).",
            discussion: """
                ALIVE is whether the node's heartbeat (every 2 s) came within the last 6 s; LEADER marks the node \
                whose session holds the leader lease, which runs the work that must happen once. A server on the \
                embedded stores is a cluster of one.
                """)
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/cluster")
            if client.output == .json { return client.printJSON(body) }
            let status = try client.decode(ClusterStatus.self, body)
            if !status.clustered {
                print("not clustered: \(status.node) keeps its state in its own data directory (no storage.postgres)")
                return
            }
            print(
                table(
                    ["NODE", "LEADER", "ALIVE", "READY", "VERSION", "LAST SEEN", "URL"],
                    status.nodes.map {
                        [
                            $0.name + ($0.name == status.node ? " (answered)" : ""), $0.leader ? "leader" : "-",
                            $0.alive ? "yes" : "NO", $0.ready ? "yes" : "no", $0.version, $0.lastSeen, $0.url,
                        ]
                    }))
            let alive = status.nodes.filter(\.alive).count
            print(
                "\(alive) of \(status.nodes.count) nodes alive; "
                    + (status.leader.map { "leader: \($0)" }
                        ?? "NO LEADER right now (a new one is taken within seconds)"))
        }
    }
}
