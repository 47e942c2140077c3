/*
 * The fused kernels for one floating-point type; _fused_quant.c includes this
 * file once per type with SCALAR (float or double), EXP (its exp),
 * ROUND_MAGIC and NAME(x) defined.
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

/* The zero point zp rounded to an integer and kept within [q_min, q_max], so
 * that zero is on the grid (as torch.round(zp).clamp(q_min, q_max)). */
static inline SCALAR NAME(zero_on_grid)(SCALAR zero, SCALAR lo, SCALAR hi)
{
    const SCALAR magic = ROUND_MAGIC;
    SCALAR zp = (zero + magic) - magic;
    zp = zp < lo ? lo : zp;
    return zp > hi ? hi : zp;
}

/* Quantize one span of values that share a scale. */
VECTOR_TARGETS static void NAME(forward_span)(const SCALAR *restrict x, SCALAR *restrict out, Py_ssize_t n,
                                      SCALAR s, SCALAR zp, SCALAR lo, SCALAR hi)
{
    const SCALAR rs = (SCALAR)1 / s, magic = ROUND_MAGIC;
    /* Clamping before rounding gives clamp(round(u)) as torch computes it
     * (the limits are integers) and keeps the rounding trick in range. */
#pragma omp simd
    for (Py_ssize_t i = 0; i < n; ++i) {
        SCALAR u = x[i] * rs + zp;
        u = u < lo ? lo : u;
        u = u > hi ? hi : u;
        out[i] = (((u + magic) - magic) - zp) * s;
    }
}

/* The grids of columns c0 .. c0 + width - 1: scales, their inverses and the
 * zero points on the grid, into arrays of one column block. */
static inline void NAME(column_grids)(const SCALAR *log_scale, const SCALAR *zero, Py_ssize_t c0,
                                      Py_ssize_t width, SCALAR lo, SCALAR hi, SCALAR *s, SCALAR *rs, SCALAR *zp)
{
    for (Py_ssize_t j = 0; j < width; ++j) {
        s[j] = NAME(scale_of)(log_scale[c0 + j]);
        rs[j] = (SCALAR)1 / s[j];
        zp[j] = zero ? NAME(zero_on_grid)(zero[c0 + j], lo, hi) : (SCALAR)0;
    }
}

/* One grid per column (per-feature input grids): the columns in blocks whose
 * scales, inverses and zero points sit on the stack, rows streamed through
 * each block. */
VECTOR_TARGETS static void NAME(forward_cols)(const SCALAR *restrict x, SCALAR *restrict out, Py_ssize_t rows,
                                              Py_ssize_t cols, const SCALAR *log_scale, const SCALAR *zero,
                                              SCALAR lo, SCALAR hi)
{
    const SCALAR magic = ROUND_MAGIC;
    SCALAR s[COL_BLOCK], rs[COL_BLOCK], zp[COL_BLOCK];
    for (Py_ssize_t c0 = 0; c0 < cols; c0 += COL_BLOCK) {
        const Py_ssize_t width = cols - c0 < COL_BLOCK ? cols - c0 : COL_BLOCK;
        NAME(column_grids)(log_scale, zero, c0, width, lo, hi, s, rs, zp);
        for (Py_ssize_t r = 0; r < rows; ++r) {
            const SCALAR *xr = x + r * cols + c0;
            SCALAR *orow = out + r * cols + c0;
#pragma omp simd
            for (Py_ssize_t j = 0; j < width; ++j) {
                SCALAR u = xr[j] * rs[j] + zp[j];
                u = u < lo ? lo : u;
                u = u > hi ? hi : u;
                orow[j] = (((u + magic) - magic) - zp[j]) * s[j];
            }
        }
    }
}

static void NAME(forward)(const SCALAR *x, SCALAR *out, Py_ssize_t rows, Py_ssize_t cols,
                          const SCALAR *log_scale, int per_row, const SCALAR *zero, double qmin, double qmax,
                          int threads)
{
    const SCALAR lo = (SCALAR)qmin, hi = (SCALAR)qmax;
    const int parallel = threads > 1 && rows * cols >= PARALLEL_MIN;
    if (per_row == PER_COLUMN) {
        NAME(forward_cols)(x, out, rows, cols, log_scale, zero, lo, hi);
        return;
    }
    if (per_row) {
#pragma omp parallel for if (parallel) num_threads(threads) schedule(static)
        for (Py_ssize_t r = 0; r < rows; ++r) {
            const SCALAR zp = zero ? NAME(zero_on_grid)(zero[r], lo, hi) : (SCALAR)0;
            NAME(forward_span)(x + r * cols, out + r * cols, cols, NAME(scale_of)(log_scale[r]), zp, lo, hi);
        }
        return;
    }
    const Py_ssize_t n = rows * cols, spans = (n + SPAN - 1) / SPAN;
    const SCALAR s = NAME(scale_of)(log_scale[0]);
    const SCALAR zp = zero ? NAME(zero_on_grid)(zero[0], lo, hi) : (SCALAR)0;
#pragma omp parallel for if (parallel) num_threads(threads) schedule(static)
    for (Py_ssize_t k = 0; k < spans; ++k) {
        const Py_ssize_t start = k * SPAN, len = n - start < SPAN ? n - start : SPAN;
        NAME(forward_span)(x + start, out + start, len, s, zp, lo, hi);
    }
}

