// Subject-wise folds and validation splits (see folds.h).
#include "train/folds.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "common/error.h"

namespace ppgkd {

uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t derive_seed(uint64_t seed, uint64_t tag) {
  uint64_t s = seed ^ (tag * 0xd1b54a32d192ed03ull);
  splitmix64(&s);
  return splitmix64(&s);
}

std::vector<size_t> permutation(size_t n, uint64_t seed) {
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  uint64_t s = seed;
  for (size_t i = n; i > 1; --i) {
    // Rejection sampling keeps the draw uniform over [0, i).
    const uint64_t limit = UINT64_MAX - UINT64_MAX % i;
    uint64_t r;
    do r = splitmix64(&s);
    while (r >= limit);
    std::swap(p[i - 1], p[r % i]);
  }
  return p;
}

namespace {
std::vector<std::string> sorted_unique(const std::vector<std::string>& v) {
  std::set<std::string> s(v.begin(), v.end());
  return {s.begin(), s.end()};
}
}  // namespace

std::vector<Fold> kfold_by_subject(const std::vector<std::string>& subjects_in, int k,
                                   uint64_t seed) {
  const auto subjects = sorted_unique(subjects_in);
  if (k < 2 || static_cast<size_t>(k) > subjects.size())
    throw Error("folds", fmt::format("cannot make {} folds from {} subjects (need 2 <= k <= {})", k,
                                     subjects.size(), subjects.size()));
  const auto order = permutation(subjects.size(), seed);
  std::vector<Fold> folds(k);
  for (int f = 0; f < k; ++f) folds[f].index = f, folds[f].count = k;
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string& s = subjects[order[i]];
    for (int f = 0; f < k; ++f)
      (static_cast<int>(i % k) == f ? folds[f].test_subjects : folds[f].train_subjects)
          .push_back(s);
  }
  for (auto& f : folds) {
    std::sort(f.train_subjects.begin(), f.train_subjects.end());
    std::sort(f.test_subjects.begin(), f.test_subjects.end());
  }
  return folds;
}

std::vector<Fold> loso_folds(const std::vector<std::string>& subjects_in) {
  const auto subjects = sorted_unique(subjects_in);
  if (subjects.size() < 2)
    throw Error("folds",
                fmt::format("leave-one-subject-out needs >= 2 subjects, got {}", subjects.size()));
  std::vector<Fold> folds;
  for (size_t i = 0; i < subjects.size(); ++i) {
    Fold f;
    f.index = static_cast<int>(i);
    f.count = static_cast<int>(subjects.size());
    f.test_subjects = {subjects[i]};
    for (size_t j = 0; j < subjects.size(); ++j)
      if (j != i) f.train_subjects.push_back(subjects[j]);
    folds.push_back(std::move(f));
  }
  return folds;
}

std::string subject_dataset(const std::string& subject) {
  return subject.substr(0, subject.find('/'));
}

std::string FoldPlan::kind() const {
  if (inner_of >= 0) return fmt::format("ldo-in-fold-{}", inner_of);
  if (leave_dataset_out) return "ldo";
  if (loso) return "loso";
  return folds == 1 ? "none" : "kfold";
}

std::vector<Fold> make_folds(const FoldPlan& plan, const std::vector<std::string>& subjects_in) {
  const auto subjects = sorted_unique(subjects_in);
  const std::set<std::string> only(plan.train_only.begin(), plan.train_only.end());
  std::vector<std::string> pool, extra;
  for (const auto& s : subjects) (only.count(subject_dataset(s)) ? extra : pool).push_back(s);
  for (const auto& d : only) {
    if (std::none_of(extra.begin(), extra.end(),
                     [&](const std::string& s) { return subject_dataset(s) == d; }))
      throw Error("folds", fmt::format("train-only dataset '{}' has no subject in the data", d));
  }
  if (pool.empty()) throw Error("folds", "every subject is train-only: nothing left to test");
  if (plan.inner_of >= 0) {
    if (!plan.leave_dataset_out)
      throw Error("folds", "a nested split (inner_of) needs leave-dataset-out");
    if (plan.inner_of >= plan.folds)
      throw Error("folds",
                  fmt::format("inner_of {} is not a fold of {}", plan.inner_of, plan.folds));
    pool = kfold_by_subject(pool, plan.folds, plan.split_seed)[plan.inner_of].train_subjects;
  }

  std::vector<Fold> folds;
  if (plan.leave_dataset_out) {
    std::vector<std::string> datasets;
    for (const auto& s : pool) datasets.push_back(subject_dataset(s));
    datasets = sorted_unique(datasets);
    if (datasets.size() < 2)
      throw Error("folds", fmt::format("leave-dataset-out needs >= 2 datasets to test, got {}",
                                       datasets.size()));
    for (size_t d = 0; d < datasets.size(); ++d) {
      Fold f;
      f.index = static_cast<int>(d);
      f.count = static_cast<int>(datasets.size());
      for (const auto& s : pool)
        (subject_dataset(s) == datasets[d] ? f.test_subjects : f.train_subjects).push_back(s);
      folds.push_back(std::move(f));
    }
  } else if (plan.loso) {
    folds = loso_folds(pool);
  } else if (plan.folds == 1) {
    folds = {Fold{0, 1, pool, {}}};  // all subjects train; no test
  } else {
    folds = kfold_by_subject(pool, plan.folds, plan.split_seed);
  }
  for (auto& f : folds) {
    f.train_subjects.insert(f.train_subjects.end(), extra.begin(), extra.end());
    std::sort(f.train_subjects.begin(), f.train_subjects.end());
  }
  return folds;
}

void split_validation(const std::vector<std::string>& train_in, double fraction, uint64_t seed,
                      std::vector<std::string>* fit, std::vector<std::string>* val) {
  const auto train = sorted_unique(train_in);
  if (!(fraction >= 0 && fraction < 1))
    throw Error("folds", fmt::format("validation fraction must be in [0, 1), got {}", fraction));
  size_t n_val = 0;
  if (fraction > 0) {
    if (train.size() < 2)
      throw Error("folds", fmt::format("cannot hold out validation subjects from {} training "
                                       "subject(s)",
                                       train.size()));
    n_val = std::clamp<size_t>(static_cast<size_t>(std::lround(fraction * train.size())), 1,
                               train.size() - 1);
  }
  // A tag keeps the validation draw independent of the fold draw made with the same seed.
  const auto order = permutation(train.size(), derive_seed(seed, 0x76616cull));
  fit->clear();
  val->clear();
  for (size_t i = 0; i < order.size(); ++i) (i < n_val ? val : fit)->push_back(train[order[i]]);
  std::sort(fit->begin(), fit->end());
  std::sort(val->begin(), val->end());
}

}  // namespace ppgkd
