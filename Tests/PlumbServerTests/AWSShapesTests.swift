import Foundation
import PlumbTesting
import Testing

/// The same boto3 calls against Plumb and moto's server mode (PyPI), answers compared by shape as boto3 parsed them:
/// every member path both answer has the same type, and each member only moto answers is one named here with why.
@Suite("AWS API: answers shaped as moto's")
struct AWSShapesTests {
    /// Members moto answers and Plumb does not, by call, with the reason each is right or not served.
    static let onlyMoto: [String: Set<String>] = [
        // Plumb keeps no time of an alarm's last configuration change (not served); moto answers an empty `Metrics`
        // for an alarm on one metric, which AWS leaves out; `StateReasonData` is Plumb's when its evaluation wrote
        // one (a state set by SetAlarmState has none, as on AWS).
        "DescribeAlarms": [
            "MetricAlarms[].AlarmConfigurationUpdatedTimestamp", "MetricAlarms[].Metrics",
            "MetricAlarms[].StateReasonData",
        ],
        "DescribeAlarmsForMetric": [
            "MetricAlarms[].AlarmConfigurationUpdatedTimestamp", "MetricAlarms[].Metrics",
            "MetricAlarms[].StateReasonData",
        ],
        // Sequence tokens are deprecated by AWS (PutLogEvents ignores them) and not served.
        "PutLogEvents": ["nextSequenceToken"],
        // `storedBytes` and `uploadSequenceToken` of a stream are deprecated by AWS; ingestion time is kept per event.
        "DescribeLogStreams": [
            "logStreams[].lastIngestionTime", "logStreams[].storedBytes", "logStreams[].uploadSequenceToken",
        ],
        // AWS no longer fills `searchedLogStreams` (deprecated in 2020).
        "FilterLogEvents": ["searchedLogStreams[].logStreamName", "searchedLogStreams[].searchedCompletely"],
        // A topic's access policy governs nothing here (Plumb's IAM does); a delivery policy is answered when set.
        "GetTopicAttributes": ["Attributes.DeliveryPolicy", "Attributes.Policy"],
    ]

    @Test("boto3's answers from Plumb and from moto: the same members with the same types, the differences named")
    func shapes() async throws {
        try await AWSPeerRun.run("aws_shapes.py", timeout: .seconds(170)) { server, report in
            #expect(report.count >= 30, "\(report.keys.sorted())")
            var compared = 0
            for (call, value) in report {
                let outcome = try #require(value as? [String: Any])
                if let plumb = outcome["plumb"], let moto = outcome["moto"] {
                    // Refused by one or both: the same code where both refuse.
                    if let plumbCode = plumb as? String, plumbCode != "ok", let motoCode = moto as? String,
                        motoCode != "ok"
                    {
                        #expect(plumbCode == motoCode, "\(call): Plumb \(plumbCode), moto \(motoCode)")
                    } else {
                        // moto answers 500 to DescribeAlarmHistory and PutCompositeAlarm; Plumb serves them.
                        #expect(plumb as? String == "ok", "\(call): Plumb refused with \(plumb), moto \(moto)")
                        #expect(["DescribeAlarmHistory", "PutCompositeAlarm"].contains(call), "\(call): \(outcome)")
                    }
                    continue
                }
                compared += 1
                #expect((outcome["type_differs"] as? [String]) == [], "\(call): types differ \(outcome)")
                let onlyMoto = Set(outcome["only_moto"] as? [String] ?? [])
                let named = Self.onlyMoto[call] ?? []
                #expect(onlyMoto.subtracting(named).isEmpty, "\(call): moto answers \(onlyMoto.subtracting(named))")
            }
            #expect(compared >= 25)
        }
    }
}
