/// The release this build is: `plumb version`, and what each node of a cluster reports of itself.
public enum PlumbVersion {
    public static let current = "0.1.0"
}
