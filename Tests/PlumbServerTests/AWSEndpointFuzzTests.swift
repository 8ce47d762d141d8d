import Foundation
import PlumbAPI
import PlumbAuth
import PlumbServer
import PlumbServerTesting
import Testing

@testable import PlumbAWS

/// The AWS endpoint under hostile input that is correctly signed (the route fuzz test reaches it only unsigned):
/// every member of each operation's input removed, retyped, made huge or odd, and the body cut short. No answer
/// may be a 5xx or anything but AWS's error shape, and the server must stay up.
@Suite("AWS endpoint fuzz")
struct AWSEndpointFuzzTests {
    static var valid: [(target: String, input: [String: Any])] {
        [
            (
                "GraniteServiceVersion20100801.PutMetricData",
                [
                    "Namespace": "Fuzz/AWS",
                    "MetricData": [
                        [
                            "MetricName": "m", "Value": 1.5, "Unit": "Seconds", "Timestamp": 1_796_000_000,
                            "Dimensions": [["Name": "d", "Value": "v"]], "StorageResolution": 1,
                        ],
                        [
                            "MetricName": "s",
                            "StatisticValues": ["SampleCount": 2, "Sum": 3, "Minimum": 1, "Maximum": 2],
                        ],
                        ["MetricName": "v", "Values": [1, 2], "Counts": [1, 3]],
                    ],
                ]
            ),
            (
                "GraniteServiceVersion20100801.ListMetrics",
                ["Namespace": "Fuzz/AWS", "MetricName": "m", "Dimensions": [["Name": "d"]], "NextToken": "bGlzdDow"]
            ),
            (
                "GraniteServiceVersion20100801.GetMetricStatistics",
                [
                    "Namespace": "Fuzz/AWS", "MetricName": "m", "Dimensions": [["Name": "d", "Value": "v"]],
                    "StartTime": 1_795_990_000, "EndTime": 1_796_010_000, "Period": 60,
                    "Statistics": ["Sum", "Average"],
                    "Unit": "Seconds",
                ]
            ),
            (
                "GraniteServiceVersion20100801.PutMetricAlarm",
                [
                    "AlarmName": "fuzz-alarm", "Namespace": "Fuzz/AWS", "MetricName": "m", "Statistic": "Average",
                    "Dimensions": [["Name": "d", "Value": "v"]], "Period": 60, "EvaluationPeriods": 2,
                    "DatapointsToAlarm": 1, "Threshold": 5, "ComparisonOperator": "GreaterThanThreshold",
                    "TreatMissingData": "breaching", "AlarmDescription": "fuzzed",
                ]
            ),
            (
                "GraniteServiceVersion20100801.PutCompositeAlarm",
                ["AlarmName": "fuzz-composite", "AlarmRule": "ALARM(fuzz-alarm) OR OK(fuzz-alarm)"]
            ),
            (
                "GraniteServiceVersion20100801.DescribeAlarms",
                [
                    "AlarmNames": ["fuzz-alarm"], "AlarmNamePrefix": "fuzz", "StateValue": "OK",
                    "AlarmTypes": ["MetricAlarm", "CompositeAlarm"], "MaxRecords": 10,
                ]
            ),
            (
                "GraniteServiceVersion20100801.DescribeAlarmsForMetric",
                ["Namespace": "Fuzz/AWS", "MetricName": "m", "Statistic": "Average", "Period": 60]
            ),
            (
                "GraniteServiceVersion20100801.DescribeAlarmHistory",
                ["AlarmName": "fuzz-alarm", "HistoryItemType": "StateUpdate", "MaxRecords": 5]
            ),
            (
                "GraniteServiceVersion20100801.SetAlarmState",
                ["AlarmName": "fuzz-alarm", "StateValue": "ALARM", "StateReason": "fuzz"]
            ),
            ("GraniteServiceVersion20100801.DeleteAlarms", ["AlarmNames": ["fuzz-nothing"]]),
            ("Logs_20140328.CreateLogGroup", ["logGroupName": "/fuzz/aws"]),
            ("Logs_20140328.CreateLogStream", ["logGroupName": "/fuzz/aws", "logStreamName": "s"]),
            (
                "Logs_20140328.PutLogEvents",
                [
                    "logGroupName": "/fuzz/aws", "logStreamName": "s",
                    "logEvents": [["timestamp": 1_796_000_000_000, "message": "GET / 200"]],
                ]
            ),
            ("Logs_20140328.DescribeLogGroups", ["logGroupNamePrefix": "/fuzz", "limit": 5, "nextToken": "bGlzdDow"]),
            (
                "Logs_20140328.DescribeLogStreams",
                ["logGroupName": "/fuzz/aws", "orderBy": "LastEventTime", "descending": true, "limit": 5]
            ),
            (
                "Logs_20140328.GetLogEvents",
                [
                    "logGroupName": "/fuzz/aws", "logStreamName": "s", "startFromHead": true, "limit": 5,
                    "startTime": 0, "endTime": 1_900_000_000_000,
                ]
            ),
            (
                "Logs_20140328.FilterLogEvents",
                [
                    "logGroupName": "/fuzz/aws", "filterPattern": "[a, b=2*, c]", "logStreamNamePrefix": "s",
                    "limit": 5, "startTime": 0,
                ]
            ),
            ("Logs_20140328.PutRetentionPolicy", ["logGroupName": "/fuzz/aws", "retentionInDays": 30]),
            ("Logs_20140328.DeleteRetentionPolicy", ["logGroupName": "/fuzz/aws"]),
            (
                "Logs_20140328.PutMetricFilter",
                [
                    "logGroupName": "/fuzz/aws", "filterName": "fuzz-filter", "filterPattern": "[a, status=5*, b]",
                    "metricTransformations": [
                        [
                            "metricName": "m", "metricNamespace": "Fuzz/AWS", "metricValue": "$b", "defaultValue": 0,
                            "unit": "Count", "dimensions": ["status": "$status"],
                        ]
                    ],
                ]
            ),
            (
                "Logs_20140328.DescribeMetricFilters",
                ["logGroupName": "/fuzz/aws", "filterNamePrefix": "fuzz", "limit": 5]
            ),
            ("Logs_20140328.DeleteMetricFilter", ["logGroupName": "/fuzz/aws", "filterName": "fuzz-nothing"]),
            (
                "AWSEvents.PutRule",
                ["Name": "fuzz-rule", "ScheduleExpression": "rate(5 minutes)", "State": "ENABLED", "Description": "d"]
            ),
            (
                "AWSEvents.PutTargets",
                [
                    "Rule": "fuzz-rule",
                    "Targets": [
                        ["Id": "t1", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:nope", "Input": "{}"]
                    ],
                ]
            ),
            ("AWSEvents.ListRules", ["NamePrefix": "fuzz", "Limit": 10]),
            ("AWSEvents.DescribeRule", ["Name": "fuzz-rule"]),
            ("AWSEvents.ListTargetsByRule", ["Rule": "fuzz-rule"]),
            ("AWSEvents.DisableRule", ["Name": "fuzz-rule"]),
            ("AWSEvents.RemoveTargets", ["Rule": "fuzz-rule", "Ids": ["t1"]]),
            ("AWSEvents.DeleteRule", ["Name": "fuzz-rule"]),
            (
                "GraniteServiceVersion20100801.GetMetricData",
                [
                    "MetricDataQueries": [
                        [
                            "Id": "a", "ReturnData": false,
                            "MetricStat": [
                                "Metric": ["Namespace": "Fuzz/AWS", "MetricName": "m"], "Period": 60, "Stat": "p90",
                            ],
                        ],
                        ["Id": "e", "Expression": "a * 2", "Label": "twice"],
                    ],
                    "StartTime": 1_795_990_000, "EndTime": 1_796_010_000, "ScanBy": "TimestampAscending",
                    "MaxDatapoints": 10, "NextToken": "bGlzdDow",
                ]
            ),
        ]
    }

    /// What each member is replaced with.
    static var replacements: [Any?] {
        [
            nil, NSNull(), "", String(repeating: "é", count: 5_000), -1, 0, 1e308, -1e308, 4.9e-324, true,
            [Any](), [String: Any](), [["Name": NSNull()]],
            Array(repeating: ["MetricName": "x", "Value": 1], count: 1_001),
            "\u{0}\r\nX-Injected: 1", "p101", ["p99", "Sum"],
        ]
    }

    /// Every variant: each member (at the top and in the first element of a list of objects) set to each
    /// replacement.
    static func variants(_ input: [String: Any]) -> [[String: Any]] {
        var out: [[String: Any]] = [input]
        for key in input.keys {
            for replacement in replacements {
                var copy = input
                copy[key] = replacement
                out.append(copy)
            }
            if let list = input[key] as? [[String: Any]], let first = list.first {
                for inner in first.keys {
                    for replacement in replacements {
                        var element = first
                        element[inner] = replacement
                        var copy = input
                        copy[key] = [element] + list.dropFirst()
                        out.append(copy)
                    }
                }
            }
        }
        return out
    }

    static func signed(
        target: String, body: [UInt8], key: (id: String, secret: String), now: Int64,
        signedHeaders: [String] = ["content-type", "host", "x-amz-date", "x-amz-target"],
        service: String = "monitoring", extraHeaders: [(name: String, value: String)] = []
    ) -> AWSRequest {
        let time = SigV4.format(now)
        let date = String(time.prefix(8))
        var headers: [(name: String, value: String)] =
            extraHeaders + [
                (
                    "content-type",
                    target.hasPrefix("Granite") ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1"
                ),
                ("host", "127.0.0.1:9400"), ("x-amz-date", time),
                ("x-amz-target", target),
            ]
        let scope = "\(date)/us-east-1/\(service)/aws4_request"
        let signature = SigV4.signature(
            of: SigV4.Request(method: "POST", path: "/", query: "", headers: headers, body: body),
            signedHeaders: signedHeaders, time: time, scope: scope, presigned: false, secret: key.secret, date: date,
            region: "us-east-1", service: service)
        headers.append(
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=\(key.id)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
            ))
        return AWSRequest(method: "POST", path: "/", query: "", headers: headers, body: body)
    }

