import Foundation
import NIOCore
import NIOPosix

/// The sd_notify protocol (a datagram to `$NOTIFY_SOCKET`), spoken directly: READY=1, STATUS=…, WATCHDOG=1,
/// RELOADING=1, STOPPING=1. Without `NOTIFY_SOCKET` every call does nothing.
public final class SystemdNotifier: Sendable {
    let socketPath: String?
    /// Half of `WATCHDOG_USEC` when systemd asked for watchdog pings for this process.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        var interval: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 {
            let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
            // At most a day between pings (systemd allows longer; no trap converting it to nanoseconds later).
            if forUs { interval = .microseconds(min(usec, 172_800_000_000) / 2) }
        }
        watchdogInterval = socketPath == nil ? nil : interval
    }

    public var isActive: Bool { socketPath != nil }

    /// Sends one notification; failures are ignored (systemd may be gone during shutdown).
    public func notify(_ state: String) {
        guard let path = socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let message = Array(state.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
    }

    /// Pings the watchdog from an event loop of the server's group, so a hung loop stops the pings.
    public func startWatchdog(on loop: any EventLoop) -> RepeatedTask? {
        guard let interval = watchdogInterval else { return nil }
        let amount = TimeAmount.nanoseconds(
            Int64(interval.components.seconds) * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000)
        return loop.scheduleRepeatedTask(initialDelay: .zero, delay: amount) { _ in
            self.notify("WATCHDOG=1")
        }
    }

    /// `MONOTONIC_USEC` for RELOADING=1 (Type=notify-reload wants it).
    static var monotonicMicroseconds: UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1_000
    }
}
