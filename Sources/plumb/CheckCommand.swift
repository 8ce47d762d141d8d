import ArgumentParser
import Foundation
import PlumbAlarms
import PlumbDash
import PlumbServer
import Yams

/// `plumb check`: validates the config, the alert files and their tests offline.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the config, alert files and dashboards; run the alert tests in <alerts>/tests.",
        discussion: "Prints every error as FILE:LINE: FIELD: MESSAGE and exits non-zero when there is any.")

    @Option(help: "Directory of alert files (default: the config's `alerts`, else ./alerts).") var alerts: String?
    @Option(help: "Directory of dashboard files (default: the config's `dashboards`, else ./dashboards).")
    var dashboards: String?
    @Option(help: "Server config file to validate.") var config: String?

    func run() async throws {
        var problems: [String] = []
        var serverConfig = ServerConfig()
        if let config {
            do { serverConfig = try ServerConfig.load(path: config) } catch { problems.append("\(error)") }
        }
        if let tls = serverConfig.tls {
            do {
                let loaded = try CertificateStore(settings: tls).loaded
                let days = (loaded.notValidAfter - Int(Date().timeIntervalSince1970)) / 86_400
                print("tls: \(loaded.chainLength) certificate(s) in \(tls.certFile), the key fits, \(days) day(s) left")
            } catch {
                problems.append("\(error)")
            }
        }
        let alertDirectory = alerts ?? serverConfig.alerts
        let (files, errors) = AlertFileParser.load(directory: alertDirectory)
        problems += errors.map(\.description)
        let fileCount = AlertFileParser.alertFiles(in: alertDirectory).count
        print(
            "alerts: \(fileCount) file(s) in \(alertDirectory), \(files.alarms.count) alarm(s), \(files.topics.count) topic(s)"
        )

        let testFiles = AlertFileParser.alertFiles(in: alertDirectory + "/tests")
        var passed = 0
        for file in testFiles {
            let outcome = await AlarmTestRunner.run(file: file)
            passed += outcome.passed.count
            problems += outcome.failures
        }
        if !testFiles.isEmpty { print("alert tests: \(passed) passed in \(testFiles.count) file(s)") }

        let dashboardDirectory = dashboards ?? serverConfig.dashboards
        var dashboardCount = 0
        var widgetCount = 0
        for file in AlertFileParser.alertFiles(in: dashboardDirectory) {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                problems.append("\(file):0: cannot read the file")
                continue
            }
            do {
                let dashboard = try DashboardParser.parse(
                    text, file: file, name: ((file as NSString).lastPathComponent as NSString).deletingPathExtension)
                dashboardCount += 1
                widgetCount += dashboard.allWidgets.count
            } catch let e as DashboardErrors {
                problems += e.errors.map(\.description)
            } catch {
                problems.append("\(file): \(error)")
            }
        }
        print("dashboards: \(dashboardCount) valid file(s) in \(dashboardDirectory), \(widgetCount) widget(s)")
        for problem in problems { print(problem) }
        if !problems.isEmpty {
            print("\(problems.count) problem(s)")
            throw ExitCode(1)
        }
        print("ok")
    }
}

/// `plumb test-alarms FILE…`: alarm unit tests, offline.
struct TestAlarmsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-alarms",
        abstract: "Run alarm unit-test files offline (like promtool test rules).",
        discussion: """
            A test file names alert files (alarm_files, relative to itself) and/or declares alarms inline, then \
            lists tests: series with one value per period (oldest first, _ for missing), optional initial_states, \
            and the states expected right after the last period. Exits non-zero naming every failed expectation.
            """)

    @Argument(help: "Test files.") var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one test file") }
    }

    func run() async throws {
        var failures = 0
        var passed = 0
        for file in files {
            let outcome = await AlarmTestRunner.run(file: file)
            for name in outcome.passed { print("ok    \(file): \(name)") }
            for failure in outcome.failures { print("FAIL  \(failure)") }
            failures += outcome.failures.count
            passed += outcome.passed.count
        }
        print("\(passed) passed, \(failures) failed")
        if failures > 0 { throw ExitCode(1) }
    }
}
