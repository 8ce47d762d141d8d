#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// The process's open-file limit (RLIMIT_NOFILE).
///
/// Every connection is a descriptor, and the usual soft limit of 1,024 is reached by a few hundred slow clients plus
/// the WebSocket connections of a busy chat, after which `accept` fails for everyone. The hard limit is what the
/// administrator allows (systemd's `LimitNOFILE=`), so the server raises its soft limit to it at start.
public enum DescriptorLimit {
    /// The current soft and hard limits.
    public static var current: (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Raises the soft limit to the hard one; returns the soft limit before and after.
    @discardableResult
    public static func raiseSoftToHard() -> (before: UInt64, after: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        let before = UInt64(limit.rlim_cur)
        guard limit.rlim_cur < limit.rlim_max else { return (before, before) }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (before, before) }
        return (before, current.soft)
    }
}
