/// Collects the problems of one configuration document (or one load of several) as `ConfigFields` reads it.
///
/// A class so that every `ConfigFields` of a document, nested or not, appends to the same list; it is used by one
/// parse at a time and never shared across tasks.
public final class ConfigErrorSink {
    public var errors: [AlertFileError] = []

    public init() {}
}
