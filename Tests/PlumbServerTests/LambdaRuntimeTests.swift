import Foundation
import PlumbServerTesting
import PlumbTesting
import Testing

/// Unmodified Python Lambda handlers run by the real `awslambdaric` (PyPI) as process instances of Plumb's pool,
/// through the Lambda Runtime API each instance serves: an answer, a raised error in Lambda's shape, a timeout that
/// kills the process and replaces the instance, an init that fails, and the handlers' lines in `/aws/lambda/NAME`.
@Suite("Lambda handlers through the Runtime API", .serialized)
struct LambdaRuntimeTests {
    static let handlers = """
        import json
        import os
        import sys
        import time

        COLD = time.time()


        def echo(event, context):
            print("echo got", json.dumps(event, sort_keys=True))
            return {"event": event, "function": context.function_name, "request": context.aws_request_id,
                    "remaining_ms": context.get_remaining_time_in_millis(),
                    "memory": context.memory_limit_in_mb, "runtime_api": bool(os.environ.get("AWS_LAMBDA_RUNTIME_API")),
                    "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "pid": os.getpid(),
                    "trace": os.environ.get("_X_AMZN_TRACE_ID"), "path": sys.path[:4]}


        def comments(event, context):
            body = json.loads(event["body"] or "{}")
            return {"statusCode": 201,
                    "headers": {"content-type": "application/json", "x-comment": event["pathParameters"]["id"]},
                    "body": json.dumps({"text": body.get("text"), "query": event["queryStringParameters"],
                                        "resource": event["resource"], "method": event["httpMethod"],
                                        "path": event["path"]})}


        def notify(event, context):
            import boto3
            sns = boto3.client("sns")
            topic = "arn:aws:sns:us-east-1:000000000000:" + event["topic"]
            try:
                sent = sns.publish(TopicArn=topic, Subject="from a handler", Message=event["message"])
                return {"published": sent["MessageId"]}
            except Exception as error:
                return {"refused": type(error).__name__, "code": getattr(error, "response", {}).get("Error", {}).get("Code")}


        def findings(event, context):
            record = event["Records"][0]
            with open(os.environ["OUT"], "a") as out:
                out.write(json.dumps({"source": record["EventSource"], "message": record["Sns"]["Message"],
                                      "subject": record["Sns"]["Subject"], "topic": record["Sns"]["TopicArn"],
                                      "signed": bool(record["Sns"]["Signature"])}) + "\\n")
            return {}


        def peer(event, context):
            import subprocess
            api = os.environ["AWS_LAMBDA_RUNTIME_API"]
            probe = ("import urllib.request, urllib.error\\n"
                     "try:\\n"
                     "    urllib.request.urlopen(urllib.request.Request('http://%s/2018-06-01/runtime/invocation/"
                     "bogus/response', data=b'{}', method='POST'))\\n"
                     "    print(202)\\n"
                     "except urllib.error.HTTPError as error:\\n"
                     "    print(error.code)\\n") % api
            child = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
            return {"api": api, "child_status": int(child.stdout.strip() or 0), "pid": os.getpid()}


        def boom(event, context):
            raise ValueError("the order has no lines")


        def hog(event, context):
            blocks = [bytearray(16 * 1024 * 1024) for _ in range(32)]
            return {"allocated_mb": 16 * len(blocks)}


        def spin(event, context):
            while True:
                pass


        def slow(event, context):
            time.sleep(event.get("seconds", 5))
            return {"pid": os.getpid()}
        """

    static let brokenInit = """
        import sys
        sys.exit(3)

        def handler(event, context):
            return {}
        """

