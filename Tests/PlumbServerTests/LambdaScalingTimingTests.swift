import Foundation
import PlumbServerTesting
import PlumbTesting
import Testing

/// A step of load on a Python handler's route (`plumb load`, closed model, 1 then 6 users): process instances are
/// started as the load needs them (cold starts, each with its REPORT line's Init Duration), the autoscaler records
/// its scaling activities, and every call is answered, as for a Swift plugin's function. Its windows are wall-clock
/// seconds, so it runs in the suite's serial pass (a *TimingTests type).
@Suite("Lambda handlers under a step of load")
struct LambdaScalingTimingTests {
    @Test("a step from 1 to 6 users: cold starts, scaling activities, no errors")
    func stepOfLoad() async throws {
        let root = TemporaryDirectory("plumb-lambda-step")
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.path + "/code", withIntermediateDirectories: true)
        try """
        import json
        import time


        def handler(event, context):
            time.sleep(0.05)
            return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps({"ok": True})}
        """.write(toFile: root.path + "/code/app.py", atomically: true, encoding: .utf8)
        try """
        functions:
          step: {runtime: python3, handler: app.handler, code: \(root.path)/code, route: "POST /step", access: public, report_log: all}
        """.write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        try """
        version: 1
        name: lambda-step
        path: http
        target: \(server.baseURL)
        vus: 1
        duration: 8s
        warmup: 0s
        requests:
          - name: step
            method: POST
            path: /apps/lambda/step
            body: '{}'
        """.write(toFile: root.path + "/step.yaml", atomically: true, encoding: .utf8)

        let load = try await CLI.run(
            [
                "load", root.path + "/step.yaml", "--steps", "1,6", "--json", root.path + "/step.json", "--token",
                server.token,
            ], timeout: .seconds(120))
        #expect(load.status == 0, "\(load.output)")
        let report = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: root.path + "/step.json")))
        let steps = ((report as? [String: Any])?["steps"] as? [[String: Any]]) ?? []
        #expect(steps.count == 2, "\(load.output)")
        for step in steps {
            #expect(step["errors"] as? Int == 0 && (step["completed"] as? Int ?? 0) > 0, "\(step["statuses"] ?? "")")
        }
        // Six users each holding an instance 50 ms: more instances than the one warm at the start.
        let (_, scalingBody) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/functions/step/scaling", token: server.token)
        let scaling = (try? JSONSerialization.jsonObject(with: Data(scalingBody)) as? [String: Any]) ?? [:]
        let activities = scaling["activities"] as? [[String: Any]] ?? []
        let raised = activities.filter { ($0["to"] as? Int ?? 0) > ($0["from"] as? Int ?? 0) }
        #expect(!raised.isEmpty, "the autoscaler scaled up: \(activities)")
        // Six calls at once need six instances (one invocation each): started by the autoscaler or by cold starts.
        let instances = scaling["instances"] as? Int ?? 0
        #expect(instances >= 6 || raised.contains { ($0["to"] as? Int ?? 0) >= 6 }, "\(instances): \(activities)")
        // Calls that waited on a new process carry its Init Duration in their REPORT line (an instance the autoscaler
        // started ahead of a call is warm when it gets one, as Lambda's provisioned instances are).
        var coldCalls = 0
        for _ in 0..<50 {
            let (_, body) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/logs/%2Faws%2Flambda%2Fstep?filter=%22Init%20Duration%22&limit=1000",
                token: server.token)
            let events = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["events"] as? [Any]
            coldCalls = events?.count ?? 0
            if coldCalls >= 2 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(coldCalls >= 2, "calls that waited on a cold start: \(coldCalls); \(activities)")
    }

    @Test("a runtime that exits while idle is dropped, not handed the next call")
    func idleDeath() async throws {
        let root = TemporaryDirectory("plumb-lambda-idle")
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.path + "/code", withIntermediateDirectories: true)
        try """
        import os
        import threading


        def handler(event, context):
            # The process ends a moment after answering, while it waits for its next call.
            threading.Timer(0.2, os._exit, [0]).start()
            return {"pid": os.getpid()}
        """.write(toFile: root.path + "/code/app.py", atomically: true, encoding: .utf8)
        try """
        functions:
          brief: {runtime: python3, handler: app.handler, code: \(root.path)/code}
        """.write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        var pids: [Int] = []
        for _ in 0..<3 {
            let (status, body) = try await HTTP.request(
                "POST", server.baseURL + "/api/v1/functions/brief/invoke", body: Array("{}".utf8), token: server.token)
            let answer = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
            #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
            pids.append(answer["pid"] as? Int ?? 0)
            try await Task.sleep(for: .seconds(1))
        }
        #expect(Set(pids).count == 3, "each call on a new process: \(pids)")
    }
}
