/*
 * The fused kernels for one floating-point type; _fused_quant.c includes this
 * file once per type with SCALAR (float or double), ROUND_MAGIC and NAME(x)
 * defined, and int an integer type as wide as SCALAR (for the in-range
 * masks: same-width lanes let gcc vectorise the double kernels too).
 *
 * Comparisons are joined with & (not &&) and results chosen by selects, not
 * branches, so that the loops vectorise: the in-range masks depend on the
 * data, and a branch per value would mispredict half the time.
 */

/* The step size exp(log_s), at least MIN_SCALE: the one definition of the
 * scale wherever the kernels are built (skqat._fused.scale_from_log). */
static inline SCALAR NAME(scale_of)(SCALAR log_scale)
{
    const SCALAR s = EXP(log_scale), min_scale = (SCALAR)MIN_SCALE;
    return s < min_scale ? min_scale : s;
}

static void NAME(scales)(const SCALAR *log_scale, SCALAR *out, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; ++i)
        out[i] = NAME(scale_of)(log_scale[i]);
}

/* The zero point rounded to an integer and kept within [-q_max, -q_min], so
 * that zero is on the grid (as torch.round(z).clamp(-q_max, -q_min)). */
static inline SCALAR NAME(zero_on_grid)(SCALAR zero, SCALAR lo, SCALAR hi)
{
    const SCALAR magic = ROUND_MAGIC;
    SCALAR z = (zero + magic) - magic;
    z = z < -hi ? -hi : z;
    return z > -lo ? -lo : z;
}

/* Quantize one span of values that share a scale. */
static inline void NAME(forward_span)(const SCALAR *restrict x, SCALAR *restrict out, Py_ssize_t n,
                                      SCALAR s, SCALAR z, SCALAR lo, SCALAR hi)
{
    const SCALAR rs = (SCALAR)1 / s, magic = ROUND_MAGIC;
    /* Clamping before rounding gives clamp(round(u)) as torch computes it
     * (the limits are integers) and keeps the rounding trick in range. */
#pragma omp simd
    for (Py_ssize_t i = 0; i < n; ++i) {
        SCALAR u = x[i] * rs - z;
        u = u < lo ? lo : u;
        u = u > hi ? hi : u;
        out[i] = (((u + magic) - magic) + z) * s;
    }
}

VECTOR_TARGETS static void NAME(forward)(const SCALAR *x, SCALAR *out, Py_ssize_t rows, Py_ssize_t cols,
                                         const SCALAR *log_scale, int per_row, const SCALAR *zero,
                                         double qmin, double qmax)
{
    const SCALAR lo = (SCALAR)qmin, hi = (SCALAR)qmax;
    for (Py_ssize_t r = 0; r < rows; ++r) {
        const Py_ssize_t g = per_row ? r : 0;
        const SCALAR z = zero ? NAME(zero_on_grid)(zero[g], lo, hi) : (SCALAR)0;
        NAME(forward_span)(x + r * cols, out + r * cols, cols, NAME(scale_of)(log_scale[g]), z, lo, hi);
    }
}

/* What one backward span needs besides its data. */
typedef struct {
    SCALAR s, z, lo, hi, in_lo, in_hi, lsq;
    int clipped, relu_only, identity, param_grads;
} NAME(grid);

/* Gradient for x over one span sharing a scale; with param_grads, also the
 * sums for the scale and zero-point gradients, added to acc[0] and acc[1]
 * (in double; each span is summed in SCALAR within vector lanes). grad_x
 * may be grad itself: each value is read before its own slot is written,
 * and nothing else (so no restrict on these two; "omp simd" vectorises). */
