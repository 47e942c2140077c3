/*
 * Fused uniform fake quantization for contiguous CPU tensors.
 *
 * One pass forward and one pass backward replace the dozen elementwise torch
 * kernels of skqat._functional.fake_quantize_forward/backward: on the small
 * networks skqat trains, per-kernel dispatch costs more than the arithmetic.
 * The Python side (skqat/_fused.py) checks dtypes, devices, shapes and
 * contiguity and passes raw data pointers; nothing here allocates.
 *
 * The arithmetic matches the torch kernels value for value in the forward
 * pass (the same operations in the same precision, so the codes are
 * identical; only a zero's sign may differ); the scale and zero-point
 * gradients are summed in another order, so they agree with torch's to
 * rounding.
 *
 * A value tensor of shape (rows, cols) shares one scale per row
 * (per_row = 1, per-channel weights), one per column (per_row = 2,
 * PER_COLUMN: per-feature input grids) or one scale in all (per_row = 0). The
 * kernels take the scale's logarithm and compute the scale themselves, with
 * the same function as skqat._fused.scale_from_log, so training, inference
 * and export agree on it to the bit.
 */
#define PY_SSIZE_T_CLEAN
#ifdef __linux__
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#endif
#include <Python.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Values summed in the values' precision before a running total in double
 * takes them, and the unit of work of the threads. */
#define SPAN 4096
/* Fewer values than this stay on the calling thread (torch's grain size). */
#define PARALLEL_MIN 32768
/* per_row's value for one grid per column, and the columns one block of
 * per-column scales on the stack covers. */
#define PER_COLUMN 2
#define COL_BLOCK 256

/* Compiled for AVX-512 and AVX2 as well as the baseline, chosen at load time
 * (GCC on x86-64 Linux): the baseline SSE2 loops run at a quarter of the
 * width. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_TARGETS __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_TARGETS
#endif

/* Adding then subtracting 1.5 * 2^(mantissa bits) rounds to the nearest
 * integer, ties to even (torch.round's rule), for |v| < 2^22 (float) or
 * 2^51 (double); the kernels clamp values to the code range first, so this
 * always holds. Unlike nearbyint it vectorises without SSE4.1. */
/* skqat._functional.MIN_SCALE */
#define MIN_SCALE 1e-8

#define SCALAR float
#define EXP expf
#define ROUND_MAGIC 12582912.0f
#define NAME(x) x##_float
#include "_fused_quant_kernels.h"
#undef SCALAR
#undef EXP
#undef ROUND_MAGIC
#undef NAME

#define SCALAR double
#define EXP exp
#define ROUND_MAGIC 6755399441055744.0
#define NAME(x) x##_double
#include "_fused_quant_kernels.h"
#undef SCALAR
#undef EXP
#undef ROUND_MAGIC
#undef NAME

static int read_pointer(PyObject *obj, void **out)
{
    *out = PyLong_AsVoidPtr(obj);
    return (*out == NULL && PyErr_Occurred()) ? -1 : 0;
}

static int read_size(PyObject *obj, Py_ssize_t *out)
{
    *out = PyLong_AsSsize_t(obj);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int read_double(PyObject *obj, double *out)
{
    *out = PyFloat_AsDouble(obj);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* scales(is_double, log_scale, out, n): out = max(exp(log_scale), MIN_SCALE) */
static PyObject *fused_scales(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    void *log_scale, *out;
    Py_ssize_t is_double, n;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "scales takes 4 arguments");
        return NULL;
    }
    if (read_size(args[0], &is_double) || read_pointer(args[1], &log_scale) || read_pointer(args[2], &out) ||
        read_size(args[3], &n))
        return NULL;
    if (is_double)
        scales_double(log_scale, out, n);
    else
        scales_float(log_scale, out, n);
    Py_RETURN_NONE;
}

/* openmp_runtime(): the file of the OpenMP runtime the kernels' threads come
 * from, or None when built without OpenMP (or where it cannot be told).
 * skqat._fused threads the kernels only when this is the runtime torch
 * uses, so that both share one pool of threads. */
static PyObject *fused_openmp_runtime(PyObject *Py_UNUSED(self), PyObject *Py_UNUSED(args))
{
#if defined(_OPENMP) && defined(__linux__)
    Dl_info info;
    if (dladdr((void *)&omp_get_max_threads, &info) && info.dli_fname)
        return PyUnicode_DecodeFSDefault(info.dli_fname);
#endif
    Py_RETURN_NONE;
}

