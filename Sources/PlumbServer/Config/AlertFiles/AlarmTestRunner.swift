import Foundation
import PlumbAPI
import PlumbAlarms

/// Runs alarm unit-test files offline (`plumb test-alarms`), as `promtool test rules` does for Prometheus.
///
/// A test file names alert files (`alarm_files`, relative to itself) and/or declares alarms inline, then lists
/// tests; this reads the files and checks them together, and `AlarmTestCases` runs the tests.
public enum AlarmTestRunner {
    public static func run(file: String) async -> AlarmTestOutcome {
        var outcome = AlarmTestOutcome()
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            outcome.failures.append("\(file): cannot read the file")
            return outcome
        }
        let root: ConfigNode
        switch AlertFileParser.compose(text, file: file) {
        case .failure(let error):
            outcome.failures.append(error.description)
            return outcome
        case .success(nil):
            outcome.failures.append("\(file): the file is empty")
            return outcome
        case .success(let node?): root = node
        }
        var (config, errors) = AlertFileParser.parse(root, file: file, extraKeys: ["alarm_files", "tests"])
        let sink = ConfigErrorSink()
        guard let fields = ConfigFields(root, path: "", file: file, sink: sink) else {
            outcome.failures += sink.errors.map(\.description)
            return outcome
        }
        let directory = (file as NSString).deletingLastPathComponent
        for name in fields.stringList("alarm_files") {
            let path = name.hasPrefix("/") ? name : (directory.isEmpty ? name : directory + "/" + name)
            guard let included = try? String(contentsOfFile: path, encoding: .utf8) else {
                fields.error("alarm_files", "cannot read '\(path)'")
                continue
            }
            let (more, moreErrors) = AlertFileParser.parse(included, file: path)
            config.merge(more)
            errors += moreErrors
        }
        let referencedTopics = Set(config.alarms.flatMap(\.actions.all))
        errors += config.crossCheck(extraTopics: referencedTopics)
        let tests = fields.list("tests")
        if tests.isEmpty { fields.error("tests", "no tests in the file") }
        outcome.failures += (errors + sink.errors).map(\.description)
        guard outcome.failures.isEmpty else { return outcome }
        return await AlarmTestCases.run(tests, file: file, config: config.alarmConfiguration, topics: referencedTopics)
    }
}
