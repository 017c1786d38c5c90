// Tests of the window periodogram against closed forms and a direct DFT written here.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>

#include "baseline/periodogram.h"

namespace ppgkd {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(Periodogram, NfftIsThePowerOfTwoCoveringLengthAndResolution) {
  EXPECT_EQ(periodogram_nfft(1000, 125, 1.0), 8192u);  // 125 * 60 / 1 = 7500 -> 8192
  EXPECT_EQ(periodogram_nfft(1000, 125, 100), 1024u);  // 75 < 1000 samples -> 1024
  EXPECT_EQ(periodogram_nfft(200, 25, 1.0), 2048u);    // 1500 -> 2048
  EXPECT_EQ(periodogram_nfft(1024, 25, 60.0), 1024u);  // already a power of two
}

// The periodogram is |sum_n y_n e^{-2 pi i k n / nfft}|^2 of the detrended, Hann-windowed window;
// checked against that sum evaluated directly, which also pins GSL's half-complex layout.
TEST(Periodogram, MatchesDirectDft) {
  const size_t n = 50, nfft = 64;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = normal(rng) + 0.1f * i;
  // Least-squares line by the normal equations, written independently of the library's form.
  double st = 0, sx = 0, stt = 0, stx = 0;
  for (size_t i = 0; i < n; ++i) {
    st += i;
    sx += x[i];
    stt += double(i) * i;
    stx += double(i) * x[i];
  }
  const double slope = (n * stx - st * sx) / (n * stt - st * st);
  const double icpt = (sx - slope * st) / n;
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i)
    y[i] = (x[i] - icpt - slope * i) * (0.5 - 0.5 * std::cos(2 * kPi * i / (n - 1)));

  std::vector<double> power;
  periodogram(x.data(), n, nfft, &power);
  ASSERT_EQ(power.size(), nfft / 2 + 1);
  for (size_t k = 0; k <= nfft / 2; ++k) {
    std::complex<double> sum = 0;
    for (size_t i = 0; i < n; ++i) sum += y[i] * std::polar(1.0, -2 * kPi * double(k * i) / nfft);
    EXPECT_NEAR(power[k], std::norm(sum), 1e-9 * (1 + std::norm(sum))) << "bin " << k;
  }
}

TEST(Periodogram, StraightLineHasNoPower) {
  std::vector<float> x(200);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 3.0f + 0.5f * i;  // exact in float
  std::vector<double> power;
  periodogram(x.data(), x.size(), 2048, &power);
  for (double p : power) EXPECT_LT(p, 1e-18);
}

TEST(Periodogram, SinePeakAtItsFrequency) {
  const double fs = 125;
  const size_t n = 1000, nfft = periodogram_nfft(n, fs, 1.0);
  for (double f_hz : {0.83, 1.37, 2.0, 2.91}) {
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = std::sin(2 * kPi * f_hz * i / fs + 0.3);
    std::vector<double> power;
    periodogram(x.data(), n, nfft, &power);
    const auto peaks = spectral_peaks(power, 1, power.size() - 2);
    ASSERT_FALSE(peaks.empty());
    const SpectralPeak* best = &peaks[0];
    for (const auto& p : peaks)
      if (p.power > best->power) best = &p;
    EXPECT_NEAR(best->bin * fs / nfft * 60, f_hz * 60, 0.1) << f_hz << " Hz";
  }
}

TEST(Periodogram, PeaksAreStrictLeftLocalMaxima) {
  const std::vector<double> p = {0, 1, 3, 2, 2, 5, 5, 1, 0};
  const auto peaks = spectral_peaks(p, 1, 7);
  ASSERT_EQ(peaks.size(), 2u);  // k = 2 (1 < 3 >= 2) and k = 5 (2 < 5 >= 5); not 4 or 6
  EXPECT_EQ(peaks[0].power, 3.0);
  EXPECT_EQ(peaks[1].power, 5.0);
  EXPECT_NEAR(peaks[1].bin, 5.5, 1e-12);  // two equal top bins: the vertex is between them
  // Band limits are inclusive and exclude the outer bins.
  EXPECT_EQ(spectral_peaks(p, 3, 7).size(), 1u);
  EXPECT_EQ(spectral_peaks(p, 1, 4).size(), 1u);
}

// Sampled Gaussians are parabolas in log power, so the refined position is exact.
TEST(Periodogram, SubBinRefinementIsExactForGaussianPeaks) {
  for (double centre : {10.0, 10.3, 10.49, 9.62}) {
    std::vector<double> p(21);
    for (size_t k = 0; k < p.size(); ++k) p[k] = std::exp(-std::pow(k - centre, 2) / (2 * 1.7));
    const auto peaks = spectral_peaks(p, 1, 19);
    ASSERT_EQ(peaks.size(), 1u);
    EXPECT_NEAR(peaks[0].bin, centre, 1e-9);
  }
}

}  // namespace
}  // namespace ppgkd
