import Accounts
import ArgumentParser
import Chat
import Classifier
import Documents
import Foundation
import Hummingbird
import Logging
import Metrics
import PlumbKit
import PlumbLogs
import PlumbMetrics
import PlumbServer
import Sensors
import Sentiment
import Support

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Plumb server.",
        discussion: """
            With no options at all it listens on 127.0.0.1:9400, keeps its data in ./plumb-data (or \
            $STATE_DIRECTORY under systemd) and creates an admin token in <data>/admin.token (mode 0600).
            """)

    @Option(help: "YAML config file (see deploy/plumb.yaml).")
    var config: String?

    @Option(help: "HOST:PORT to listen on (overrides the config).")
    var listen: String?

    @Option(help: "Data directory (overrides the config).")
    var data: String?

    @Flag(
        help:
            "Also serve POST /bench/sentiment/analyze: the sentiment work on a bare route, outside the plugin pipeline, for benchmarks."
    )
    var benchRoutes = false

    func run() async throws {
        // A parent may have blocked signals, and the mask is inherited: SIGTERM, SIGINT and SIGHUP must reach us.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        var settings = ServerConfig()
        do {
            if let config { settings = try ServerConfig.load(path: config) }
            if let listen {
                settings.listen = listen
                _ = try settings.listenAddress()
            }
        } catch let error as ConfigError {
            throw ValidationError(error.message)
        }
        if let data { settings.data = data }
        // Every log event goes to stderr and, through a bounded queue, into the log store (/plumb/server,
        // /plumb/plugins/<plugin>).
        // Under systemd the console handler is the journal (structured fields), otherwise one line per event on stderr.
        let logSink = LogSink()
        let journal = JournalLogHandler.journalIsAvailable()
        LoggingSystem.bootstrap { label in
            // One event, one line: on stderr control characters from outside are escaped (journald keeps fields whole).
            var console: any LogHandler =
                journal
                ? JournalLogHandler(label: label) : LineSafeLogHandler(StreamLogHandler.standardError(label: label))
            console.logLevel = .info
            return MultiplexLogHandler([console, PlumbLogHandler(label: label, sink: logSink)])
        }
        let factory = PlumbMetricsFactory()
        MetricsSystem.bootstrap(factory)
        let logger = Logger(label: "plumb.server")
        let server: PlumbServer
        do {
            server = try await PlumbServer.open(
                config: settings,
                plugins: [
                    SentimentPlugin.self, ChatPlugin.self, SupportPlugin.self, ClassifierPlugin.self,
                    SensorsPlugin.self, AccountsPlugin.self, DocumentsPlugin.self,
                ], factory: factory, logger: logger, logSink: logSink)
        } catch let error as LexiconError {
            throw CLIError(error.message)
        } catch let error as ConfigError {
            throw CLIError(error.message)
        }
        var scorer: SentimentScorer?
        if benchRoutes {
            scorer = SentimentScorer(
                lexicon: try VaderLexicon(
                    directory: VaderLexicon.locate(configured: settings.plugins["sentiment"]?["lexicon_dir"])))
        }
        let dataDirectory = settings.dataDirectory
        let host = (try? settings.listenAddress().host) ?? settings.listen
        let tokenSource = settings.adminTokenEnv.map { "$" + $0 } ?? dataDirectory + "/admin.token"
        try await server.run(
            extraRoutes: { router in
                guard let scorer else { return }
                router.post("bench/sentiment/analyze") { request, _ -> Response in
                    let body = try await request.body.collect(upTo: 1_048_576)
                    let output = try SentimentPlugin.analyze(
                        FunctionRequest(body: Array(body.readableBytesView)), scorer: scorer)
                    return Response(
                        status: .init(code: output.status), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: output.body)))
                }
            },
            onReady: { port in
                logger.info(
                    "plumb \(Plumb.version) ready on \(host):\(port), data in \(dataDirectory), admin token in \(tokenSource)"
                )
            })
    }
}
