/// A key press, as the terminal backend reports it.
enum Key: Equatable, Sendable {
    case character(Character)
    case up, down, left, right, home, end, pageUp, pageDown
    case enter, escape, backspace, tab, backTab, f1
    case resize
}
