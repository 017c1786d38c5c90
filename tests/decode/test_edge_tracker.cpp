// The C99 edge tracker (edge/src/tracker.c, float) against the host's online forward filter
// (decode/temporal.h OnlineFilter, double) on random posterior sequences: the filtered marginals
// agree to 1e-5 at every step, for the untruncated Laplacian prior the host builds and for a
// prior truncated at max_delta (the same truncated rows built here through
// transition_from_matrix), with and without tempering. The decoded BPM and confidence are
// compared with decode_bpm (data/dsp/class_map.h) on the host marginal. With the cadence
// penalty (ppgkd_tracker_update_cadence against OnlineFilter::update(prob, cadence)) the
// marginals and the BPM tracks agree the same way.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "data/dsp/class_map.h"
#include "decode/temporal.h"
#include "ppgkd_tracker.h"

namespace ppgkd {
namespace {

constexpr int kS = PPGKD_TRACKER_CLASSES;

// The host Laplacian prior truncated at |d| <= w, each row renormalised over the class range.
Transition truncated_laplacian(double scale, int w) {
  std::vector<double> a(static_cast<size_t>(kS) * kS, 0.0);
  for (int i = 0; i < kS; ++i) {
    double sum = 0;
    for (int j = 0; j < kS; ++j)
      if (std::abs(j - i) <= w) sum += a[i * kS + j] = std::exp(-std::abs(j - i) / scale);
    for (int j = 0; j < kS; ++j) a[i * kS + j] /= sum;
  }
  return transition_from_matrix(kS, a);
}

// Runs both filters over `steps` random posteriors (softmax of N(0, 2^2) logits) and returns the
// largest |difference| of the marginals over all steps and classes; checks the decode each step.
// With a penalty (depth > 0), every other step gets a random cadence in 40..200 BPM (whole and
// half BPM, as the cadence estimate gives), the others none.
double worst_difference(const Transition& tr, float scale, uint32_t w, float gamma, float floor,
                        int steps, unsigned seed, float depth = 0, float width = 4,
                        bool half = false) {
  ppgkd_tracker t;
  EXPECT_EQ(PPGKD_OK, ppgkd_tracker_init(&t, scale, w, gamma, floor));
  EXPECT_EQ(PPGKD_OK, ppgkd_tracker_set_cadence_penalty(&t, depth, width, half));
  DecodeOptions opt;
  opt.temperature = gamma;
  opt.floor = floor;  // the float value, so both filters mix in the same floor
  opt.cadence = {depth, width, half};
  OnlineFilter host(tr, opt);
  std::uniform_int_distribution<int> half_bpm(80, 400);
  std::mt19937 rng(seed);
  std::normal_distribution<float> logit(0.0f, 2.0f);
  std::vector<float> p(kS), belief_host(kS);
  std::vector<double> pd(kS);
  double worst = 0;
  for (int step = 0; step < steps; ++step) {
    float sum = 0;
    for (auto& v : p) sum += v = std::exp(logit(rng));
    for (int j = 0; j < kS; ++j) pd[j] = p[j] /= sum;
    float bpm = 0, conf = 0;
    const float cadence = step % 2 ? 0.5f * static_cast<float>(half_bpm(rng)) : 0.0f;
    EXPECT_EQ(PPGKD_OK, ppgkd_tracker_update_cadence(&t, p.data(), cadence, &bpm, &conf));
    const auto& alpha = host.update(pd.data(), cadence);
    for (int j = 0; j < kS; ++j) {
      worst = std::max(worst, std::fabs(alpha[j] - t.belief[j]));
      belief_host[j] = static_cast<float>(alpha[j]);
    }
    double host_conf = 0;
    const double host_bpm = decode_bpm(belief_host.data(), PPGKD_TRACKER_RADIUS, &host_conf);
    EXPECT_NEAR(host_bpm, bpm, 1e-3) << "step " << step;
    EXPECT_NEAR(host_conf, conf, 1e-5) << "step " << step;
  }
  return worst;
}

TEST(EdgeTracker, MatchesHostFilterUntruncated) {
  const Transition tr = laplacian_transition(kS, 3.0);
  EXPECT_LE(worst_difference(tr, 3.0f, PPGKD_TRACKER_MAX_DELTA, 1.0f, 1e-6f, 40, 7), 1e-5);
  EXPECT_LE(worst_difference(tr, 3.0f, PPGKD_TRACKER_MAX_DELTA, 0.6f, 1e-3f, 40, 8), 1e-5);
}

TEST(EdgeTracker, MatchesHostFilterTruncated) {
  const Transition tr = truncated_laplacian(0.84, 30);
  EXPECT_LE(worst_difference(tr, 0.84f, 30, 1.0f, 1e-6f, 40, 9), 1e-5);
  const Transition tr2 = truncated_laplacian(2.0, 8);
  EXPECT_LE(worst_difference(tr2, 2.0f, 8, 0.7f, 1e-4f, 40, 10), 1e-5);
}

TEST(EdgeTracker, MatchesHostFilterWithCadencePenalty) {
  const Transition tr = truncated_laplacian(0.84, 30);
  EXPECT_LE(worst_difference(tr, 0.84f, 30, 1.0f, 1e-6f, 40, 11, 0.8f, 4.0f, false), 1e-5);
  EXPECT_LE(worst_difference(tr, 0.84f, 30, 0.7f, 1e-4f, 40, 12, 0.95f, 2.5f, true), 1e-5);
  const Transition flat = laplacian_transition(kS, 3.0);
  EXPECT_LE(
      worst_difference(flat, 3.0f, PPGKD_TRACKER_MAX_DELTA, 1.0f, 1e-6f, 40, 13, 0.5f, 6.0f, true),
      1e-5);
}

}  // namespace
}  // namespace ppgkd