/* forward(is_double, x, out, rows, cols, log_scale, per_row, zero, qmin, qmax, threads)
 * threads: how many OpenMP threads a large tensor may use (1: the caller's only). */
static PyObject *fused_forward(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    void *x, *out, *log_scale, *zero;
    Py_ssize_t is_double, rows, cols, per_row;
    Py_ssize_t threads;
    double qmin, qmax;
    if (nargs != 11) {
        PyErr_SetString(PyExc_TypeError, "forward takes 11 arguments");
        return NULL;
    }
    if (read_size(args[0], &is_double) || read_pointer(args[1], &x) || read_pointer(args[2], &out) ||
        read_size(args[3], &rows) || read_size(args[4], &cols) || read_pointer(args[5], &log_scale) ||
        read_size(args[6], &per_row) || read_pointer(args[7], &zero) || read_double(args[8], &qmin) ||
        read_double(args[9], &qmax) || read_size(args[10], &threads))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (is_double)
        forward_double(x, out, rows, cols, log_scale, (int)per_row, zero, qmin, qmax, (int)threads);
    else
        forward_float(x, out, rows, cols, log_scale, (int)per_row, zero, qmin, qmax, (int)threads);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* backward(is_double, grad, x, grad_x, rows, cols, log_scale, per_row, zero, qmin, qmax,
 *          low, high, ste, scale_rule, grad_scale, grad_log_scale, grad_zero, threads)
 * ste: which values pass their gradient to grad_x: 0 all, 1 low < u < high, 2 u > 0.
 * scale_rule: 0 no parameter gradients, 1 LSQ, 2 PACT. */
static PyObject *fused_backward(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    void *grad, *x, *grad_x, *log_scale, *zero, *grad_log_scale, *grad_zero;
    Py_ssize_t is_double, rows, cols, per_row, ste, scale_rule, threads;
    double qmin, qmax, low, high, grad_scale;
    int status;
    if (nargs != 19) {
        PyErr_SetString(PyExc_TypeError, "backward takes 19 arguments");
        return NULL;
    }
    if (read_size(args[0], &is_double) || read_pointer(args[1], &grad) || read_pointer(args[2], &x) ||
        read_pointer(args[3], &grad_x) || read_size(args[4], &rows) || read_size(args[5], &cols) ||
        read_pointer(args[6], &log_scale) || read_size(args[7], &per_row) || read_pointer(args[8], &zero) ||
        read_double(args[9], &qmin) || read_double(args[10], &qmax) || read_double(args[11], &low) ||
        read_double(args[12], &high) || read_size(args[13], &ste) || read_size(args[14], &scale_rule) ||
        read_double(args[15], &grad_scale) || read_pointer(args[16], &grad_log_scale) ||
        read_pointer(args[17], &grad_zero) || read_size(args[18], &threads))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (is_double)
        status = backward_double(grad, x, grad_x, rows, cols, log_scale, (int)per_row, zero, qmin, qmax, low,
                                 high, (int)ste, (int)scale_rule, grad_scale, grad_log_scale, grad_zero,
                                 (int)threads);
    else
        status = backward_float(grad, x, grad_x, rows, cols, log_scale, (int)per_row, zero, qmin, qmax, low,
                                high, (int)ste, (int)scale_rule, grad_scale, grad_log_scale, grad_zero,
                                (int)threads);
    Py_END_ALLOW_THREADS
    if (status)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"openmp_runtime", fused_openmp_runtime, METH_NOARGS,
     "File of the OpenMP runtime the kernels' threads come from, or None."},
    {"scales", (PyCFunction)(void (*)(void))fused_scales, METH_FASTCALL,
     "Step sizes max(exp(log_scale), MIN_SCALE) as the kernels compute them."},
    {"forward", (PyCFunction)(void (*)(void))fused_forward, METH_FASTCALL,
     "Fused fake-quantize forward pass over raw pointers (see skqat/_fused.py)."},
    {"backward", (PyCFunction)(void (*)(void))fused_backward, METH_FASTCALL,
     "Fused fake-quantize backward pass over raw pointers (see skqat/_fused.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fused_quant",
    .m_doc = "Fused fake-quantize kernels for contiguous CPU tensors; use skqat._fused.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__fused_quant(void) { return PyModule_Create(&module); }
