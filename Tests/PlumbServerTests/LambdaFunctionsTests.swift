import Foundation
import PlumbServerTesting
import PlumbStore
import PlumbTesting
import Testing

/// Lambda handlers made, changed and deleted through the API: `plumb functions create|update|delete` (a provided
/// runtime's executable bootstrap from a directory), Lambda's CreateFunction, UpdateFunctionCode,
/// UpdateFunctionConfiguration and DeleteFunction through real boto3 and the aws CLI, only with the admin's
/// credentials, and still there after a restart with their environment sealed on disk.
@Suite("Lambda functions made through the API")
struct LambdaFunctionsTests {
    /// A `provided` runtime: a bootstrap (Python, no runtime client) speaking the Runtime API itself.
    static let bootstrap = """
        #!/usr/bin/env python3
        import json, os, urllib.request
        api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
        while True:
            with urllib.request.urlopen(api + "next") as response:
                request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
                event = json.load(response)
            answer = {"handler": os.environ["_HANDLER"], "secret": os.environ.get("SECRET"), "event": event,
                      "revision": open(os.environ["LAMBDA_TASK_ROOT"] + "/revision.txt").read().strip()}
            urllib.request.urlopen(urllib.request.Request(
                api + request_id + "/response", data=json.dumps(answer).encode(), method="POST")).read()
        """

    @Test("the CLI and boto3 make, change and delete handlers; only the admin may; they survive a restart")
    func madeThroughTheAPI() async throws {
        let root = TemporaryDirectory("plumb-lambda-made")
        defer { root.remove() }
        let code = root.path + "/code"
        try FileManager.default.createDirectory(atPath: code, withIntermediateDirectories: true)
        try Self.bootstrap.write(toFile: code + "/bootstrap", atomically: true, encoding: .utf8)
        _ = chmod(code + "/bootstrap", 0o755)
        try "1".write(toFile: code + "/revision.txt", atomically: true, encoding: .utf8)
        let data = root.path + "/data"
        var server = try ServerProcess(dataDirectory: data)
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        func plumb(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            try await CLI.run(["functions"] + arguments + ["--server", server.baseURL, "--token", server.token])
        }
        func invoke(_ name: String) async throws -> [String: Any] {
            let (status, body) = try await HTTP.request(
                "POST", server.baseURL + "/api/v1/functions/\(name)/invoke", body: Array(#"{"n": 1}"#.utf8),
                token: server.token)
            #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
            return (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
        }

        // The CLI zips the directory (the bootstrap keeps its execute bit) and makes the function.
        let created = try await plumb([
            "create", "kept", "--runtime", "provided.al2023", "--handler", "my.handler", "--code", code, "--env",
            "SECRET=tangerine-orbit-47", "--timeout", "5",
        ])
        #expect(created.status == 0 && created.output.contains("created function kept"), "\(created.output)")
        var answer = try await invoke("kept")
        #expect(answer["handler"] as? String == "my.handler" && answer["revision"] as? String == "1", "\(answer)")
        #expect(answer["secret"] as? String == "tangerine-orbit-47")
        let twice = try await plumb(["create", "kept", "--runtime", "provided", "--handler", "h", "--code", code])
        #expect(twice.status != 0 && twice.output.contains("ResourceConflictException"), "\(twice.output)")
        try "2".write(toFile: code + "/revision.txt", atomically: true, encoding: .utf8)
        let updated = try await plumb(["update", "kept", "--code", code])
        #expect(updated.status == 0, "\(updated.output)")
        answer = try await invoke("kept")
        #expect(
            answer["revision"] as? String == "2" && answer["secret"] as? String == "tangerine-orbit-47", "\(answer)")
        let plugin = try await plumb(["update", "sentiment.classify", "--timeout", "9"])
        #expect(plugin.output.contains("ResourceConflictException"), "\(plugin.output)")
        let described = try await plumb(["describe", "kept"])
        #expect(
            described.output.contains("provided.al2023") && described.output.contains("definedBy"),
            "\(described.output)")

        // Only the admin token: an IAM user allowed everything on functions is refused.
        for (method, path, body) in [
            ("POST", "/api/v1/iam/users", #"{"name": "deployer"}"#),
            (
                "PUT", "/api/v1/iam/policies/all-functions",
                #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "functions:*", "Resource": "*"}]}"#
            ),
            ("PUT", "/api/v1/iam/users/deployer/policies/all-functions", ""),
        ] {
            let (status, answer) = try await HTTP.request(
                method, server.baseURL + path, body: body.isEmpty ? nil : Array(body.utf8), token: server.token)
            #expect((200..<300).contains(status), "\(path): \(String(decoding: answer, as: UTF8.self))")
        }
        let (_, tokenBody) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/iam/users/deployer/tokens", body: Array("{}".utf8), token: server.token)
        let userToken = try #require(
            (try JSONSerialization.jsonObject(with: Data(tokenBody)) as? [String: Any])?["token"] as? String)
        let (asUser, _) = try await HTTP.request(
            "DELETE", server.baseURL + "/api/v1/functions/kept", token: userToken)
        #expect(asUser == 403, "a handler is code run on the host: admin token only")

        // boto3 and the aws CLI, with the admin's key.
        let result = try await Python.peer(
            "lambda_functions.py", [server.baseURL, data + "/aws.credentials", data + "/aws.config", root.path])
        let made = result["created"] as? [String: Any] ?? [:]
        #expect(made["Runtime"] as? String == "python3.12" && made["Handler"] as? String == "app.handler", "\(made)")
        #expect(made["CodeSha256"] as? String == result["sha_expected"] as? String, "\(made)")
        #expect(made["CodeSize"] as? Int == result["size_expected"] as? Int)
        #expect(made["Role"] as? String == "arn:aws:iam::000000000000:role/nobody")
        func payload(_ key: String) -> [String: Any] {
            ((result[key] as? [String: Any])?["payload"] as? [String: Any]) ?? [:]
        }
        #expect(payload("first")["version"] as? Int == 1 && payload("first")["mode"] as? String == "a", "\(result)")
        #expect(payload("after_code")["version"] as? Int == 2 && payload("after_code")["mode"] as? String == "a")
        #expect(payload("after_configuration")["mode"] as? String == "b", "\(result["after_configuration"] ?? "")")
        let configuration = result["configuration"] as? [String: Any] ?? [:]
        #expect(configuration["Timeout"] as? Int == 7, "\(configuration)")
        #expect(
            ((configuration["Environment"] as? [String: Any])?["Variables"] as? [String: String]) == ["MODE": "b"])
        #expect(configuration["Description"] as? String == "made by boto3")
        #expect((result["listed"] as? [String])?.contains("made") == true)
        let refused = result["refused"] as? [String: Any] ?? [:]
        #expect(refused["again"] as? String == "ResourceConflictException", "\(refused)")
        #expect(refused["plugin"] as? String == "ResourceConflictException")
        for key in ["s3", "runtime", "traversal", "not_zip"] {
            #expect(refused[key] as? String == "InvalidParameterValueException", "\(key): \(refused)")
        }
        #expect(refused["missing"] as? String == "ResourceNotFoundException")
        #expect((result["cli_create"] as? [String: Any])?["status"] as? Int == 0, "\(result["cli_create"] ?? "")")
        #expect(((result["cli_invoke"] as? [String: Any])?["payload"] as? [String: Any])?["version"] as? Int == 9)
        #expect((result["cli_delete"] as? [String: Any])?["status"] as? Int == 0, "\(result["cli_delete"] ?? "")")
        #expect(result["after_delete"] as? String == "ResourceNotFoundException")
        #expect(!FileManager.default.fileExists(atPath: data + "/functions/made"), "a deleted function's files go")

