import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import Metrics
import NIOCore
import PlumbAPI
import PlumbAlarms
import PlumbHost
import PlumbIAM
import PlumbKit
import PlumbLogs
import PlumbMetrics
import PlumbNotify
import PlumbOpen
import PlumbPostgres
import PlumbStore
import PlumbVictoriaMetrics
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The composition root: opens the stores, loads the plugins, builds the router and runs every long-running
/// part as a `Service` in one `ServiceGroup`.
///
/// On SIGTERM/SIGINT the group shuts down in reverse order: the HTTP server stops accepting and drains
/// in-flight requests, the metrics reporter reports once more, and the store flushes its head.
public final class PlumbServer: Sendable {
    public let config: ServerConfig
    /// The metric store every part reads and writes through (the embedded engine or VictoriaMetrics).
    public let store: any MetricStoring & MetricSampleSink
    /// The embedded engine when it is the store: its head is flushed and its retention run by this process.
    let embeddedStore: MetricStore?
    public let host: PluginHost
    public let factory: PlumbMetricsFactory
    public let token: String
    public let limits: IngestLimits
    public let alarms: AlarmEngine
    public let outbox: any NotificationStoring
    public let logs: any LogStoring
    /// The shared PostgreSQL when a store lives there (`storage.logs: postgres`).
    public let postgres: PostgresStore?
    /// With `postgres`: the leader lease (work that must happen once runs only while it is held) and this node's
    /// heartbeat among the others.
    public let lease: LeaderLease?
    let membership: ClusterMembership?
    public let asyncQueue: any AsyncEventStoring
    public let asyncDispatcher: AsyncDispatcher
    public let scheduler: Scheduler
    /// Where the process's own log events queue for the store (nil in tests that do not capture logs).
    public let logSink: LogSink?
    public let deliverySettings: DeliveryService.Settings
    /// Users, groups, policies and API tokens of the platform API.
    public let iam: IAM
    /// WebSocket endpoints of the plugins.
    let webSockets: WebSocketGateway
    /// The listener's certificate when `tls:` is configured; SIGHUP reads it again.
    public let certificates: CertificateStore?
    /// Signs and checks the links of alarm mails to the read-only alarm page.
    public let alarmLinks: AlarmLinks
    /// Signs the SNS-format messages of subscriptions made through the SNS API; its certificate is served at
    /// `GET /sns/SimpleNotificationService-….pem`.
    public let snsMessages: SNSMessages
    /// The Lambda handlers, from the config file and made through the API.
    let lambdaFunctions: LambdaFunctions
    let logger: Logger
    /// Set once the listener runs; shared with the cluster heartbeat, which is built before the server is whole.
    let ready = ReadyFlag()
    /// Serialises alert-file reloads (SIGHUP and the API).
    let reloading = AsyncLock()
    /// sd_notify; inert unless systemd (or a test) set NOTIFY_SOCKET.
    public let systemd = SystemdNotifier()
    let watchdog = Mutex<RepeatedTask?>(nil)
    /// Scrapes `scrape_configs` (the leader only, in a cluster).
    let scrapeService: ScrapeService
    /// Costs usage and figures budgets once a window (the leader only, in a cluster).
    public let usage: UsageService
    /// The log store under its usage meter.
    var storedLogs: any LogStoring { (logs as? MeteredLogStore)?.base ?? logs }
    /// OpenTelemetry's cumulative points since this process started, shared by both OTLP listeners.
    let otlpTracker = CumulativeTracker(epochNanos: UInt64(max(0, Date().timeIntervalSince1970)) * 1_000_000_000)

    /// The audit trail's name for the holder of `token`.
    public static func auditActor(for token: String) -> String { AuditMiddleware.tokenID(token) }

    /// The `STATUS=` line: what is served and what is alarming.
    var statusLine: String {
        let alarming = alarms.stateCounts()[.alarm] ?? 0
        return "serving \(host.functions.count) functions, \(alarms.count) alarms (\(alarming) in ALARM)"
    }