    func invoke(_ server: ServerProcess, _ name: String, _ body: String) async throws -> (Int, [String: Any]) {
        let (status, answer) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/functions/\(name)/invoke", body: Array(body.utf8), token: server.token)
        return (status, (try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any]) ?? [:])
    }

    @Test("answers, Lambda's error shape, a timeout that replaces the instance, an init error, and the log group")
    func handlersRun() async throws {
        let root = TemporaryDirectory("plumb-lambda")
        defer { root.remove() }
        let code = root.path + "/code"
        let broken = root.path + "/broken"
        try FileManager.default.createDirectory(atPath: code, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try Self.handlers.write(toFile: code + "/app.py", atomically: true, encoding: .utf8)
        try Self.brokenInit.write(toFile: broken + "/app.py", atomically: true, encoding: .utf8)
        try """
        functions:
          echo: {runtime: python3, handler: app.echo, code: \(code), memory_mb: 256, report_log: all, environment: {PYTHONPATH: /opt/extra}}
          peer: {runtime: python3, handler: app.peer, code: \(code)}
          boom: {runtime: python3, handler: app.boom, code: \(code), on_failure: failures, maximum_retry_attempts: 0}
          findings: {runtime: python3, handler: app.findings, code: \(code), environment: {OUT: \(root.path)/findings.jsonl}}
          notify: {runtime: python3, handler: app.notify, code: \(code), role: notifier, timeout: 10}
          anonymous: {runtime: python3, handler: app.notify, code: \(code), timeout: 10}
          comments: {runtime: python3, handler: app.comments, code: \(code), route: "POST /comments/{id}", access: public}
          broken-route: {runtime: python3, handler: app.boom, code: \(code), route: "GET /boom", access: public}
          slow: {runtime: python3, handler: app.slow, code: \(code), timeout: 1}
          spin: {runtime: python3, handler: app.spin, code: \(code), timeout: 1}
          hog: {runtime: python3, handler: app.hog, code: \(code), memory_mb: 128}
          narrow: {runtime: python3, handler: app.slow, code: \(code), reserved: 2, timeout: 10}
          broken: {runtime: python3, handler: app.handler, code: \(broken)}
        """.write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()

        let (status, echoed) = try await invoke(server, "echo", #"{"order": 42}"#)
        #expect(status == 200, "\(echoed) \(server.log.suffix(2_000))")
        #expect((echoed["event"] as? [String: Any])?["order"] as? Int == 42)
        #expect(echoed["function"] as? String == "echo")
        #expect(echoed["memory"] as? String == "256")
        #expect(echoed["runtime_api"] as? Bool == true)
        #expect((echoed["remaining_ms"] as? Int ?? 0) > 2_000, "the deadline is 3 s away: \(echoed)")
        // X-Ray's trace header (awslambdaric sets _X_AMZN_TRACE_ID from it); the code leads the function's PYTHONPATH.
        let trace = echoed["trace"] as? String ?? ""
        #expect(
            trace.range(
                of: #"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$"#, options: .regularExpression)
                != nil, "\(trace)")
        let path = echoed["path"] as? [String] ?? []
        let codePath = URL(fileURLWithPath: code).standardizedFileURL.path
        #expect(path.contains(codePath) && path.contains("/opt/extra"), "\(path)")
        #expect(path.firstIndex(of: codePath) ?? 9 < path.firstIndex(of: "/opt/extra") ?? 0, "\(path)")
        let (_, again) = try await invoke(server, "echo", #"{"order": 43}"#)
        #expect(again["pid"] as? Int == echoed["pid"] as? Int, "a warm instance is reused")

        // The Runtime API answers the instance's runtime and its children only: a child process of the handler gets
        // past the check (400: not the invocation in progress), another process of the host is refused 403 whatever
        // it asks, and the instance goes on undisturbed.
        let (_, peer) = try await invoke(server, "peer", "{}")
        #expect(peer["child_status"] as? Int == 400, "\(peer)")
        let api = try #require(peer["api"] as? String)
        for (method, path) in [
            ("GET", "/2018-06-01/runtime/invocation/next"), ("POST", "/2018-06-01/runtime/init/error"),
            ("POST", "/2018-06-01/runtime/invocation/bogus/response"),
            ("POST", "/2018-06-01/runtime/invocation/bogus/error"),
        ] {
            let (status, answer) = try await HTTP.request(
                method, "http://\(api)\(path)", body: method == "POST" ? Array("{}".utf8) : nil)
            #expect(status == 403, "\(method) \(path): \(String(decoding: answer, as: UTF8.self))")
        }
        let (peerAgain, peerSecond) = try await invoke(server, "peer", "{}")
        #expect(peerAgain == 200 && peerSecond["pid"] as? Int == peer["pid"] as? Int, "\(peerSecond)")

        // Through its HTTP route: API Gateway's proxy event in, its proxy answer out; a raised error is a 502.
        let (routed, headers, answer) = try await HTTP.exchange(
            "POST", server.baseURL + "/apps/lambda/comments/7?lang=en", body: Array(#"{"text": "hi"}"#.utf8))
        let comment = (try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any]) ?? [:]
        #expect(routed == 201, "\(String(decoding: answer, as: UTF8.self))")
        #expect(headers["x-comment"] == "7")
        #expect(comment["text"] as? String == "hi" && comment["method"] as? String == "POST")
        #expect(
            comment["resource"] as? String == "/comments/{id}"
                && comment["path"] as? String == "/apps/lambda/comments/7")
        #expect((comment["query"] as? [String: String]) == ["lang": "en"])
        let (brokenRoute, brokenAnswer) = try await HTTP.request("GET", server.baseURL + "/apps/lambda/boom")
        #expect(brokenRoute == 502, "\(String(decoding: brokenAnswer, as: UTF8.self))")

        // boto3 inside a handler reaches Plumb at AWS_ENDPOINT_URL with credentials acting as its role user: allowed
        // what the role's policies allow (topics:Publish on `alerts`), refused the rest; no role, no credentials.
        for (method, path, body) in [
            ("POST", "/api/v1/iam/users", #"{"name": "notifier"}"#),
            ("POST", "/api/v1/topics", #"{"name": "alerts"}"#), ("POST", "/api/v1/topics", #"{"name": "other"}"#),
            (
                "PUT", "/api/v1/iam/policies/publish-alerts",
                #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "topic/alerts"}]}"#
            ),
            ("PUT", "/api/v1/iam/users/notifier/policies/publish-alerts", ""),
        ] {
            let (made, answer) = try await HTTP.request(
                method, server.baseURL + path, body: body.isEmpty ? nil : Array(body.utf8), token: server.token)
            #expect((200..<300).contains(made), "\(path): \(String(decoding: answer, as: UTF8.self))")
        }
        let (_, published) = try await invoke(server, "notify", #"{"topic": "alerts", "message": "disk full"}"#)
        #expect(published["published"] is String, "\(published)")
        let (_, refused) = try await invoke(server, "notify", #"{"topic": "other", "message": "x"}"#)
        #expect(refused["code"] as? String == "AuthorizationError", "\(refused)")
        let (_, anonymous) = try await invoke(server, "anonymous", #"{"topic": "alerts", "message": "x"}"#)
        #expect(anonymous["refused"] as? String == "NoCredentialsError", "\(anonymous)")

        // A topic subscription runs a handler with SNS's Lambda event; an async event that fails for good goes to the
        // function's on-failure topic, here subscribed by the same handler.
        for (path, body) in [
            ("/api/v1/topics", #"{"name": "failures"}"#),
            ("/api/v1/topics/alerts/subscriptions", #"{"protocol": "function", "endpoint": "findings"}"#),
            ("/api/v1/topics/failures/subscriptions", #"{"protocol": "function", "endpoint": "findings"}"#),
            ("/api/v1/topics/alerts/publish", #"{"subject": "sensor 4", "message": "vibration over limit"}"#),
            ("/api/v1/functions/boom/invoke?type=Event", #"{"order": 7}"#),
        ] {
            let (made, answer) = try await HTTP.request(
                "POST", server.baseURL + path, body: Array(body.utf8), token: server.token)
            #expect((200..<300).contains(made), "\(path): \(String(decoding: answer, as: UTF8.self))")
        }
        let records = try await waitFor("the two SNS events at the findings handler", timeout: .seconds(60)) {
            () -> [[String: Any]]? in
            let text = (try? String(contentsOfFile: root.path + "/findings.jsonl", encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            return lines.count >= 2 ? lines : nil
        }
        let alert = records.first { ($0["topic"] as? String)?.hasSuffix(":alerts") == true }
        #expect(alert?["source"] as? String == "aws:sns" && alert?["signed"] as? Bool == true, "\(records)")
        #expect(alert?["message"] as? String == "vibration over limit" && alert?["subject"] as? String == "sensor 4")
        let failure = records.first { ($0["topic"] as? String)?.hasSuffix(":failures") == true }
        #expect((failure?["message"] as? String ?? "").contains("the order has no lines"), "\(records)")

        let (failedStatus, failed) = try await invoke(server, "boom", "{}")
        #expect(failedStatus == 500, "\(failed)")
        #expect(failed["errorType"] as? String == "ValueError", "\(failed)")
        #expect(failed["errorMessage"] as? String == "the order has no lines")
        #expect((failed["stackTrace"] as? [Any])?.isEmpty == false)
        // Counted in Plumb/Functions Errors for the function, as a plugin's failure is.
        try await waitUntil("boom's errors in Plumb/Functions Errors", timeout: .seconds(30)) {
            let now = Int(Date().timeIntervalSince1970)
            let (_, body) = try await HTTP.request(
                "GET",
                server.baseURL
                    + "/api/v1/metrics/statistics?namespace=Plumb/Functions&name=Errors&dimensions=Function=boom"
                    + "&statistics=Sum&period=3600&start=\(now - 7_200)&end=\(now + 60)", token: server.token)
            return String(decoding: body, as: UTF8.self).range(of: #""Sum":\s*[1-9]"#, options: .regularExpression)
                != nil
        }

        let (timedOutStatus, timedOut) = try await invoke(server, "slow", #"{"seconds": 5}"#)
        #expect(timedOutStatus == 500)
        #expect(
            String(describing: timedOut).contains("Task timed out after 1.00 seconds"), "\(timedOut)")
        // A handler that never returns is cut at its timeout, not when it gives up.
        let spinStarted = ContinuousClock.now
        let (spinStatus, spun) = try await invoke(server, "spin", "{}")
        #expect(spinStatus == 500 && String(describing: spun).contains("Task timed out after 1.00 seconds"))
        #expect(ContinuousClock.now - spinStarted < .seconds(4), "answered after \(ContinuousClock.now - spinStarted)")
        let (quickStatus, quick) = try await invoke(server, "slow", #"{"seconds": 0}"#)
        #expect(quickStatus == 200, "a new instance replaced the killed one: \(quick)")

        // 512 MB asked of a 128 MB function: killed by its memory cgroup where one can be made (then reported as
        // Runtime.OutOfMemory), else refused by its data segment's limit (Python's MemoryError, in Lambda's shape).
        let (hogStatus, hog) = try await invoke(server, "hog", "{}")
        #expect(hogStatus == 500, "\(hog)")
        let hogText = String(describing: hog)
        #expect(
            hogText.contains("Runtime.OutOfMemory") || hog["errorType"] as? String == "MemoryError", "\(hog)")

        // Reserved concurrency 2 and ten calls at once, each holding its instance for a second: eight throttles.
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 { group.addTask { try await invoke(server, "narrow", #"{"seconds": 1}"#).0 } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 429 }.count == 8, "\(statuses.sorted())")
        #expect(statuses.filter { $0 == 200 }.count == 2, "\(statuses.sorted())")

        let (initStatus, initFailed) = try await invoke(server, "broken", "{}")
        #expect(initStatus == 500)
        #expect(String(describing: initFailed).contains("InitError"), "\(initFailed)")
        // The others are not disturbed.
        let (afterStatus, _) = try await invoke(server, "echo", "{}")
        #expect(afterStatus == 200)

        // Through Lambda's own API (boto3), with the log tail: the handler's line framed by START, END and REPORT.
        let data = server.dataDirectory
        let viaAWS = try await Python.peer(
            "lambda_invoke.py",
            [server.baseURL, data + "/aws.credentials", data + "/aws.config", "echo", #"{"via": "boto3"}"#])
        #expect(viaAWS["status"] as? Int == 200, "\(viaAWS)")
        #expect(((viaAWS["payload"] as? [String: Any])?["event"] as? [String: Any])?["via"] as? String == "boto3")
        let tail = (viaAWS["tail"] as? String ?? "").split(separator: "\n").map(String.init)
        #expect(tail.count == 4, "\(tail)")
        #expect(tail.first?.hasPrefix("START RequestId: ") == true)
        #expect(tail.dropFirst().first == #"echo got {"via": "boto3"}"#, "\(tail)")
        #expect(tail.dropFirst(2).first?.hasPrefix("END RequestId: ") == true)
        #expect(tail.last?.hasPrefix("REPORT RequestId: ") == true)
        let raised = try await Python.peer(
            "lambda_invoke.py", [server.baseURL, data + "/aws.credentials", data + "/aws.config", "boom", "{}"])
        #expect(raised["function_error"] as? String == "Unhandled")
        #expect((raised["payload"] as? [String: Any])?["errorType"] as? String == "ValueError", "\(raised)")

        // The handler's own line and Lambda's START/END/REPORT lines are in /aws/lambda/echo.
        try await waitFor("the handler's lines in /aws/lambda/echo", timeout: .seconds(20)) {
            let (_, body) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/logs/%2Faws%2Flambda%2Fecho?limit=100", token: server.token)
            let text = String(decoding: body, as: UTF8.self)
            return text.contains(#"echo got {\"order\": 42}"#) && text.contains("START RequestId:")
                && text.contains("REPORT RequestId:") ? true : nil
        }
    }
}
