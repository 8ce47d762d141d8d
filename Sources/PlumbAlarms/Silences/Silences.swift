import Foundation
import PlumbAPI
import PlumbMetrics
import PlumbStore
import Synchronization

/// The silences, held in memory for the evaluation path (every transition asks) and persisted in the alarm store.
///
/// Like Alertmanager's: a silence has an id, its creator, a comment, a matcher, a start and an end; expiring one
/// ends it now; expired silences stay listed for five days (Alertmanager's default retention, 120 h) and are then
/// dropped.
public final class Silences: Sendable {
    let store: (any AlarmStoring)?
    let all: Mutex<[String: Silence]>

    /// How long an expired silence stays listed.
    public static let expiredRetention: Int64 = 5 * 86_400
    /// The longest silence: a year (a longer one is a deleted alarm action, not a silence).
    public static let maxDuration: Int64 = 366 * 86_400
    /// A comment has at most this many characters.
    public static let maxCommentLength = 1_000

    /// Silences as `loaded` from `store` (none without one).
    public init(store: (any AlarmStoring)?, loaded: [Silence] = []) {
        self.store = store
        all = Mutex(Dictionary(loaded.map { ($0.id, $0) }, uniquingKeysWith: { $1 }))
    }

    /// The silences `store` holds.
    public static func load(from store: any AlarmStoring) async throws -> Silences {
        Silences(store: store, loaded: try await store.load().silences)
    }

    /// Takes in what another node stored: silences this one has not seen are added, and of two versions of one
    /// silence the one that ends first wins (expiring only ever brings the end closer).
    func merge(_ stored: [Silence]) {
        all.withLock { all in
            for silence in stored {
                if let mine = all[silence.id], mine.endsAt <= silence.endsAt { continue }
                all[silence.id] = silence
            }
        }
    }

    /// Silences `matcher` for `duration` seconds from `now`. Every input is checked before anything is stored; the
    /// error names the field (`alarm`, `match`, `duration`, `comment`).
    public func add(
        _ matcher: SilenceMatcher, duration: Int64, createdBy: String, comment: String, now: Int64
    ) async throws(AlarmError) -> Silence {
        if let problem = SilenceMatcher.problem(matcher.text) { throw AlarmError("\(matcher.kind) \(problem)") }
        guard duration > 0, duration <= Self.maxDuration else {
            throw AlarmError("duration must be more than 0 and at most \(Self.maxDuration / 86_400) days")
        }
        if let problem = Self.commentProblem(comment) { throw AlarmError("comment \(problem)") }
        let (end, overflow) = now.addingReportingOverflow(duration)
        guard !overflow, Checked.epochSeconds(Double(end)) != nil else {
            throw AlarmError("duration ends past the year 5138")
        }
        let silence = Silence(
            id: UUID().uuidString.lowercased(), matcher: matcher, createdBy: createdBy, comment: comment, startsAt: now,
            endsAt: end, createdAt: now)
        try await persist(silence)
        all.withLock { $0[silence.id] = silence }
        return silence
    }

    /// Ends a silence now. Expiring one that has ended is a 409; an unknown id a 404.
    public func expire(id: String, by caller: String, now: Int64) async throws(AlarmError) -> Silence {
        guard var silence = all.withLock({ $0[id] }) else {
            throw AlarmError(status: 404, code: "ResourceNotFound", "no silence '\(Checked.shown(id))'")
        }
        guard silence.state(at: now) != .expired else {
            throw AlarmError(
                status: 409, code: "InvalidState",
                "silence \(id) already expired at \(TimeParsing.format(silence.endsAt))")
        }
        silence.endsAt = max(now, silence.startsAt)
        silence.expiredBy = caller
        try await persist(silence)
        all.withLock { $0[id] = silence }
        return silence
    }

    /// Active and pending silences, then those expired within `expiredRetention`, newest first.
    public func list(now: Int64) -> [Silence] {
        all.withLock { Array($0.values) }
            .filter { $0.endsAt >= now - Self.expiredRetention }
            .sorted {
                ($0.state(at: now) == .expired ? 1 : 0, -$0.createdAt, $0.id) < (
                    $1.state(at: now) == .expired ? 1 : 0, -$1.createdAt, $1.id
                )
            }
    }

    public func silence(id: String) -> Silence? { all.withLock { $0[id] } }

    /// The active silence that holds `alarm` at `now` — of several, the one that lasts longest — or nil.
    public func active(for alarm: String, at now: Int64) -> Silence? {
        all.withLock { silences in
            silences.values.filter { $0.holds(alarm, at: now) }.max { ($0.endsAt, $1.id) < ($1.endsAt, $0.id) }
        }
    }

    /// Forgets silences expired longer than `expiredRetention` ago.
    public func prune(now: Int64) async throws {
        let cutoff = now - Self.expiredRetention
        all.withLock { $0 = $0.filter { $0.value.endsAt >= cutoff } }
        try await store?.pruneSilences(endedBefore: cutoff)
    }

    func persist(_ silence: Silence) async throws(AlarmError) {
        do {
            try await store?.save(silence)
        } catch {
            throw AlarmError.storeFailed("cannot store the silence", error)
        }
    }

    /// Why `comment` cannot be a silence's comment, or nil: 1 to 1,000 characters on one line, no control characters.
    static func commentProblem(_ comment: String) -> String? {
        guard !comment.trimmingCharacters(in: .whitespaces).isEmpty, comment.count <= maxCommentLength else {
            return "must have 1 to \(maxCommentLength) characters (say why the alarm is silenced)"
        }
        guard !comment.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return "must be one line without control characters"
        }
        return nil
    }
}