static inline void NAME(backward_span)(const SCALAR *grad, const SCALAR *restrict x, SCALAR *grad_x,
                                       Py_ssize_t n, const NAME(grid) *p, double *acc)
{
    const SCALAR rs = (SCALAR)1 / p->s, z = p->z, lo = p->lo, hi = p->hi, magic = ROUND_MAGIC;
    const SCALAR in_lo = p->in_lo, in_hi = p->in_hi, lsq = p->lsq;
    const int clipped = p->clipped, relu_only = p->relu_only, identity = p->identity;
    if (!p->param_grads) {
#pragma omp simd
        for (Py_ssize_t i = 0; i < n; ++i) {
            const SCALAR u = x[i] * rs - z, gi = grad[i];
            const int keep = (clipped & (u > in_lo) & (u < in_hi)) | (relu_only & (u > 0)) | identity;
            grad_x[i] = keep ? gi : (SCALAR)0;
        }
        return;
    }
    /* Over s, d x_hat / d log_s is code + z outside the range and (LSQ)
     * code - u inside it; d x_hat / d z is 1 outside and 0 inside. 0/1
     * weights rather than selects: gcc vectorises this form. */
    SCALAR sum_scale = 0, sum_zero = 0;
#pragma omp simd reduction(+ : sum_scale, sum_zero)
    for (Py_ssize_t i = 0; i < n; ++i) {
        const SCALAR u = x[i] * rs - z, gi = grad[i];
        SCALAR c = u < lo ? lo : u;
        c = c > hi ? hi : c;
        const SCALAR code = (c + magic) - magic;
        const int in_range = (u > in_lo) & (u < in_hi);
        const SCALAR inside = (SCALAR)in_range, outside = 1 - inside;
        sum_scale += gi * (inside * lsq * (code - u) + outside * (code + z));
        sum_zero += outside * gi;
        const int keep = (clipped & in_range) | (relu_only & (u > 0)) | identity;
        grad_x[i] = keep ? gi : (SCALAR)0;
    }
    acc[0] += sum_scale;
    acc[1] += sum_zero;
}

/* Values summed in SCALAR before the running total (in double) takes them:
 * a per-tensor grid is cut into spans this long. */
#define SPAN 4096

VECTOR_TARGETS static void NAME(backward)(const SCALAR *grad, const SCALAR *x, SCALAR *grad_x,
                                          Py_ssize_t rows, Py_ssize_t cols, const SCALAR *log_scale,
                                          int per_row, const SCALAR *zero, double qmin, double qmax,
                                          double low, double high, int ste, int scale_rule,
                                          double grad_scale, SCALAR *grad_log_scale, SCALAR *grad_zero)
{
    NAME(grid) p;
    p.lo = (SCALAR)qmin;
    p.hi = (SCALAR)qmax;
    p.in_lo = (SCALAR)low;
    p.in_hi = (SCALAR)high;
    /* LSQ keeps the rounding term code - u inside the range; PACT drops it. */
    p.lsq = scale_rule == 1;
    p.param_grads = scale_rule != 0;
    /* Which values pass their gradient to x, as bit masks (no branches). */
    p.clipped = ste == 1;
    p.relu_only = ste == 2;
    p.identity = ste == 0;
    const Py_ssize_t groups = per_row ? rows : 1, group_size = per_row ? cols : rows * cols;
    for (Py_ssize_t g = 0; g < groups; ++g) {
        p.s = NAME(scale_of)(log_scale[g]);
        p.z = zero ? NAME(zero_on_grid)(zero[g], p.lo, p.hi) : (SCALAR)0;
        double acc[2] = {0.0, 0.0};
        for (Py_ssize_t start = 0; start < group_size; start += SPAN) {
            const Py_ssize_t offset = g * group_size + start;
            const Py_ssize_t n = group_size - start < SPAN ? group_size - start : SPAN;
            NAME(backward_span)(grad + offset, x + offset, grad_x + offset, n, &p, acc);
        }
        if (p.param_grads) {
            const double factor = (double)p.s * grad_scale;
            grad_log_scale[g] = (SCALAR)(acc[0] * factor);
            if (grad_zero)
                grad_zero[g] = (SCALAR)(acc[1] * factor);
        }
    }
}

#undef SPAN
