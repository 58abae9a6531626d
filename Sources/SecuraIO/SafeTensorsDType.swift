// The dtype names the safetensors format defines, and their element widths. secura-dist computes only
// with F32/F16/BF16 (`DType`), but knowing the width of the others lets the loader check every tensor's
// byte size when a file is opened, and lets `inspect` list files that also hold, say, I64 buffers.

import SecuraTensor

/// Safetensors dtype strings and their widths.
enum DTypeName {
    /// The dtype strings secura-dist can load, in `DType` order.
    static let supported: [String] = DType.allCases.map(\.rawValue)

    /// Bits per element for every dtype string the safetensors format defines; nil for unknown strings.
    static func bitsPerElement(_ name: String) -> Int? {
        switch name {
        case "F4": return 4
        case "F6_E2M3", "F6_E3M2": return 6
        case "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0": return 8
        case "I16", "U16", "F16", "BF16": return 16
        case "I32", "U32", "F32": return 32
        case "I64", "U64", "F64", "C64": return 64
        default: return nil
        }
    }
}
