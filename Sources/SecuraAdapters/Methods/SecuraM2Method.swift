// SECURA-M2 as a method: CABR-LoRA with a frozen long-term pair; every --fusion-step steps A moves into
// A_L, B is added to B_L and reset (CABRDelta.fuseLongTerm). The original weights never change.
import SecuraDistributed
import SecuraModel

public struct SecuraM2Method: CABRFamilyMethod {
    public init() {}
    public var displayName: String { "SECURA-M2" }
    public var keepsLongTermPair: Bool { true }

    public func merge(_ adapters: AdapterSet, comm: Communicator) throws {
        let cabr = adapters.cabr
        for site in cabr.keys.sorted() { cabr[site]!.fuseLongTerm() }
    }
}
