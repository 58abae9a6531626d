// OpenBLAS's CBLAS interface plus the few LAPACK and threading entry points secura-dist calls.
#ifndef SECURA_CBLAS_SHIM_H
#define SECURA_CBLAS_SHIM_H
#include <cblas.h>

// LAPACK (Fortran ABI, provided by libopenblas): single-precision SVD.
void sgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, float *a, const int *lda,
             float *s, float *u, const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork,
             int *info);
void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a, const int *lda,
             double *s, double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *info);
// Divide-and-conquer SVD drivers (jobz 'S': the min(m, n) leading singular vectors); iwork has 8·min(m, n).
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s, float *u,
             const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork, int *iwork, int *info);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u,
             const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info);
#endif
