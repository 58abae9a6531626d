// This process's memory use as Linux reports it in /proc, for progress lines, benchmarks and the
// doctor's check that node-shared buffers exist once per node. Resident set (RSS) counts every page the
// process has touched, shared pages included, so a node-shared buffer read by four ranks appears in all
// four RSS figures; the proportional set (PSS) divides each shared page among the processes mapping it,
// so summing PSS over a node's ranks counts such a buffer once. Elsewhere than Linux every figure is nil.
#if canImport(Glibc)
import Glibc
#endif

/// Memory figures of the current process from /proc (Linux); nil where unavailable.
public enum ProcessMemory {
    /// Peak resident set size in bytes (VmHWM in /proc/self/status): the high-water mark of RSS over
    /// the process's life, shared pages included.
    public static func peakResidentBytes() -> Int? {
        readProc("/proc/self/status").flatMap { kilobytes(field: "VmHWM", in: $0) }
    }

    /// Current resident set size in bytes (VmRSS in /proc/self/status), shared pages included.
    public static func residentBytes() -> Int? {
        readProc("/proc/self/status").flatMap { kilobytes(field: "VmRSS", in: $0) }
    }

    /// Current proportional set size in bytes (Pss in /proc/self/smaps_rollup, Linux 4.14+): each page
    /// counted as 1/n when n processes map it.
    public static func proportionalSetBytes() -> Int? {
        readProc("/proc/self/smaps_rollup").flatMap { kilobytes(field: "Pss", in: $0) }
    }

    /// The value of a "Name:   1234 kB" line of a /proc file, in bytes; nil if absent or malformed.
    public static func kilobytes(field: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, parts[0] == field + ":" else { continue }
            guard let value = Int(parts[1]), value >= 0 else { return nil }
            let unit = parts.count >= 3 ? parts[2].lowercased() : "kb"
            return unit == "kb" ? value * 1024 : nil
        }
        return nil
    }

    /// Reads a whole /proc file with read(2): /proc files report size 0, so read until end of file.
    static func readProc(_ path: String) -> String? {
        #if canImport(Glibc)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { return nil }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        return String(decoding: bytes, as: UTF8.self)
        #else
        return nil
        #endif
    }
}