    init(
        config: ServerConfig, store: any MetricStoring & MetricSampleSink, host: PluginHost,
        factory: PlumbMetricsFactory, token: String,
        alarms: AlarmEngine, outbox: any NotificationStoring, logs: any LogStoring, postgres: PostgresStore?,
        logSink: LogSink?,
        asyncQueue: any AsyncEventStoring,
        asyncDispatcher: AsyncDispatcher, scheduler: Scheduler, deliverySettings: DeliveryService.Settings,
        iam: IAM,
        certificates: CertificateStore?, alarmLinks: AlarmLinks, snsMessages: SNSMessages,
        lambdaFunctions: LambdaFunctions, prices: PriceTable, logger: Logger
    ) {
        self.lambdaFunctions = lambdaFunctions
        self.iam = iam
        self.alarmLinks = alarmLinks
        self.snsMessages = snsMessages
        self.certificates = certificates
        self.config = config
        self.store = store
        self.embeddedStore = store as? MetricStore
        self.host = host
        self.webSockets = WebSocketGateway(host: host, settings: config.webSocket.gatewaySettings)
        self.factory = factory
        self.token = token
        self.limits = IngestLimits()
        self.alarms = alarms
        self.outbox = outbox
        self.logs = logs
        self.postgres = postgres
        if let postgres {
            let lease = LeaderLease(settings: postgres.settings, node: config.nodeName)
            self.lease = lease
            membership = ClusterMembership(
                node: config.nodeName, url: config.nodeURL, version: PlumbVersion.current, database: postgres,
                lease: lease, isReady: { [ready] in ready.isSet })
        } else {
            lease = nil
            membership = nil
        }
        self.logSink = logSink
        self.asyncQueue = asyncQueue
        self.asyncDispatcher = asyncDispatcher
        self.scheduler = scheduler
        self.deliverySettings = deliverySettings
        self.logger = logger
        let lease = self.lease
        self.scrapeService = ScrapeService(
            jobs: config.scrapeConfigs, store: store, limits: IngestLimits(),
            resolution: StorageResolution(rawValue: config.metrics.lineProtocolResolution) ?? .standard,
            leads: { lease?.isLeader ?? true })
        var usageSettings = UsageService.Settings(interval: Int64(config.usage.intervalSeconds), prices: prices)
        usageSettings.pluginsDirectory = config.dataDirectory + "/plugins"
        usageSettings.functionTags = config.functions.mapValues(\.tags).filter { !$0.value.isEmpty }
        self.usage = UsageService(
            store: store, logs: logs, settings: usageSettings,
            alarms: alarms, leads: { lease?.isLeader ?? true })
    }

