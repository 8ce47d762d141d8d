/// A queued event names a function this host does not run (a subscription outlived its plugin).
public struct NoSuchFunction: Error, CustomStringConvertible {
    public var name: String
    public var description: String { "no function named '\(name)'" }
}