        // On disk: owner-only, the environment sealed.
        let stored = data + "/functions/kept/function.json"
        let mode = try FileManager.default.attributesOfItem(atPath: stored)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let text = try String(contentsOfFile: stored, encoding: .utf8)
        #expect(!text.contains("tangerine-orbit-47") && text.contains("enc:v1:"), "\(text)")

        // A restart starts it again, with its code and environment; the config file's `code` may be a zip file too.
        server.kill(signal: SIGTERM)
        let zipped = try ZipArchive.archive([
            .init(path: "bootstrap", executable: true, bytes: Array(Self.bootstrap.utf8)),
            .init(path: "revision.txt", bytes: Array("zipped\n".utf8)),
        ])
        try Data(zipped).write(to: URL(fileURLWithPath: root.path + "/zipped.zip"))
        try "functions:\n  zipped: {runtime: provided, handler: z.handler, code: \(root.path)/zipped.zip}\n".write(
            toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        server = try ServerProcess(dataDirectory: data, extraArguments: ["--config", root.path + "/plumb.yaml"])
        try await server.waitReady()
        answer = try await invoke("kept")
        #expect(
            answer["revision"] as? String == "2" && answer["secret"] as? String == "tangerine-orbit-47", "\(answer)")
        answer = try await invoke("zipped")
        #expect(answer["revision"] as? String == "zipped" && answer["handler"] as? String == "z.handler", "\(answer)")
        let deleted = try await plumb(["delete", "kept"])
        #expect(deleted.status == 0, "\(deleted.output)")
        let (gone, _) = try await HTTP.request("GET", server.baseURL + "/api/v1/functions/kept", token: server.token)
        #expect(gone == 404)
    }
}