    /// Opens the data directory, the stores and the admin token, loads `plugins` and applies the configured
    /// reserved concurrency. The data directory is made owner-only first (`secureDataDirectory`), and the secrets key
    /// it loads seals webhook secrets and TOTP seeds in the outbox, IAM and plugins.
    ///
    /// Each part gets what it needs here, when it is built: the plugin host its platform (outbox, audit trail, mail,
    /// secrets), the log store the metric store as the sink of its metric filters, the alarm engine its notifier, the
    /// async dispatcher its failure destination.
    public static func open(
        config: ServerConfig, plugins: [any Plugin.Type], factory: PlumbMetricsFactory,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "plumb.server"), logSink: LogSink? = nil
    ) async throws -> PlumbServer {
        // First, before any store is opened: a certificate that cannot be read is a configuration error.
        let certificates = try config.tls.map { try CertificateStore(settings: $0) }
        let prices = try config.usage.prices()
        let directory = config.dataDirectory
        let secrets = try secureDataDirectory(directory, config: config, logger: logger)
        let token = try AdminToken.load(dataDirectory: directory, environmentVariable: config.adminTokenEnv)
        try AWSAdminKey.write(AWSAdminKey.derive(token: token), region: config.aws.region, dataDirectory: directory)
        let store = try await openMetricStore(config: config, clock: clock, logger: logger)
        let postgres = try await openPostgres(config: config, logger: logger)
        let outbox = try await openOutbox(config: config, postgres: postgres, secrets: secrets)
        let logs = MeteredLogStore(
            base: try await openLogStore(config: config, postgres: postgres, samples: store, logger: logger))
        logSink?.attach(logs)
        try await LogRoutes.installAPIFilters(logs)
        let deliverySettings = DeliveryService.Settings(
            smtp: try config.smtp?.settings(), publicURL: config.resolvedPublicURL,
            alertmanagerResendInterval: config.alertmanager.resendInterval)
        let platform = ServerPlatform(
            outbox: outbox, logs: logs, smtp: deliverySettings.smtp, secrets: secrets, clock: clock, logger: logger)
        let (host, lambdaFunctions) = try await openHost(
            config: config, plugins: plugins, factory: factory, platform: platform, token: token, secrets: secrets)
        try await createTopics(host.topicsToCreate, in: outbox, now: clock(), logger: logger)
        let alarmLinks = try AlarmLinks.load(
            dataDirectory: directory, publicURL: config.resolvedPublicURL, expiry: config.alarmPage.linkExpiry)
        let snsMessages = try SNSMessages.load(
            dataDirectory: directory, secrets: secrets, publicURL: config.resolvedPublicURL, region: config.aws.region,
            account: config.aws.accountID)
        let alarmLogger = Logger(label: "plumb.alarms")
        let source = MetricStoreDataSource(store: store)
        let alarms = try await AlarmEngine(
            source: source, store: try await openAlarmStore(config: config, postgres: postgres, logger: logger),
            notifier: AlarmNotifications(
                outbox: outbox, source: source, links: alarmLinks, clock: clock, logger: alarmLogger),
            documents: YAMLConfigReader(), logger: alarmLogger)
        let asyncQueue = try await openAsyncQueue(config: config, postgres: postgres)
        var scheduler: Scheduler
        do { scheduler = try Scheduler(host: host, queue: asyncQueue) } catch { throw ConfigError("\(error)") }
        scheduler.ruleARNPrefix = "arn:aws:events:\(config.aws.region):\(config.aws.accountID):rule/"
        let asyncConfigs = config.functions.mapValues {
            AsyncInvocationConfig(retry: $0.asyncSettings, onFailure: $0.onFailure)
        }
        let asyncDispatcher = AsyncDispatcher(
            queue: asyncQueue, host: host, configs: asyncConfigs,
            failures: AsyncFailureDestination(platform: platform, configs: asyncConfigs))
        let iamStore = try await openIAMStore(config: config, postgres: postgres, secrets: secrets)
        let iam: IAM
        do {
            iam = try await IAM(store: iamStore, secrets: secrets, rules: config.iam.signIn)
        } catch let error as IAMStartError {
            postgres?.stop()
            throw ConfigError(error.description)
        }
        let sealedWebhookSecrets = (outbox as? Outbox)?.sealedAtOpen ?? 0
        let sealedTOTPSecrets = (iamStore as? IAMStore)?.sealedAtOpen ?? 0
        if sealedWebhookSecrets + sealedTOTPSecrets > 0 {
            logger.info(
                "sealed secrets that were stored in clear",
                metadata: [
                    "webhook_secrets": "\(sealedWebhookSecrets)", "totp_secrets": "\(sealedTOTPSecrets)",
                ])
        }
        let server = PlumbServer(
            config: config, store: store, host: host, factory: factory, token: token, alarms: alarms, outbox: outbox,
            logs: logs, postgres: postgres, logSink: logSink, asyncQueue: asyncQueue, asyncDispatcher: asyncDispatcher,
            scheduler: scheduler,
            deliverySettings: deliverySettings, iam: iam, certificates: certificates, alarmLinks: alarmLinks,
            snsMessages: snsMessages, lambdaFunctions: lambdaFunctions, prices: prices, logger: logger)
        do {
            try await server.reloadAlerts()
        } catch {
            throw ConfigError("alert files in \(config.alerts) have errors:\n\(error)")
        }
        return server
    }

    /// The metric store `storage.metrics` names: the embedded engine in the data directory, or VictoriaMetrics
    /// (checked at once: a node that cannot be reached or would drop samples stops the start with its reason).
    static func openMetricStore(
        config: ServerConfig, clock: @escaping @Sendable () -> Int64, logger: Logger
    ) async throws -> any MetricStoring & MetricSampleSink {
        switch config.storage.metrics {
        case .sqlite:
            return try MetricStore(directory: config.dataDirectory, durability: config.durability, clock: clock)
        case .victoriaMetrics:
            guard let settings = config.storage.victoriaMetrics else {
                throw ConfigError("storage.metrics is victoriametrics: storage.victoriametrics.url is required")
            }
            do {
                let store = try await VictoriaMetricsStore.connect(settings: settings, clock: clock)
                logger.info(
                    "metrics are kept in VictoriaMetrics",
                    metadata: [
                        "insert_url": "\(settings.insertURL)", "select_url": "\(settings.selectURL)",
                        "max_labels": "\(store.maxLabelsPerSeries)",
                    ])
                return store
            } catch let error as VictoriaMetricsError {
                throw ConfigError("storage.victoriametrics: \(error.description)")
            }
        }
    }

    /// The plugin host with `platform`, every plugin loaded, and each configured function's reserved concurrency
    /// applied; a `functions:` entry that names no loaded function is a configuration error.
    static func openHost(
        config: ServerConfig, plugins: [any Plugin.Type], factory: PlumbMetricsFactory, platform: any PlatformServices,
        token: String, secrets: SecretBox
    ) async throws -> (PluginHost, LambdaFunctions) {
        let host = PluginHost(
            dataDirectory: config.dataDirectory, accountConcurrency: config.accountConcurrency, factory: factory,
            settings: config.plugins, functionOptions: config.functions.mapValues(\.options),
            durability: config.durability,
            publicURL: config.resolvedPublicURL, platform: platform)
        for plugin in plugins {
            try await host.load(plugin)
        }
        let lambdaFunctions = try await loadLambdaFunctions(config: config, token: token, secrets: secrets, into: host)
        for (name, settings) in config.functions.sorted(by: { $0.key < $1.key }) {
            guard host.function(named: name) != nil else {
                throw ConfigError(
                    "functions.\(name): no such function (known: \(host.functions.map(\.name).joined(separator: ", ")))"
                )
            }
            if let problem = settings.asyncSettings.validate() { throw ConfigError("functions.\(name): \(problem)") }
            if let reserved = settings.reserved {
                do { try host.setReservedConcurrency(name, reserved) } catch let error as FunctionError {
                    throw ConfigError("functions.\(name).reserved: \(error.message)")
                }
            }
        }
        // Functions made through the API in an earlier run, after the config file's (which win a name).
        await lambdaFunctions.loadStored()
        return (host, lambdaFunctions)
    }

    /// Creates the topics plugins publish to (`Plugin.topics`, the sensors' findings, say), so they exist from the
    /// first start.
    static func createTopics(
        _ topics: [String], in outbox: any NotificationStoring, now: Int64, logger: Logger
    ) async throws {
        for topic in topics where try await outbox.topic(topic) == nil {
            do {
                try await outbox.createTopic(topic, deliveryPolicy: nil, now: now)
                logger.info("created topic \(topic) for a plugin that publishes to it")
            } catch {
                throw ConfigError("a plugin publishes to topic '\(topic)', which cannot be created: \(error)")
            }
        }
    }

    /// Reads the alert files again and installs them, all or nothing; on errors the previous alarms stay.
    @discardableResult
    public func reloadAlerts() async throws(AlertFileErrors) -> (alarms: Int, topics: Int) {
        try await reloading.withLock { () async throws(AlertFileErrors) in
            let now = store.clock()
            let apiAlarms = Set(
                alarms.list().filter { if case .api = $0.origin { true } else { false } }.map(\.definition.name))
            let stored: [Outbox.Topic]
            do { stored = try await outbox.topics() } catch {
                throw AlertFileErrors([
                    AlertFileError(
                        file: config.alerts, line: 0, field: "topics",
                        message: "cannot read the topics made through the API: \(error)")
                ])
            }
            let apiTopics = Set(stored.filter { $0.source == "api" }.map(\.name))
            let (files, errors) = AlertFileParser.load(
                directory: config.alerts, extraAlarms: apiAlarms, extraTopics: apiTopics)
            var problems = errors
            for topic in files.topics {
                for subscription in topic.subscriptions
                where subscription.protocol == .function && host.function(named: subscription.endpoint) == nil {
                    let location = files.topicLocations[topic.name]
                    problems.append(
                        AlertFileError(
                            file: location?.file ?? config.alerts, line: location?.line ?? 0, field: "subscriptions",
                            message:
                                "topic '\(topic.name)' subscribes function '\(subscription.endpoint)', which is not hosted (known: \(host.functions.map(\.name).joined(separator: ", ")))"
                        ))
                }
            }
            guard problems.isEmpty else { throw AlertFileErrors(problems) }
            do {
                try await outbox.syncFileTopics(files.topics, now: now)
            } catch {
                throw AlertFileErrors([
                    AlertFileError(
                        file: config.alerts, line: 0, field: "topics", message: "cannot store topics: \(error)")
                ])
            }
            try await alarms.install(files, now: now, extraTopics: apiTopics)
            logs.setMetricFilters(files.metricFilters)
            usage.setFileBudgets(files.budgets)
            logger.info(
                "alert files loaded",
                metadata: [
                    "alarms": "\(files.alarms.count)", "topics": "\(files.topics.count)",
                    "directory": "\(config.alerts)",
                ])
            return (files.alarms.count, files.topics.count)
        }
    }

    public var isReady: Bool { ready.isSet }

    /// Whether alarms and the outbox live in PostgreSQL, shared with the other nodes.
    var sharesState: Bool { postgres != nil && config.storage.state == .postgres }

    /// The whole HTTP surface. `extraRoutes` lets the executable add routes (the benchmark's bare route).
    public func makeRouter(extraRoutes: (Router<PlumbRequestContext>) -> Void = { _ in }) -> Router<PlumbRequestContext>
    {
        let router = Router(context: PlumbRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        let metricsGroup =
            config.metricsRequireToken
            ? router.group().add(middleware: AdminAuthMiddleware(token: token)) : router.group()
        HealthRoutes(isReady: { self.isReady }, storeProblem: { self.membership?.problem }, factory: factory)
            .register(on: router, metrics: metricsGroup)
        let callers = CallerResolver(adminToken: token, iam: iam, host: host)
        let audit = AuditMiddleware(logs: logs, callers: callers)
        let api = router.group("api/v1")
            .add(middleware: audit)
            .add(middleware: AccessMiddleware(callers: callers, settings: config.iam))
        let write = router.group().add(middleware: AccessMiddleware(callers: callers, settings: config.iam))
        let iamRoutes = IAMRoutes(iam: iam, settings: config.iam, logs: logs)
        iamRoutes.registerLogin(on: router)
        iamRoutes.register(api: api)
        MetricsRoutes(
            store: store, limits: limits,
            lineProtocolResolution: StorageResolution(rawValue: config.metrics.lineProtocolResolution) ?? .standard
        ).register(api: api, write: write)
        otlpRoutes.register(on: write)
        ScrapeRoutes(service: scrapeService).register(api: api)
        UsageRoutes(store: store, usage: usage, alarms: alarms).register(api: api)
        PromQLRoutes(store: store, alarms: alarms, settings: config.promql).register(api: api)
        FunctionRoutes(host: host, asyncQueue: asyncQueue, lambdaFunctions: lambdaFunctions).register(api: api)
        AlarmRoutes(server: self).register(api: api)
        SilenceRoutes(silences: alarms.silences, clock: store.clock).register(api: api)
        LogRoutes(store: logs).register(api: api)
        ClusterRoutes(
            membership: membership, node: config.nodeName, url: config.nodeURL, isReady: { [ready] in ready.isSet }
        ).register(api: api)
        let host = host
        TopicRoutes(outbox: outbox, publicURL: deliverySettings.publicURL, clock: store.clock) { name, caller in
            guard let function = host.function(named: name) else {
                throw APIError(status: 400, code: "InvalidParameterValue", "endpoint: no function named '\(name)'")
            }
            guard case .iamUser(let principal) = caller else { return }
            try CallerResolver.requireAllowed(
                principal, action: "functions:InvokeFunction", resource: "function/\(name)")
            try FunctionAccess.checkInvoke(function, caller: caller)
        }.register(api: api, public: router)
        PluginRoutes(host: host, callers: callers, iamSettings: config.iam).register(on: router, audit: audit)
        ConnectionRoutes(host: host, gateway: webSockets).register(api: api, public: router)
        AlarmPageRoutes(
            alarms: alarms, source: MetricStoreDataSource(store: store), links: alarmLinks, clock: store.clock
        )
        .register(on: router)
        AWSRoutes(endpoint: makeAWSEndpoint(), snsMessages: snsMessages).register(on: router)
        extraRoutes(router)
        return router
    }

    var otlpRoutes: OTLPRoutes {
        OTLPRoutes(
            metrics: store, logs: logs, limits: limits,
            resolution: StorageResolution(rawValue: config.metrics.lineProtocolResolution) ?? .standard,
            settings: config.otlp, tracker: otlpTracker)
    }

    /// The OTLP/HTTP listener's surface (`otlp.listen`): `/v1/metrics` and `/v1/logs` only, with the same callers.
    func makeOTLPRouter() -> Router<PlumbRequestContext> {
        let router = Router(context: PlumbRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        let callers = CallerResolver(adminToken: token, iam: iam, host: host)
        otlpRoutes.register(
            on: router.group().add(middleware: AccessMiddleware(callers: callers, settings: config.iam)))
        return router
    }

    /// Serves until SIGTERM/SIGINT (or cancellation). `onReady` runs once the socket listens.
    public func run(
        extraRoutes: (Router<PlumbRequestContext>) -> Void = { _ in },
        onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let (hostName, port) = try config.listenAddress()
        let gateway = webSockets
        let descriptors = DescriptorLimit.raiseSoftToHard()
        logger.info(
            "open-file limit", metadata: ["soft_before": "\(descriptors.before)", "soft": "\(descriptors.after)"])
        if let certificates { logCertificate(certificates.loaded, event: "TLS certificate loaded") }
        let app = Application(
            router: makeRouter(extraRoutes: extraRoutes),
            server: makeHTTPServer(),
            configuration: .init(
                address: .hostname(hostName, port: port), serverName: "plumb",
                backlog: ServerConfig.HTTPSettings.acceptBacklog),
            onServerRunning: { channel in
                self.ready.set()
                let watchdog = self.systemd.startWatchdog(on: channel.eventLoop)
                self.watchdog.withLock { $0 = watchdog }
                self.systemd.notify("READY=1\nSTATUS=\(self.statusLine)")
                await onReady(channel.localAddress?.port ?? port)
            },
            logger: logger)
        var services: [any Service] = []
        if let embeddedStore {
            services.append(
                MetricStoreService(
                    store: embeddedStore, flushInterval: .milliseconds(Int64(config.metrics.flushInterval * 1_000))))
        }
        services += [
            MetricsReporter(
                factory: factory, store: store, interval: .milliseconds(Int64(config.metrics.reportInterval * 1_000))),
            // In a cluster, the work that must happen once runs on the leader only.
            AlarmEvaluationService(
                engine: alarms, clock: store.clock, sharedStore: sharesState,
                leads: { [lease] in lease?.isLeader ?? true }),
            LogMaintenanceService(
                store: storedLogs, sealAfter: Int64(config.logs.sealAfter * 1_000),
                retentionInterval: .milliseconds(Int64(config.logs.maintenanceInterval * 1_000)),
                // Shared logs: retention is cluster work, done by the leader.
                appliesRetention: { [lease] in lease?.isLeader ?? true }),
            DeliveryService(
                outbox: outbox, settings: deliverySettings,
                functions: AsyncFunctionQueue(host: host, queue: asyncQueue),
                sns: snsMessages),
            AlertmanagerRefreshService(
                outbox: outbox, interval: deliverySettings.alertmanagerResendInterval,
                leads: { [lease] in lease?.isLeader ?? true }, firingAlarms: { [alarms] in alarms.names(in: .alarm) }),
            AsyncInvocationService(dispatcher: asyncDispatcher),
            SchedulerService(scheduler: scheduler, leads: { [lease] in lease?.isLeader ?? true }),
            AutoscalerService(host: host),
            usage,
            ReloadOnHangup(server: self),
            app,
            // After the app in the list, so told to stop before it: members hear 1001 before the drain.
            WebSocketIdleService(gateway: gateway),
            // Last in, first told to stop: STOPPING=1 goes out as soon as SIGTERM arrives, before the drain.
            SystemdLifecycle(server: self),
        ]
        services.append(scrapeService)
        if let otlpListen = config.otlp.listen, let (otlpHost, otlpPort) = try config.otlp.listenAddress() {
            services.append(
                Application(
                    router: makeOTLPRouter(), server: makeHTTPServer(),
                    configuration: .init(
                        address: .hostname(otlpHost, port: otlpPort), serverName: "plumb",
                        backlog: ServerConfig.HTTPSettings.acceptBacklog),
                    onServerRunning: { [logger] channel in
                        logger.info(
                            "OTLP/HTTP listening",
                            metadata: ["address": "\(channel.localAddress?.description ?? otlpListen)"])
                    },
                    logger: logger))
        }
        if sharesState {
            // Alarms made, changed or deleted on other nodes, and the leader's state changes, show here within 2 s.
            services.append(
                SharedStoreRefreshService(store: "alarm store", interval: .seconds(2)) { [alarms] in
                    _ = try await alarms.refresh()
                })
        }
        if iam.store.isShared {
            // Users, groups, policies and tokens changed on other nodes hold here within a second.
            services.append(
                SharedStoreRefreshService(store: "IAM store", interval: .seconds(1)) { [iam] in try await iam.refresh()
                })
        }
        // First in, last out: the sink flushes after everything else has logged its shutdown.
        if let logSink {
            services.insert(LogSinkService(sink: logSink), at: 0)
        }
        // Before even the sink: the pool closes once the sink's last flush has gone through it.
        if let postgres {
            services.insert(postgres, at: 0)
        }
        if let lease, let membership {
            do {
                try await membership.prepare()
            } catch let error as ClusterNameTaken {
                throw ConfigError("cluster.node: \(error.description)")
            }
            services += [lease, membership]
        }
        if storedLogs is PostgresLogStore {
            // Metric filters created through another node's API take effect here too.
            services.append(SharedMetricFilterRefresh(logs: logs, logger: logger))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// Closes idle WebSocket connections; on shutdown, before the HTTP server drains, closes every one with 1001 (going
/// away) so members reconnect elsewhere instead of waiting on a server that is leaving.
struct WebSocketIdleService: Service {
    let gateway: WebSocketGateway

    func run() async throws {
        try? await cancelWhenGracefulShutdown { await gateway.sweepIdle() }
        await gateway.closeAll(reason: "server shutting down")
    }
}

/// Reloads the alert files and the TLS certificate on SIGHUP; errors are logged and what was in force stays.
struct ReloadOnHangup: Service {
    let server: PlumbServer

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            server.systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds)")
            do {
                try await server.reloadAlerts()
            } catch {
                server.logger.error("SIGHUP: alert files not reloaded, the previous alarms stay:\n\(error)")
            }
            server.reloadCertificate()
            server.systemd.notify("READY=1\nSTATUS=\(server.statusLine)")
        }
    }
}

/// Tells systemd STOPPING=1 when shutdown begins, and keeps STATUS= current while running.
struct SystemdLifecycle: Service {
    let server: PlumbServer

    func run() async throws {
        guard server.systemd.isActive else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(10)) }
            if !Task.isShuttingDownGracefully { server.systemd.notify("STATUS=\(server.statusLine)") }
        }
        server.systemd.notify("STOPPING=1\nSTATUS=draining in-flight requests and flushing stores")
        server.watchdog.withLock {
            $0?.cancel()
            $0 = nil
        }
    }
}