/* What one backward span needs besides its data. */
typedef struct {
    SCALAR s, zp, lo, hi, in_lo, in_hi, lsq;
    int clipped, relu_only, identity, param_grads;
} NAME(grid);

/* Gradient for x over one span sharing a scale; with param_grads, also the
 * sums for the scale and zero-point gradients, added to acc[0] and acc[1]
 * (in double; each span is summed in SCALAR within vector lanes). grad_x
 * may be grad itself: each value is read before its own slot is written,
 * and nothing else (so no restrict on these two; "omp simd" vectorises). */
VECTOR_TARGETS static void NAME(backward_span)(const SCALAR *grad, const SCALAR *restrict x,
                                              SCALAR *grad_x, Py_ssize_t n, const NAME(grid) *p,
                                              double *acc)
{
    const SCALAR rs = (SCALAR)1 / p->s, zp = p->zp, lo = p->lo, hi = p->hi, magic = ROUND_MAGIC;
    const SCALAR in_lo = p->in_lo, in_hi = p->in_hi, lsq = p->lsq;
    const int clipped = p->clipped, relu_only = p->relu_only, identity = p->identity;
    if (!p->param_grads) {
#pragma omp simd
        for (Py_ssize_t i = 0; i < n; ++i) {
            const SCALAR u = x[i] * rs + zp, gi = grad[i];
            const int keep = (clipped & (u > in_lo) & (u < in_hi)) | (relu_only & (u > 0)) | identity;
            grad_x[i] = keep ? gi : (SCALAR)0;
        }
        return;
    }
    /* Over s, d x_hat / d log_s is code - zp outside the range and (LSQ)
     * code - u inside it; d x_hat / d zp is -1 outside and 0 inside (the
     * sum here is of the outside gradients; the caller negates). 0/1
     * weights rather than selects: gcc vectorises this form. */
    SCALAR sum_scale = 0, sum_zero = 0;
#pragma omp simd reduction(+ : sum_scale, sum_zero)
    for (Py_ssize_t i = 0; i < n; ++i) {
        const SCALAR u = x[i] * rs + zp, gi = grad[i];
        SCALAR c = u < lo ? lo : u;
        c = c > hi ? hi : c;
        const SCALAR code = (c + magic) - magic;
        const int in_range = (u > in_lo) & (u < in_hi);
        const SCALAR inside = (SCALAR)in_range, outside = 1 - inside;
        sum_scale += gi * (inside * lsq * (code - u) + outside * (code - zp));
        sum_zero += outside * gi;
        const int keep = (clipped & in_range) | (relu_only & (u > 0)) | identity;
        grad_x[i] = keep ? gi : (SCALAR)0;
    }
    acc[0] += sum_scale;
    acc[1] += sum_zero;
}

/* The scale and zero-point gradients of a group from its spans' sums, added
 * in span order (so the result does not depend on the thread count). */
static void NAME(store_grid_gradients)(const double *span_sums, Py_ssize_t spans, double factor,
                                        SCALAR *grad_log_scale, SCALAR *grad_zero)
{
    double acc[2] = {0.0, 0.0};
    for (Py_ssize_t k = 0; k < spans; ++k) {
        acc[0] += span_sums[2 * k];
        acc[1] += span_sums[2 * k + 1];
    }
    *grad_log_scale = (SCALAR)(acc[0] * factor);
    if (grad_zero)
        *grad_zero = (SCALAR)(-acc[1] * factor);
}

/* backward over one grid per column, as forward_cols; the scale and
 * zero-point sums run in double per column, over the rows in order. */
