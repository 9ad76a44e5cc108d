/*
 * Normal and Student t distribution functions for p-values.
 */
#include "distributions.h"

#include <math.h>

double kz_dist__normal_cdf(double x)
{
    /* Phi(x) = erfc(-x / sqrt 2) / 2 (Abramowitz & Stegun 7.1.2, 26.2.29). */
    return 0.5 * erfc(-x / sqrt(2.0));
}

double kz_dist__normal_p2(double z)
{
    /* 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2), without cancellation. */
    if (isnan(z))
        return NAN;
    return erfc(fabs(z) / sqrt(2.0));
}

/* Continued fraction of the incomplete beta function, evaluated with the
 * modified Lentz method (Press et al., Numerical Recipes, 3rd ed., 6.4,
 * eq. 6.4.5 and betacf). Converges quickly for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0, c = 1.0, d, h;
    int m;
    d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    h = d;
    for (m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m, aa, del;
        /* even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)) */
        aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        h *= d * c;
        /* odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps)
            break;
    }
    return h;
}

double kz_dist__beta_inc(double a, double b, double x)
{
    double lbt;
    if (isnan(x) || a <= 0 || b <= 0)
        return NAN;
    if (x <= 0)
        return 0.0;
    if (x >= 1)
        return 1.0;
    /* I_x(a,b) = x^a (1-x)^b / (a B(a,b)) * cf, and the symmetry
     * I_x(a,b) = 1 - I_{1-x}(b,a) (NR 6.4.6) for the faster side. */
    lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lbt) * beta_cf(a, b, x) / a;
    return 1.0 - exp(lbt) * beta_cf(b, a, 1.0 - x) / b;
}

double kz_dist__t_p2(double t, double df)
{
    /* P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2) (Abramowitz & Stegun
     * 26.7.1 with 26.5.27). For large |t| form df/(df+t^2) directly. */
    double x;
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return 0.0;
    x = df / (df + t * t);
    return kz_dist__beta_inc(df / 2.0, 0.5, x);
}

double kz_dist__t_cdf(double t, double df)
{
    double p = kz_dist__t_p2(t, df);
    if (isnan(p))
        return NAN;
    return t < 0 ? p / 2.0 : 1.0 - p / 2.0;
}
