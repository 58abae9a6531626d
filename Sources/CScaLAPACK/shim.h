// The ScaLAPACK / BLACS shim: prototypes for the few entry points secura-dist calls from Debian's
// libscalapack-openmpi (which bundles the BLACS). No header ships with the library, so they are declared
// here. Integers are 32-bit (the LP64 build). Fortran routines take every argument by pointer; those
// with CHARACTER arguments also take the hidden string lengths (size_t, gfortran >= 8) at the end, which
// are passed explicitly so that gfortran's sibling-call optimisation cannot read missing stack slots.
#ifndef SECURA_CSCALAPACK_SHIM_H
#define SECURA_CSCALAPACK_SHIM_H
#include <stddef.h>

// BLACS, C interface (process grids over MPI_COMM_WORLD).
void Cblacs_pinfo(int *mypnum, int *nprocs);
void Cblacs_get(int context, int what, int *value);
void Cblacs_set(int context, int what, int *value);
void Cblacs_gridinit(int *context, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int context, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int context);
void Cblacs_barrier(int context, const char *scope);
void Cblacs_exit(int notDone);

// BLACS_SET / BLACS_GET "what" values (from the BLACS sources' Bdef.h).
enum {
    SECURA_BLACS_SYSTEM_CONTEXT = 0,   // BLACS_GET: the default system context (MPI_COMM_WORLD)
    SECURA_BLACS_TOPS_REPEAT = 15,     // BLACS_SET: 1 = combine operations use a repeatable topology
};

// ScaLAPACK tools (Fortran ABI).
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb, const int *irsrc,
               const int *icsrc, const int *ictxt, const int *lld, int *info);

// ScaLAPACK SVD (Fortran ABI): A = U * diag(S) * VT for a block-cyclic M x N matrix.
void pdgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a, const int *ia,
              const int *ja, const int *desca, double *s, double *u, const int *iu, const int *ju,
              const int *descu, double *vt, const int *ivt, const int *jvt, const int *descvt, double *work,
              const int *lwork, int *info, size_t jobu_len, size_t jobvt_len);
void psgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, float *a, const int *ia,
              const int *ja, const int *desca, float *s, float *u, const int *iu, const int *ju,
              const int *descu, float *vt, const int *ivt, const int *jvt, const int *descvt, float *work,
              const int *lwork, int *info, size_t jobu_len, size_t jobvt_len);

// ScaLAPACK redistribution between two block-cyclic layouts (context = a grid spanning both).
void pdgemr2d_(const int *m, const int *n, const double *a, const int *ia, const int *ja, const int *desca,
               double *b, const int *ib, const int *jb, const int *descb, const int *ictxt);
void psgemr2d_(const int *m, const int *n, const float *a, const int *ia, const int *ja, const int *desca,
               float *b, const int *ib, const int *jb, const int *descb, const int *ictxt);

#endif
