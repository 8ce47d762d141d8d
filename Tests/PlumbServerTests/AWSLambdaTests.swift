import Foundation
import PlumbTesting
import Testing

/// Lambda through real boto3 and the real aws CLI against a real `plumb serve`: the functions `plumb functions`
/// lists, invoked with Lambda's semantics (payload in and out, `FunctionError` on failure, the log tail, `Event`
/// queued), their concurrency set and read, and Lambda's errors.
@Suite("AWS API: Lambda")
struct AWSLambdaTests {
    @Test("boto3 and the aws CLI list, describe and invoke functions and set their concurrency; errors are Lambda's")
    func lambda() async throws {
        try await AWSPeerRun.run("aws_lambda.py", timeout: .seconds(150)) { server, result in
            // The same functions as Plumb's API lists, through boto3's paginator (pages of 10).
            let (_, listed) = try await HTTP.request("GET", server.baseURL + "/api/v1/functions", token: server.token)
            let own =
                ((try JSONSerialization.jsonObject(with: Data(listed)) as? [String: Any])?["functions"]
                as? [[String: Any]]
                ?? []).compactMap { $0["name"] as? String }.sorted()
            #expect(result["functions"] as? [String] == own)
            #expect(own.contains("sentiment.classify"))
            let configuration = try #require(result["configuration"] as? [String: Any])
            #expect(
                configuration["FunctionArn"] as? String
                    == "arn:aws:lambda:us-east-1:000000000000:function:sentiment.classify")
            #expect(configuration["Description"] as? String == "POST /apps/sentiment/analyze")

            // RequestResponse: the HTTP function's JSON body in, its response body out; the log tail framed by Lambda.
            let invoke = try #require(result["invoke"] as? [String: Any])
            #expect(invoke["status"] as? Int == 200)
            #expect(invoke["error"] is NSNull)
            #expect((invoke["payload"] as? [String: Any])?["label"] as? String == "Positive")
            #expect(invoke["version"] as? String == "$LATEST")
            let log = try #require(invoke["log"] as? String)
            #expect(log.hasPrefix("START RequestId: ") && log.contains("\nEND RequestId: "), "\(log)")
            let failed = try #require(result["invoke_failed"] as? [String: Any])
            #expect(failed["status"] as? Int == 200)
            #expect(failed["error"] as? String == "Unhandled")
            #expect((failed["payload"] as? [String: Any])?["errorType"] as? String == "InvalidParameterValue")
            #expect((result["invoke_by_arn"] as? [String: Any])?["label"] as? String == "Negative")
            #expect(result["event_status"] as? Int == 202)
            #expect(result["dry_run_status"] as? Int == 204)

            // Concurrency, through the host's reserved and provisioned concurrency.
            #expect(result["put_concurrency"] as? Int == 3)
            #expect(result["get_concurrency"] as? Int == 3)
            #expect((result["described_concurrency"] as? [String: Int])?["ReservedConcurrentExecutions"] == 3)
            #expect(result["after_delete"] is NSNull)
            #expect((result["provisioned"] as? [String: Any])?["RequestedProvisionedConcurrentExecutions"] as? Int == 1)
            #expect(result["provisioned_read"] as? Int == 1)
            #expect(result["account"] as? Int ?? 0 > 0)

            let refused = try #require(result["refused"] as? [String: [String: Any]])
            func code(_ name: String) -> String? { refused[name]?["code"] as? String }
            #expect(code("throttled") == "TooManyRequestsException")
            #expect(refused["throttled"]?["status"] as? Int == 429)
            #expect(code("unknown") == "ResourceNotFoundException")
            #expect(code("unknown_get") == "ResourceNotFoundException")
            #expect(code("no_provisioned") == "ProvisionedConcurrencyConfigNotFoundException")
            #expect(code("version") == "InvalidParameterValueException")
            #expect(code("negative_reserved") == "InvalidParameterValueException")
            #expect(code("bad_signature") == "InvalidSignatureException")
            #expect(refused["bad_signature"]?["status"] as? Int == 403)

            // The aws CLI's lambda invoke, unmodified.
            let cli = try #require(result["cli"] as? [String: Any])
            #expect(cli["status"] as? Int == 0, "\(cli["stderr"] ?? "")")
            #expect((cli["answer"] as? [String: Any])?["StatusCode"] as? Int == 200)
            #expect((cli["payload"] as? [String: Any])?["label"] as? String == "Positive")

            // The Event invocation ran through the async queue, as Plumb's API shows; the throttle was counted.
            try await waitUntil("the queued event to run", timeout: .seconds(20)) {
                let (_, events) = try await HTTP.request(
                    "GET", server.baseURL + "/api/v1/functions/sentiment.classify/events?status=succeeded",
                    token: server.token)
                let list = (try JSONSerialization.jsonObject(with: Data(events)) as? [String: Any])?["events"] as? [Any]
                return (list?.count ?? 0) >= 1
            }
        }
    }
}
