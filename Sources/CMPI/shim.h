// The MPI C shim: includes Open MPI's <mpi.h> and re-exports, as static inline functions, the handles
// and constants that mpi.h defines as macros over hidden globals (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM,
// MPI_IN_PLACE, ...), which Swift's importer cannot see. Only the SecuraMPI module imports this.
#ifndef SECURA_CMPI_SHIM_H
#define SECURA_CMPI_SHIM_H
#include <mpi.h>

// Communicators.
static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm cmpi_comm_null(void) { return MPI_COMM_NULL; }

// Datatypes.
static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype cmpi_int(void) { return MPI_INT; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }

// Reduction operators.
static inline MPI_Op cmpi_op_sum(void) { return MPI_SUM; }
static inline MPI_Op cmpi_op_max(void) { return MPI_MAX; }
static inline MPI_Op cmpi_op_min(void) { return MPI_MIN; }

// Info, error handlers, and the in-place sentinel (a (void *)1 macro).
static inline MPI_Info cmpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }

// Non-blocking operations (the collective watchdog polls them with MPI_Test) and point-to-point
// wildcards (its census of which ranks reached a stalled collective).
static inline MPI_Request cmpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int cmpi_any_source(void) { return MPI_ANY_SOURCE; }

// Integer constants (enums or plain #defines; exported as functions so every one reads alike in Swift).
static inline int cmpi_success(void) { return MPI_SUCCESS; }
static inline int cmpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int cmpi_thread_single(void) { return MPI_THREAD_SINGLE; }
static inline int cmpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int cmpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int cmpi_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }
static inline int cmpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
static inline int cmpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int cmpi_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }

// One-sided windows (node-shared memory: MPI_Win_allocate_shared).
static inline MPI_Win cmpi_win_null(void) { return MPI_WIN_NULL; }
static inline int cmpi_mode_nocheck(void) { return MPI_MODE_NOCHECK; }
static inline int cmpi_win_unified(void) { return MPI_WIN_UNIFIED; }

// The window's memory model (MPI_WIN_MODEL attribute: MPI_WIN_UNIFIED or MPI_WIN_SEPARATE) in *model,
// or -1 if the attribute is missing. The attribute value is a pointer to an int, awkward from Swift.
static inline int cmpi_win_memory_model(MPI_Win win, int *model) {
    int *value = NULL;
    int flag = 0;
    int code = MPI_Win_get_attr(win, MPI_WIN_MODEL, &value, &flag);
    *model = (code == MPI_SUCCESS && flag && value) ? *value : -1;
    return code;
}

#endif
