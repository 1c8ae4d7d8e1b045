/// Stepping through a list that wraps around, in either direction and by any number of notches
/// (`H` is ten back), without ever leaving the list.
extension Int {
    /// `self + delta` wrapped into `0..<count` (`count` ≥ 1).
    func wrapped(adding delta: Int, count: Int) -> Int {
        let m = Swift.max(count, 1)
        return ((self % m + delta % m) % m + m) % m
    }
}

extension Array where Element: Equatable {
    /// The element `delta` places after `element` (before it when negative), wrapping around;
    /// counted from the first element when `element` is not in the list. The list must not be empty.
    func cycled(from element: Element, by delta: Int) -> Element {
        self[(firstIndex(of: element) ?? 0).wrapped(adding: delta, count: count)]
    }
}