    @Test(
        "signed hostile inputs to every CloudWatch, CloudWatch Logs and EventBridge operation: AWS errors, never a 5xx")
    func fuzz() async throws {
        try await withTestServer { server, _ in
            let endpoint = server.makeAWSEndpoint()
            let key = server.awsAccessKey
            var problems: [String] = []
            var requests = 0
            var accepted = 0
            for (target, input) in Self.valid {
                var bodies = try Self.variants(input).map { [UInt8](try JSONSerialization.data(withJSONObject: $0)) }
                let whole = bodies[0]
                bodies += [[], Array("[]".utf8), Array("null".utf8), Array(whole.prefix(whole.count / 2))]
                for body in bodies {
                    let answer = await endpoint.handle(
                        Self.signed(
                            target: target, body: body, key: key, now: server.store.clock(),
                            service: target.hasPrefix("Logs_")
                                ? "logs" : target.hasPrefix("AWSEvents") ? "events" : "monitoring"))
                    requests += 1
                    if answer.status == 200 {
                        accepted += 1
                        continue
                    }
                    let shape = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any]
                    // CloudWatch's JSON errors carry the Query code too; CloudWatch Logs never spoke Query.
                    let queryCode = answer.headers.contains(where: { $0.name == "x-amzn-query-error" })
                    if answer.status >= 500 || shape?["__type"] as? String == nil
                        || queryCode != target.hasPrefix("Granite")
                    {
                        problems.append(
                            "\(target) \(String(decoding: body.prefix(200), as: UTF8.self)): \(answer.status) \(String(decoding: answer.body, as: UTF8.self))"
                        )
                    }
                }
            }
            print("aws fuzz: \(requests) signed requests, \(accepted) accepted, \(problems.count) problems")
            #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
            // The valid inputs are accepted (deleting an alarm or a metric filter that does not exist is refused, as
            // it should; CreateLogGroup and CreateLogStream answer "exists" once made by their first variant).
            #expect(accepted >= Self.valid.count - 2, "the valid inputs are accepted")
        }
    }

    /// A signature must cover what decides the request: the operation (`X-Amz-Target`), the body's type and
    /// encoding, and the body itself (no unsigned payload); and be scoped to the service it calls.
    @Test("a signature that leaves the operation or the payload unsigned, or names another service, is refused")
    func signatureCoverage() async throws {
        try await withTestServer { server, _ in
            let endpoint = server.makeAWSEndpoint()
            let key = server.awsAccessKey
            let now = server.store.clock()
            let target = "GraniteServiceVersion20100801.ListMetrics"
            let body = Array("{}".utf8)
            func code(_ request: AWSRequest) async -> (Int, String) {
                let answer = await endpoint.handle(request)
                let shape = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any]
                let query = answer.headers.first { $0.name == "x-amzn-query-error" }?.value ?? ""
                return (answer.status, String(query.split(separator: ";").first ?? "") + (shape == nil ? "?" : ""))
            }
            #expect(await code(Self.signed(target: target, body: body, key: key, now: now)).0 == 200)
            // The operation outside the signature (what a presigned URL signs: the host and the date).
            let unsignedTarget = await code(
                Self.signed(target: target, body: body, key: key, now: now, signedHeaders: ["host", "x-amz-date"]))
            #expect(unsignedTarget == (403, "IncompleteSignature"))
            // An unsigned payload, signed or not.
            let unsignedPayload = await code(
                Self.signed(
                    target: target, body: body, key: key, now: now,
                    signedHeaders: ["content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-target"],
                    extraHeaders: [("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]))
            #expect(unsignedPayload == (403, "IncompleteSignature"))
            // A key scoped to CloudWatch Logs calling CloudWatch.
            let otherService = await code(
                Self.signed(target: target, body: body, key: key, now: now, service: "logs"))
            #expect(otherService == (403, "SignatureDoesNotMatch"))
        }
    }

    /// A request in any protocol, signed over its headers (all of them) and body.
    static func signedRequest(
        path: String, headers extra: [(name: String, value: String)], body: [UInt8], key: (id: String, secret: String),
        now: Int64, service: String = "monitoring"
    ) -> AWSRequest {
        let time = SigV4.format(now)
        let date = String(time.prefix(8))
        var headers = extra + [("host", "127.0.0.1:9400"), ("x-amz-date", time)]
        let signedHeaders = headers.map { $0.name.lowercased() }.sorted()
        let scope = "\(date)/us-east-1/\(service)/aws4_request"
        let signature = SigV4.signature(
            of: SigV4.Request(method: "POST", path: path, query: "", headers: headers, body: body),
            signedHeaders: signedHeaders, time: time, scope: scope, presigned: false, secret: key.secret, date: date,
            region: "us-east-1", service: service)
        headers.append(
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=\(key.id)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
            ))
        return AWSRequest(method: "POST", path: path, query: "", headers: headers, body: body)
    }

    /// `request` signed again over its own method, path, query, headers (all but `authorization`) and body.
    static func resigned(
        _ request: AWSRequest, key: (id: String, secret: String), now: Int64, service: String
    ) -> AWSRequest {
        let time = SigV4.format(now)
        let date = String(time.prefix(8))
        var headers = request.headers.filter { $0.name.lowercased() != "authorization" }
        let signedHeaders = headers.map { $0.name.lowercased() }.sorted()
        let scope = "\(date)/us-east-1/\(service)/aws4_request"
        let signature = SigV4.signature(
            of: SigV4.Request(
                method: request.method, path: request.path, query: request.query, headers: headers, body: request.body),
            signedHeaders: signedHeaders, time: time, scope: scope, presigned: false, secret: key.secret, date: date,
            region: "us-east-1", service: service)
        headers.append(
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=\(key.id)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
            ))
        return AWSRequest(
            method: request.method, path: request.path, query: request.query, headers: headers, body: request.body)
    }

    /// A JSON input as a Query form's pairs: structures `A.B`, lists `A.member.N`, scalars as text.
    static func formPairs(_ value: Any, prefix: String, into pairs: inout [(String, String)]) {
        switch value {
        case let members as [String: Any]:
            for (name, member) in members {
                formPairs(member, prefix: prefix.isEmpty ? name : prefix + "." + name, into: &pairs)
            }
        case let items as [Any]:
            if items.isEmpty { pairs.append((prefix, "")) }
            for (index, item) in items.enumerated() {
                formPairs(item, prefix: "\(prefix).member.\(index + 1)", into: &pairs)
            }
        case let flag as Bool where type(of: value) == type(of: true as Any):
            pairs.append((prefix, flag ? "true" : "false"))
        case let number as NSNumber: pairs.append((prefix, number.stringValue))
        case is NSNull: pairs.append((prefix, ""))
        default: pairs.append((prefix, "\(value)"))
        }
    }

    static func formBody(_ pairs: [(String, String)]) -> [UInt8] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return Array(
            pairs.map {
                ($0.0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                    + ($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
            }.joined(separator: "&").utf8)
    }

    @Test(
        "signed hostile inputs to every CloudWatch operation over Query and RPC v2 CBOR, and to SNS: AWS errors, never a 5xx"
    )
    func fuzzOtherProtocols() async throws {
        try await withTestServer { server, _ in
            let endpoint = server.makeAWSEndpoint()
            let key = server.awsAccessKey
            var problems: [String] = []
            var requests = 0
            var accepted = 0
            func send(_ request: AWSRequest, query: Bool, what: String) async {
                let answer = await endpoint.handle(request)
                requests += 1
                if (200..<300).contains(answer.status) {
                    accepted += 1
                    return
                }
                let wellFormed: Bool
                if request.path.hasPrefix("/20") {
                    // Lambda's REST-JSON: the error's name in x-amzn-ErrorType, a JSON body with the message.
                    wellFormed =
                        answer.headers.contains(where: { $0.name == "x-amzn-ErrorType" })
                        && (try? JSONValue.parse(answer.body))?.object?["message"] != nil
                } else if query {
                    let text = String(decoding: answer.body, as: UTF8.self)
                    wellFormed = text.hasPrefix("<ErrorResponse") && text.contains("<Code>")
                } else {
                    let shape = try? CBOR.decode(answer.body)
                    wellFormed =
                        shape?.object?["__type"]?.string != nil
                        && answer.headers.contains(where: { $0.name == "x-amzn-query-error" })
                }
                if answer.status >= 500 || !wellFormed {
                    problems.append(
                        "\(what): \(answer.status) \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
                }
            }
            let cloudWatch = Self.valid.filter { $0.target.hasPrefix("Granite") }
            for (target, input) in cloudWatch {
                let operation = String(target.split(separator: ".").last!)
                for variant in Self.variants(input) {
                    var pairs = [("Action", operation), ("Version", "2010-08-01")]
                    Self.formPairs(variant, prefix: "", into: &pairs)
                    let form = Self.formBody(pairs)
                    await send(
                        Self.signedRequest(
                            path: "/", headers: [("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
                            body: form, key: key, now: server.store.clock()), query: true,
                        what: "Query \(String(decoding: form.prefix(200), as: UTF8.self))")
                    let json = try JSONValue.parse(try JSONSerialization.data(withJSONObject: variant))
                    let cbor = CBOR.encode(json, types: CloudWatchService.memberTypes)
                    for body in [cbor, Array(cbor.prefix(cbor.count / 2))] {
                        await send(
                            Self.signedRequest(
                                path: "/service/GraniteServiceVersion20100801/operation/\(operation)",
                                headers: [("content-type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")],
                                body: body, key: key, now: server.store.clock()), query: false,
                            what: "CBOR \(operation) \(body.prefix(60))")
                    }
                }
            }
            // Forms and CBOR no client would write.
            let forms = [
                "Action=ListMetrics&Dimensions.member.0.Name=a", "Action=ListMetrics&Dimensions.member.3.Name=a",
                "Action=ListMetrics&Dimensions.member.x.Name=a", "Action=ListMetrics&Dimensions.member=a",
                "Action=ListMetrics&Namespace=a&Namespace=b",
                "Action=ListMetrics&" + String(repeating: "a.", count: 40) + "b=1",
                "Action=ListMetrics&Namespace=%FF%FE", "Action=ListMetrics&Namespace..x=1", "Action=&Namespace=a",
                "Namespace=a", "Action=NoSuchThing", "Action=ListMetrics&Version=2099-01-01",
                "Action=PutMetricData&Namespace=n&MetricData.member.1.MetricName=m&MetricData.member.1.Value=nan",
                "Action=PutMetricData&Namespace=n&MetricData.member.1.MetricName=m&MetricData.member.1.Value=1e400",
                "Action=PutMetricAlarm&AlarmName=a&ActionsEnabled=yes",
                "Action=ListMetrics&Dimensions.member.1=a&Dimensions.member.1.Name=b",
                "Action=ListMetrics&Dimensions.member.99999999999999999999.Name=a", "&&&=&==", "",
            ]
            for form in forms {
                await send(
                    Self.signedRequest(
                        path: "/", headers: [("content-type", "application/x-www-form-urlencoded")],
                        body: Array(form.utf8),
                        key: key, now: server.store.clock()), query: true, what: "form \(form.prefix(100))")
            }
            let cbors: [[UInt8]] = [
                [], [0xFF], [0xA1], [0xBF], [0x5F, 0x41], [0x9B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
                [0xBB, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
                [0x7B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
                Array(repeating: 0x81, count: 500) + [0x01], [0xA1, 0x01, 0x02],
                [0xA2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02],
                [0xC2, 0x41, 0x01], [0xC1, 0x61, 0x61], [0xF8, 0x20], [0x1C], [0x62, 0xC3, 0x28],
                [0xA1, 0x69] + Array("Namespace".utf8) + [0xC0, 0x63] + Array("bad".utf8),
                [0x7F, 0x61, 0x61, 0x41, 0x62, 0xFF], [0xF9, 0x7C, 0x00],
                [0xA1, 0x66] + Array("Period".utf8) + [0xFB, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0],
            ]
            for body in cbors {
                for operation in ["ListMetrics", "GetMetricStatistics", "PutMetricData"] {
                    await send(
                        Self.signedRequest(
                            path: "/service/GraniteServiceVersion20100801/operation/\(operation)",
                            headers: [("content-type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")],
                            body: body,
                            key: key, now: server.store.clock()), query: false,
                        what: "CBOR \(operation) \(body.prefix(20))")
                }
            }
            for path in [
                "/service/", "/service/Nope/operation/ListMetrics", "/service/GraniteServiceVersion20100801/operation/",
                "/service/a/b/c/d/e",
            ] {
                await send(
                    Self.signedRequest(
                        path: path,
                        headers: [("content-type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")],
                        body: [0xA0], key: key, now: server.store.clock()), query: false, what: "path \(path)")
            }
            // SNS (Query only): each operation's form with each value replaced by hostile text, or removed.
            let topic = "arn:aws:sns:us-east-1:000000000000:fuzz"
            let snsForms: [[(String, String)]] = [
                [("Action", "CreateTopic"), ("Name", "fuzz")],
                [
                    ("Action", "CreateTopic"), ("Name", "fuzz2"), ("Attributes.entry.1.key", "DisplayName"),
                    ("Attributes.entry.1.value", "x"),
                ],
                [("Action", "ListTopics")], [("Action", "ListTopics"), ("NextToken", "bGlzdDox")],
                [("Action", "GetTopicAttributes"), ("TopicArn", topic)],
                [
                    ("Action", "Subscribe"), ("TopicArn", topic), ("Protocol", "http"),
                    ("Endpoint", "http://127.0.0.1:9/x"),
                    ("Attributes.entry.1.key", "DeliveryPolicy"),
                    ("Attributes.entry.1.value", #"{"healthyRetryPolicy":{"numRetries":2}}"#),
                ],
                [
                    ("Action", "Subscribe"), ("TopicArn", topic), ("Protocol", "email"), ("Endpoint", "a@example.com"),
                    ("ReturnSubscriptionArn", "true"),
                ],
                [("Action", "ConfirmSubscription"), ("TopicArn", topic), ("Token", "abc")],
                [("Action", "ListSubscriptions")], [("Action", "ListSubscriptionsByTopic"), ("TopicArn", topic)],
                [("Action", "GetSubscriptionAttributes"), ("SubscriptionArn", topic + ":sub-x")],
                [("Action", "Unsubscribe"), ("SubscriptionArn", topic + ":sub-x")],
                [
                    ("Action", "Publish"), ("TopicArn", topic), ("Message", "hi"), ("Subject", "s"),
                    ("MessageAttributes.entry.1.Name", "k"), ("MessageAttributes.entry.1.Value.DataType", "Number"),
                    ("MessageAttributes.entry.1.Value.StringValue", "3"),
                ],
                [
                    ("Action", "Publish"), ("TargetArn", topic), ("Message", #"{"default":"d"}"#),
                    ("MessageStructure", "json"),
                ],
            ]
            let hostile = [
                "", String(repeating: "é", count: 5_000), "-1", "1e308", "true", "\u{0}\r\nX-Injected: 1",
                "arn:aws:sns:us-east-1:000000000000:", "arn:aws:sns:x", "{",
                #"{"healthyRetryPolicy":{"numRetries":1e300}}"#,
                "http://", "lambda", "a:b:c:d:e:f:g:h", "%ZZ",
            ]
            for form in snsForms {
                var variants = [form]
                for index in form.indices where index > 0 {
                    variants.append(Array(form[..<index] + form[(index + 1)...]))
                    for text in hostile {
                        var copy = form
                        copy[index].1 = text
                        variants.append(copy)
                    }
                }
                for variant in variants {
                    let body = Self.formBody(variant + [("Version", "2010-03-31")])
                    await send(
                        Self.signedRequest(
                            path: "/", headers: [("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
                            body: body, key: key, now: server.store.clock(), service: "sns"), query: true,
                        what: "SNS \(String(decoding: body.prefix(200), as: UTF8.self))")
                }
            }
            // Lambda (REST-JSON): each route with hostile names, bodies, qualifiers and headers.
            let lambdaRoutes = [
                ("GET", "/2015-03-31/functions"), ("GET", "/2015-03-31/functions/{name}"),
                ("GET", "/2015-03-31/functions/{name}/configuration"), ("POST", "/2015-03-31/functions"),
                ("PUT", "/2015-03-31/functions/{name}/code"), ("PUT", "/2015-03-31/functions/{name}/configuration"),
                ("DELETE", "/2015-03-31/functions/{name}"),
                ("POST", "/2015-03-31/functions/{name}/invocations"),
                ("PUT", "/2017-10-31/functions/{name}/concurrency"),
                ("DELETE", "/2017-10-31/functions/{name}/concurrency"),
                ("GET", "/2019-09-30/functions/{name}/concurrency"),
                ("PUT", "/2019-09-30/functions/{name}/provisioned-concurrency"),
                ("GET", "/2019-09-30/functions/{name}/provisioned-concurrency"),
                ("GET", "/2016-08-19/account-settings"), ("PATCH", "/2015-03-31/functions/x"),
                ("GET", "/2015-03-31/nope"),
            ]
            let lambdaNames = [
                "sentiment.list", "no-such", "arn:aws:lambda:us-east-1:000000000000:function:sentiment.list",
                "sentiment.list:7", "sentiment.list:$LATEST", "%00", "%FF%FE", String(repeating: "a", count: 3_000),
                "..", "a%2Fb",
            ]
            let lambdaBodies: [[UInt8]] = [
                [], Array("{}".utf8), Array("null".utf8), Array("[1]".utf8),
                Array(#"{"ReservedConcurrentExecutions": -1}"#.utf8),
                Array(#"{"ReservedConcurrentExecutions": 1e300}"#.utf8),
                Array(#"{"ProvisionedConcurrentExecutions": "x"}"#.utf8),
                Array(#"{"ProvisionedConcurrentExecutions": 100000}"#.utf8), [0xFF, 0xFE, 0x00],
                // CreateFunction and the updates: an empty zip, text that is not a zip, not base64, hostile settings.
                Array(
                    #"{"FunctionName": "fz", "Runtime": "python3", "Handler": "a.b", "Role": "arn:aws:iam::0:role/x", "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}"#
                        .utf8),
                Array(
                    #"{"FunctionName": "../x", "Runtime": "nodejs20.x", "Handler": "", "Code": {"ZipFile": "%%%"}}"#
                        .utf8),
                Array(#"{"ZipFile": "bm90IGEgemlw", "Timeout": 1e300, "MemorySize": -1, "Role": "nope"}"#.utf8),
                Array(#"{"Environment": {"Variables": {"A": 1}}, "Handler": null, "Code": {"S3Bucket": "b"}}"#.utf8),
            ]
            let lambdaHeaders: [[(name: String, value: String)]] = [
                [], [("x-amz-invocation-type", "Event")], [("x-amz-invocation-type", "Nope")],
                [("x-amz-log-type", "Tail")], [("x-amz-log-type", "\u{0}")], [("x-amz-invocation-type", "DryRun")],
            ]
            for (method, template) in lambdaRoutes {
                for name in template.contains("{name}") ? lambdaNames : [""] {
                    let path = template.replacingOccurrences(of: "{name}", with: name)
                    for body in (method == "GET" || method == "DELETE") ? [[]] : lambdaBodies {
                        for headers in method == "POST" ? lambdaHeaders : [[]] {
                            var request = Self.signedRequest(
                                path: path, headers: [("content-type", "application/json")] + headers, body: body,
                                key: key, now: server.store.clock(), service: "lambda")
                            request.method = method
                            // Signed again with the method it is sent with.
                            request = Self.resigned(request, key: key, now: server.store.clock(), service: "lambda")
                            await send(request, query: false, what: "Lambda \(method) \(path.prefix(120))")
                        }
                    }
                }
            }
            print("aws protocol fuzz: \(requests) signed requests, \(accepted) accepted, \(problems.count) problems")
            #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
            #expect(accepted >= 2 * (cloudWatch.count - 2), "the valid inputs are accepted in both protocols")
        }
    }
}
