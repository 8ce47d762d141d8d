extension FuzzTests {
    static var seeds: [Seed] { [Seed("GET", "/healthz")] }
}
