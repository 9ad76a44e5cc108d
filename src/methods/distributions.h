/*
 * Distribution functions for p-values (normal, Student t). Internal to the
 * methods; not API.
 */
#ifndef KZ_DISTRIBUTIONS_H
#define KZ_DISTRIBUTIONS_H

/* Standard normal CDF Phi(x). */
double kz_dist__normal_cdf(double x);

/* Two-sided normal p-value 2 * (1 - Phi(|z|)), accurate in the far tail;
 * NaN for NaN. */
double kz_dist__normal_p2(double z);

/* Regularised incomplete beta I_x(a, b) for a, b > 0, 0 <= x <= 1. */
double kz_dist__beta_inc(double a, double b, double x);

/* Student t CDF with df > 0 degrees of freedom. */
double kz_dist__t_cdf(double t, double df);

/* Two-sided Student t p-value P(|T| >= |t|); NaN for NaN or df <= 0. */
double kz_dist__t_p2(double t, double df);

#endif
