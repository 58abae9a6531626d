// Choosing the communicator at start-up: MPI when the process was started by an MPI launcher, the
// single-process communicator otherwise, so a plain `secura-dist ...` never initialises MPI (no
// orted/PMIx start-up cost, no MPI output, works where MPI is not configured).
import Foundation
import SecuraDistributed

/// Environment variables that MPI launchers set in every rank they start: Open MPI's mpirun (OMPI_*,
/// PMIX_RANK), PMIx-based srun (PMIX_RANK), and PMI-1/2 launchers such as MPICH's hydra or srun
/// --mpi=pmi2 (PMI_RANK, PMI_SIZE).
public let mpiLauncherVariables = ["OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"]

/// Set `SECURA_DIST_MPI=1` to force MPI (e.g. a launcher this list does not know), `0` to forbid it.
public let mpiOverrideVariable = "SECURA_DIST_MPI"

/// True when `environment` says this process is a rank started by an MPI launcher (or MPI is forced).
public func startedByMPILauncher(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    switch environment[mpiOverrideVariable] {
    case "1": return true
    case "0": return false
    default: return mpiLauncherVariables.contains { environment[$0] != nil }
    }
}

/// The communicator for this process: an `MPICommunicator` under mpirun/srun, otherwise a
/// `SingleProcessCommunicator`. Call once, early, on the main thread; call the communicator's
/// `finalize()` on every rank after its last collective.
/// - Throws: `CommunicatorError.transport` if MPI was expected but could not start.
public func makeCommunicator(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Communicator {
    if startedByMPILauncher(environment: environment) {
        return try MPICommunicator()
    }
    return SingleProcessCommunicator()
}
