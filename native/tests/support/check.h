// The few assertions native tests need: each failure prints where and what, and the test's main
// returns failures() so ctest sees a nonzero exit.
#pragma once

#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

#include "inferd/error.h"

namespace inferd::test {

inline int& failure_count() {
  static int count = 0;
  return count;
}
inline int failures() { return failure_count() == 0 ? 0 : 1; }

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++::inferd::test::failure_count();                                            \
    }                                                                                \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                          \
  do {                                                                                                 \
    const double va_ = (a), vb_ = (b);                                                                 \
    if (!(std::fabs(va_ - vb_) <= (tol))) {                                                            \
      std::fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %g, %s = %g\n", __FILE__, __LINE__, #a, va_, #b, vb_); \
      ++::inferd::test::failure_count();                                                              \
    }                                                                                                  \
  } while (0)

// Runs fn, expecting inferd::Error of `kind` whose message contains `fragment`.
template <typename Fn>
void check_throws(const char* where, Fn&& fn, inferd::ErrorKind kind, const std::string& fragment) {
  try {
    fn();
  } catch (const inferd::Error& e) {
    if (e.kind() != kind || std::string(e.what()).find(fragment) == std::string::npos) {
      std::fprintf(stderr, "%s: wrong error (kind %d): %s (wanted kind %d containing '%s')\n", where,
                   static_cast<int>(e.kind()), e.what(), static_cast<int>(kind), fragment.c_str());
      ++failure_count();
    }
    return;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: non-inferd exception: %s\n", where, e.what());
    ++failure_count();
    return;
  }
  std::fprintf(stderr, "%s: expected an error containing '%s', got none\n", where, fragment.c_str());
  ++failure_count();
}
#define CHECK_THROWS(expr, kind, fragment) ::inferd::test::check_throws(#expr, [&] { expr; }, kind, fragment)

}  // namespace inferd::test
