// The hook through which adapters change a frozen linear layer: y = x·Wᵀ + b + Δ(x).
// LoRA, DoRA, CUR-LoRA, CABR-LoRA and SECURA implement LinearDelta; the decoder calls it after each
// base projection in the forward pass and after each base input-gradient in the backward pass.

/// The seven linear projections of a decoder layer.
public enum Projection: String, CaseIterable, Sendable, Codable {
    case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj"
    case gate = "gate_proj", up = "up_proj", down = "down_proj"

    /// Module path inside a layer, as Hugging Face names it ("self_attn.q_proj", "mlp.up_proj").
    public var modulePath: String {
        switch self {
        case .q, .k, .v, .o: return "self_attn.\(rawValue)"
        case .gate, .up, .down: return "mlp.\(rawValue)"
        }
    }
}

/// One linear layer of the decoder: (layer index, projection).
public struct LinearSite: Hashable, Sendable, Comparable {
    public let layer: Int
    public let projection: Projection

    public init(layer: Int, projection: Projection) {
        self.layer = layer
        self.projection = projection
    }

    /// Hugging Face name of the site's weight ("model.layers.3.self_attn.q_proj.weight").
    public var weightName: String { ParameterName.layer(layer, projection.modulePath + ".weight") }

    public static func < (a: LinearSite, b: LinearSite) -> Bool {
        a.layer != b.layer ? a.layer < b.layer
            : Projection.allCases.firstIndex(of: a.projection)! < Projection.allCases.firstIndex(of: b.projection)!
    }
}

/// A trainable change to one frozen linear layer.
///
/// The decoder runs each site's forward once per forward pass and its backward once per backward pass,
/// in reverse order, so a delta may keep what its backward needs from its last training forward.
public protocol LinearDelta: AnyObject {
    /// out [N, OC] += Δ(input [N, IC]). `out` already holds the base output (bias included).
    /// When `training`, dropout is active and values for `backward` are saved.
    func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int, training: Bool)

    /// dInput [N, IC] += ∂Δ/∂input · dOut; parameter gradients are accumulated (+=) into the delta's
    /// views of the trainable gradient buffer. `input` is the same as in the last training forward.
    func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                  rows: Int)
}
