// The activations that both the activation ops (cpu/ops/activation.cc) and sgemm's scalar epilogue
// (sgemm_driver.h) apply, one functor each, so that a fused product and the op it replaced compute
// the same numbers. (The AVX-512 epilogue has vector forms of these in sgemm_avx512.cc, on
// avx512_math.h's functions, which follow cpu::math's formulas.)
//
// Not a normal header: it is included inside an anonymous namespace in namespace inferd, after
// elementwise_math.h, by activation.cc and by sgemm_driver.h (itself included that way by each
// sgemm_<isa>.cc), so that every instantiation is compiled for its own file's ISA and stays private
// to that file. It therefore includes nothing.
#pragma once

// `x < 0 ? 0 : x` rather than max(x, 0): NaN passes through, as in numpy.
struct op_relu {
  template <class T> T operator()(T x) const { return x < T(0) ? T(0) : x; }
};
struct op_leaky_relu {
  float alpha;
  template <class T> T operator()(T x) const { return x < T(0) ? T(alpha) * x : x; }
};
struct op_sigmoid {
  template <class T> T operator()(T x) const { return cpu::math::sigmoid(x); }
};
struct op_tanh {
  template <class T> T operator()(T x) const { return cpu::math::tanh(x); }
};
// x·Φ(x) = x/2 · (1 + erf(x/√2))
struct op_gelu {
  template <class T> T operator()(T x) const {
    return T(0.5) * x * (T(1) + cpu::math::erf(x * T(0.70710678118654752440)));
  }
};
// x/2 · (1 + tanh(√(2/π) · (x + 0.044715·x³)))
struct op_gelu_tanh {
  template <class T> T operator()(T x) const {
    return T(0.5) * x * (T(1) + cpu::math::tanh(T(0.79788456080286535588) * (x + T(0.044715) * x * x * x)));
  }
};
// min(max(x, lo), hi): when lo > hi every element becomes hi, as the spec says. NaN passes through.
template <class T> struct op_clip {
  T lo, hi;
  T operator()(T x) const {
    const T y = x < lo ? lo : x;
    return y > hi ? hi : y;
  }
};
// max(0, min(1, αx + β)); NaN passes through.
struct op_hard_sigmoid {
  float alpha, beta;
  template <class T> T operator()(T x) const {
    const T y = T(alpha) * x + T(beta);
    return y < T(0) ? T(0) : (y > T(1) ? T(1) : y);
  }
};
// x · HardSigmoid(x) with α = 1/6, β = 1/2.
struct op_hard_swish {
  template <class T> T operator()(T x) const {
    const T y = x * T(1.0 / 6.0) + T(0.5);
    return x * (y < T(0) ? T(0) : (y > T(1) ? T(1) : y));
  }
};
