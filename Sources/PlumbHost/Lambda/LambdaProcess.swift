import Foundation
import Logging
import Synchronization

/// A runtime process of a Lambda function: `python3 -m awslambdaric HANDLER` or the code's `bootstrap`, started in
/// the code directory with Lambda's environment, its data segment limited to the function's memory size, its
/// output lines logged to `/aws/lambda/NAME`. When it exits the session ends, with Lambda's words for why.
final class LambdaProcess: Sendable {
    /// The variables Lambda sets, which a function's `environment` may not.
    static let reservedVariables: Set<String> = [
        "_HANDLER", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    ]

    /// Kept so its termination handler keeps running.
    private let process: Mutex<Process?>
    let pid: Int32
    /// Why the process ended, once it has ("signal: killed", "exit status 1").
    private let exit = ExitReason()

    final class ExitReason: Sendable {
        let value = Mutex<String?>(nil)
        /// The kernel killed it for going past its memory cgroup's limit.
        let outOfMemory = Mutex(false)
    }

    /// The process was OOM-killed (past its memory size, in its cgroup).
    var outOfMemory: Bool { exit.outOfMemory.withLock { $0 } }

    /// Whether the memory size is enforced by a cgroup (else by the data segment's rlimit).
    let hasCgroup: Bool

    /// Starts the runtime; its end ends `session`.
    init(
        _ definition: LambdaFunctionDefinition, runtimeAPI: String, session: LambdaRuntimeSession,
        environment extra: [String: String], logger: Logger
    ) throws {
        let process = Process()
        var command: [String]
        switch definition.runtime {
        case .python3: command = ["python3", "-m", "awslambdaric", definition.handler]
        case .provided: command = [definition.codeDirectory + "/bootstrap"]
        }
        // A shell puts itself in the instance's memory cgroup (an OOM kill past the memory size), or else limits its
        // data segment (heap and private writable mappings), then becomes the runtime.
        let cgroup = LambdaMemoryCgroup.make(id: session.id, bytes: definition.memoryMB * 1_048_576)
        let rlimit = "ulimit -d \(definition.memoryMB * 1_024)"
        // A cgroup the shell cannot join (a delegation that allows the limit but not the move) falls back to the rlimit.
        let limit = cgroup.map { "{ echo $$ > '\($0.path)/cgroup.procs'; } 2>/dev/null || \(rlimit)" } ?? rlimit
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "{ \(limit); } && exec \"$0\" \"$@\""] + command
        process.currentDirectoryURL = URL(fileURLWithPath: definition.codeDirectory)
        var environment = definition.environment.merging(extra) { $1 }
        let inherited = ProcessInfo.processInfo.environment
        // The function's own PATH when it gives one (Lambda's is the runtime's), else the server's.
        environment["PATH"] = environment["PATH"] ?? inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        if let home = inherited["HOME"] { environment["HOME"] = home }
        // Credentials come from the environment only (the function's role), never from the server's own files.
        environment["AWS_SHARED_CREDENTIALS_FILE"] = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "/nonexistent"
        environment["AWS_CONFIG_FILE"] = environment["AWS_CONFIG_FILE"] ?? "/nonexistent"
        // No instance-profile credentials from a cloud host's metadata service either.
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        environment["LANG"] = environment["LANG"] ?? "en_US.UTF-8"
        environment["TZ"] = environment["TZ"] ?? ":UTC"
        environment["_HANDLER"] = definition.handler
        environment["AWS_LAMBDA_RUNTIME_API"] = runtimeAPI
        environment["AWS_LAMBDA_FUNCTION_NAME"] = definition.name
        environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = String(definition.memoryMB)
        environment["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
        environment["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + definition.name
        environment["AWS_LAMBDA_LOG_STREAM_NAME"] = session.id
        environment["LAMBDA_TASK_ROOT"] = definition.codeDirectory
        environment["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + definition.runtime.rawValue
        if definition.runtime == .python3 {
            // The code first, then what the function adds (Lambda's task root leads its path too).
            environment["PYTHONPATH"] = [definition.codeDirectory, environment["PYTHONPATH"]].compactMap { $0 }
                .joined(separator: ":")
            environment["PYTHONUNBUFFERED"] = "1"
        }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let exit = self.exit
        process.terminationHandler = { finished in
            let reason =
                finished.terminationReason == .uncaughtSignal
                ? "signal: \(Self.signalName(finished.terminationStatus))"
                : "exit status \(finished.terminationStatus)"
            let outOfMemory = cgroup?.oomKilled ?? false
            exit.value.withLock { $0 = reason }
            exit.outOfMemory.withLock { $0 = outOfMemory }
            cgroup?.remove()
            session.end(.init(reason: "Runtime exited with error: \(reason)"))
        }
        hasCgroup = cgroup != nil
        self.cgroup = cgroup
        do { try process.run() } catch {
            cgroup?.remove()
            throw error
        }
        pid = process.processIdentifier
        session.attach(runtimePID: pid)
        self.process = Mutex(process)
        // The read end is ours from here (a duplicate, so the Pipe's own handle may close with it); the write end
        // is the child's alone, so the pipe ends when the process does.
        self.output = LambdaOutput(descriptor: dup(output.fileHandleForReading.fileDescriptor), logger: logger)
        try? output.fileHandleForWriting.close()
        try? output.fileHandleForReading.close()
    }

    /// The process's output lines.
    let output: LambdaOutput

    var exitReason: String? { exit.value.withLock { $0 } }

    /// Ends the process at once (a timeout, a reclaimed instance, the server stopping), and with a cgroup every
    /// process the handler started too.
    func kill() {
        if let cgroup {
            for member in cgroup.processes() { Foundation.kill(member, SIGKILL) }
        }
        guard exitReason == nil, pid > 0 else { return }
        Foundation.kill(pid, SIGKILL)
    }

    /// The runtime's memory cgroup, when it has one.
    private let cgroup: LambdaMemoryCgroup?

    deinit { kill() }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: "killed"
        case SIGTERM: "terminated"
        case SIGSEGV: "segmentation fault"
        case SIGABRT: "aborted"
        default: "\(signal)"
        }
    }
}
