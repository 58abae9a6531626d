// Dimension letters used across secura-dist's kernels, stated once.
//
// B  sequences in a micro-batch      T  tokens per sequence       N = B·T rows of activations
// C  model width (hidden_size)       H  query heads               KVH key/value heads
// D  head dimension                  F  FFN width (intermediate)  V  vocabulary size
// R  adapter rank
//
// Every activation is row-major with one row per token: a [N, C] tensor holds token n's vector at
// n·C. Linear weights are [out, in], as Hugging Face stores them; a linear layer computes
// y = x·Wᵀ (+ b).
public enum Dimensions {}
