import ArgumentParser
import PlumbAPI

@main
struct Plumb: AsyncParsableCommand {
    static let version = PlumbVersion.current

    static let configuration = CommandConfiguration(
        commandName: "plumb",
        abstract: "Self-hosted observability and serverless-workload platform.",
        discussion: """
            `plumb serve` runs the server (metrics store, plugin host, HTTP API). The other commands are \
            clients of a running server and find it through --server (default http://127.0.0.1:9400) and \
            the admin token through --token, $PLUMB_TOKEN or the admin.token file in the data directory.
            """,
        version: version,
        subcommands: [
            Serve.self, MetricsCommand.self, FunctionsCommand.self, AlarmsCommand.self, SilenceCommand.self,
            TopicsCommand.self, LogsCommand.self, AuditCommand.self, ClusterCommand.self, UsageCommand.self,
            CostCommand.self, BudgetsCommand.self,
            CheckCommand.self, LoadCommand.self, DashCommand.self, SensorsCommand.self, UsersCommand.self,
            GroupsCommand.self, PoliciesCommand.self, IAMCommand.self, LoginCommand.self, PasswdCommand.self,
            MFACommand.self,
            DocumentsCommand.self, BenchAuthCommand.self,
            TestAlarmsCommand.self, BenchAlarmsCommand.self, BenchLogsCommand.self, BenchInvokeCommand.self,
            BenchChatCommand.self, BenchClassifierCommand.self, BenchPayloadCommand.self, VersionCommand.self,
        ]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version of plumb.")

    func run() {
        print("plumb \(Plumb.version)")
    }
}
