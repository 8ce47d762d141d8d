import PlumbIAM
import PlumbKit

/// Who made a request, as the server established it from its `Authorization` header.
public enum Caller: Sendable {
    /// No credential.
    case anonymous
    /// The admin token: everything.
    case admin
    /// A platform user's API token, with the user's policies.
    case iamUser(IAMPrincipal)
    /// An end user of the hosted apps (an access token the identity plugin vouches for).
    case endUser(EndUser)

    /// The audit trail's name for the caller.
    public var auditName: String {
        switch self {
        case .anonymous: "anonymous"
        case .admin: "admin"
        case .iamUser(let principal): "user:" + principal.user
        case .endUser(let user): "end-user:" + user.subject
        }
    }
}
