// Python's `math.fsum`: the correctly rounded sum of doubles. NLTK's BLEU adds its weighted log
// precisions with `fsum`, and an ordinary left-to-right sum can differ from it in the last bit; this
// is CPython's algorithm (Shewchuk's non-overlapping partials plus its half-way rounding fix), so the
// geometric mean is bit-for-bit NLTK's.

enum CorrectlyRoundedSum {
    /// `math.fsum(values)` for finite inputs.
    static func fsum<S: Sequence>(_ values: S) -> Double where S.Element == Double {
        var partials: [Double] = []
        for value in values {
            var x = value
            var i = 0
            for j in 0..<partials.count {
                var y = partials[j]
                if abs(x) < abs(y) { swap(&x, &y) }
                let hi = x + y
                let lo = y - (hi - x)
                if lo != 0 {
                    partials[i] = lo
                    i += 1
                }
                x = hi
            }
            partials.removeSubrange(i...)
            if x != 0 { partials.append(x) }
        }
        guard var n = partials.indices.last else { return 0 }
        var hi = partials[n]
        var lo = 0.0
        while n > 0 {
            let x = hi
            n -= 1
            let y = partials[n]
            hi = x + y
            let yr = hi - x
            lo = y - yr
            if lo != 0 { break }
        }
        // Round half-way cases to even the way the exact sum would: if the remaining partials push the
        // value past the half-way point, move `hi` one step in that direction.
        if n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0)) {
            let y = lo * 2
            let x = hi + y
            let yr = x - hi
            if y == yr { hi = x }
        }
        return hi
    }
}