VECTOR_TARGETS static void NAME(backward_cols)(const SCALAR *grad, const SCALAR *restrict x, SCALAR *grad_x,
                                               Py_ssize_t rows, Py_ssize_t cols, const SCALAR *log_scale,
                                               const SCALAR *zero, const NAME(grid) *p, double grad_scale,
                                               SCALAR *grad_log_scale, SCALAR *grad_zero)
{
    const SCALAR lo = p->lo, hi = p->hi, in_lo = p->in_lo, in_hi = p->in_hi, lsq = p->lsq, magic = ROUND_MAGIC;
    const int clipped = p->clipped, relu_only = p->relu_only, identity = p->identity;
    SCALAR s[COL_BLOCK], rs[COL_BLOCK], zp[COL_BLOCK];
    double sum_scale[COL_BLOCK], sum_zero[COL_BLOCK];
    for (Py_ssize_t c0 = 0; c0 < cols; c0 += COL_BLOCK) {
        const Py_ssize_t width = cols - c0 < COL_BLOCK ? cols - c0 : COL_BLOCK;
        NAME(column_grids)(log_scale, zero, c0, width, lo, hi, s, rs, zp);
        for (Py_ssize_t j = 0; j < width; ++j)
            sum_scale[j] = sum_zero[j] = 0.0;
        for (Py_ssize_t r = 0; r < rows; ++r) {
            const Py_ssize_t start = r * cols + c0;
#pragma omp simd
            for (Py_ssize_t j = 0; j < width; ++j) {
                const SCALAR u = x[start + j] * rs[j] + zp[j], gi = grad[start + j];
                SCALAR c = u < lo ? lo : u;
                c = c > hi ? hi : c;
                const SCALAR code = (c + magic) - magic;
                const int in_range = (u > in_lo) & (u < in_hi);
                const SCALAR inside = (SCALAR)in_range, outside = 1 - inside;
                sum_scale[j] += (double)(gi * (inside * lsq * (code - u) + outside * (code - zp[j])));
                sum_zero[j] += (double)(outside * gi);
                const int keep = (clipped & in_range) | (relu_only & (u > 0)) | identity;
                grad_x[start + j] = keep ? gi : (SCALAR)0;
            }
        }
        if (!p->param_grads)
            continue;
        for (Py_ssize_t j = 0; j < width; ++j) {
            const double factor = (double)s[j] * grad_scale;
            grad_log_scale[c0 + j] = (SCALAR)(sum_scale[j] * factor);
            if (grad_zero)
                grad_zero[c0 + j] = (SCALAR)(-sum_zero[j] * factor);
        }
    }
}

/* Returns -1 when out of memory (for the per-span sums), else 0. */
static int NAME(backward)(const SCALAR *grad, const SCALAR *x, SCALAR *grad_x, Py_ssize_t rows,
                          Py_ssize_t cols, const SCALAR *log_scale, int per_row, const SCALAR *zero,
                          double qmin, double qmax, double low, double high, int ste, int scale_rule,
                          double grad_scale, SCALAR *grad_log_scale, SCALAR *grad_zero, int threads)
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
    const int parallel = threads > 1 && rows * cols >= PARALLEL_MIN;
    if (per_row == PER_COLUMN) {
        NAME(backward_cols)(grad, x, grad_x, rows, cols, log_scale, zero, &p, grad_scale, grad_log_scale,
                            grad_zero);
        return 0;
    }
    const Py_ssize_t spans = ((per_row ? cols : rows * cols) + SPAN - 1) / SPAN;
    if (per_row) {
#pragma omp parallel for if (parallel) num_threads(threads) schedule(static)
        for (Py_ssize_t r = 0; r < rows; ++r) {
            NAME(grid) row = p;
            row.s = NAME(scale_of)(log_scale[r]);
            row.zp = zero ? NAME(zero_on_grid)(zero[r], p.lo, p.hi) : (SCALAR)0;
            double sums[2] = {0.0, 0.0};
            /* Rows longer than a span are summed span by span, in order. */
            for (Py_ssize_t k = 0; k < spans; ++k) {
                const Py_ssize_t start = r * cols + k * SPAN;
                const Py_ssize_t len = cols - k * SPAN < SPAN ? cols - k * SPAN : SPAN;
                NAME(backward_span)(grad + start, x + start, grad_x + start, len, &row, sums);
            }
            if (p.param_grads) {
                const double factor = (double)row.s * grad_scale;
                grad_log_scale[r] = (SCALAR)(sums[0] * factor);
                if (grad_zero)
                    grad_zero[r] = (SCALAR)(-sums[1] * factor);
            }
        }
        return 0;
    }
    p.s = NAME(scale_of)(log_scale[0]);
    p.zp = zero ? NAME(zero_on_grid)(zero[0], p.lo, p.hi) : (SCALAR)0;
    double *span_sums = calloc((size_t)(2 * spans + 2), sizeof(double));
    if (!span_sums)
        return -1;
    const Py_ssize_t n = rows * cols;
#pragma omp parallel for if (parallel) num_threads(threads) schedule(static)
    for (Py_ssize_t k = 0; k < spans; ++k) {
        const Py_ssize_t start = k * SPAN, len = n - start < SPAN ? n - start : SPAN;
        NAME(backward_span)(grad + start, x + start, grad_x + start, len, &p, span_sums + 2 * k);
    }
    if (p.param_grads)
        NAME(store_grid_gradients)(span_sums, spans, (double)p.s * grad_scale, grad_log_scale, grad_zero);
    free(span_sums);
    return 0;
}
