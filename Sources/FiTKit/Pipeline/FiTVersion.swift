/// The version of FiTKit and the `fit` program built on it.
public enum FiTVersion {
    public static let current = "0.1.0"
    /// How generation records name the software that made a picture.
    public static let software = "fit \(current)"
}
