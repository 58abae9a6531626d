// How much memory this node can still give a job, for the memory preflight: the kernel's MemAvailable
// (free memory plus what it can reclaim without swapping), capped by the memory limit of the control
// group the process runs in (a Slurm job's or a container's), counting that group's reclaimable page cache
// as available. Elsewhere than Linux it is unknown (nil).
import Foundation

/// The node's available memory as Linux reports it.
public enum NodeMemory {
    /// Available bytes and where the figure comes from ("MemAvailable", "cgroup limit ..."); nil if unknown.
    public static func available() -> (bytes: Int, source: String)? {
        guard let meminfo = ProcessMemory.readProc("/proc/meminfo"),
              let memAvailable = ProcessMemory.kilobytes(field: "MemAvailable", in: meminfo) else { return nil }
        var best = (bytes: memAvailable, source: "MemAvailable in /proc/meminfo")
        if let group = cgroupAvailable(), group.bytes < best.bytes { best = group }
        return best
    }

    /// limit − usage + reclaimable page cache of this process's memory cgroup (v2 or v1), if it has a limit.
    static func cgroupAvailable() -> (bytes: Int, source: String)? {
        guard let text = ProcessMemory.readProc("/proc/self/cgroup") else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let path = String(fields[2])
            if fields[0] == "0" && fields[1].isEmpty {
                // cgroup v2: memory.max is "max" when unlimited.
                let dir = "/sys/fs/cgroup" + path
                if let limit = number(dir + "/memory.max"), let usage = number(dir + "/memory.current") {
                    let inactive = ProcessMemory.readProc(dir + "/memory.stat").flatMap { statValue("inactive_file", $0) } ?? 0
                    return (max(0, limit - usage + inactive), "cgroup v2 limit of \(path)")
                }
            } else if fields[1].split(separator: ",").contains("memory") {
                let dir = "/sys/fs/cgroup/memory" + path
                // v1 reports "no limit" as a huge number near Int64.max.
                if let limit = number(dir + "/memory.limit_in_bytes"), limit < 1 << 60,
                   let usage = number(dir + "/memory.usage_in_bytes") {
                    let inactive = ProcessMemory.readProc(dir + "/memory.stat").flatMap { statValue("total_inactive_file", $0) } ?? 0
                    return (max(0, limit - usage + inactive), "cgroup v1 limit of \(path)")
                }
            }
        }
        return nil
    }

    static func number(_ path: String) -> Int? {
        guard let text = ProcessMemory.readProc(path) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The value of a "name 1234" line of a memory.stat file.
    static func statValue(_ name: String, _ text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == name { return Int(parts[1]) }
        }
        return nil
    }
}
