/// What a service's members are, where the wire does not say: the Query protocol sends every value as text and
/// answers in XML, and both XML and CBOR write timestamps in their own form, so the text `60` must be known to be a
/// number and the output `StateUpdatedTimestamp` a time. Names as AWS's model spells them.
public struct AWSMemberTypes: Sendable {
    /// Members (and list members, by the list's name) read as numbers.
    public var numbers: Set<String>
    /// The members answered as doubles (`2.0`) even when whole; other whole numbers are answered as integers.
    public var doubles: Set<String>
    /// Members read as booleans (`true`/`false`).
    public var booleans: Set<String>
    /// Members holding times: epoch seconds in the services' values; ISO 8601 in XML, tag 1 in CBOR.
    public var timestamps: Set<String>
    /// Members that are maps (`entry.N.key`/`entry.N.value` in a form, `<entry>` in XML), not structures.
    public var maps: Set<String>
    /// Lists, so a Query form's `NAME=` (how an empty list is sent) reads as an empty list, not as empty text.
    public var lists: Set<String>
    /// Lists whose structures' `Value` is text where `Value` is otherwise a number (CloudWatch's `Dimensions`).
    public var textValueLists: Set<String>

    public init(
        numbers: Set<String> = [], doubles: Set<String> = [], booleans: Set<String> = [], timestamps: Set<String> = [],
        maps: Set<String> = [],
        lists: Set<String> = [], textValueLists: Set<String> = []
    ) {
        self.numbers = numbers
        self.doubles = doubles
        self.booleans = booleans
        self.timestamps = timestamps
        self.maps = maps
        self.lists = lists
        self.textValueLists = textValueLists
    }

    /// Whether the member `name`, inside the list or structure `parent`, is a number.
    func isNumber(_ name: String, parent: String) -> Bool {
        numbers.contains(name) && !(name == "Value" && textValueLists.contains(parent))
    }
}
