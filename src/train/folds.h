// Subject-wise splits: k-fold by subject, leave-one-subject-out, and the validation subjects held
// out of a fold's training subjects for early stopping. Every split is a pure function of the
// sorted subject list and a seed, so a fold means the same subjects on every machine. No libtorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ppgkd {

struct Fold {
  int index = 0, count = 0;
  std::vector<std::string> train_subjects;  // sorted
  std::vector<std::string> test_subjects;   // sorted; disjoint from train_subjects
};

// Shuffles the sorted unique subjects with `seed` and deals them round-robin into k folds (sizes
// differ by at most one). Throws Error("folds", ...) when k < 2 or k > number of subjects.
std::vector<Fold> kfold_by_subject(const std::vector<std::string>& subjects, int k, uint64_t seed);

// One fold per subject (sorted order), that subject being the test set.
std::vector<Fold> loso_folds(const std::vector<std::string>& subjects);

// The dataset of a subject id ("bami1/03" -> "bami1"): the part before the first '/', or the
// whole id when it has none.
std::string subject_dataset(const std::string& subject);

// How `train` and `distill` split subjects, from their shared options.
//   kfold / loso / none (folds == 1): over the subjects of every dataset not in train_only;
//   leave_dataset_out: one fold per such dataset, that dataset's subjects being the test set.
// Subjects of the train_only datasets join every fold's training subjects and are never tested,
// so adding them leaves the test subjects of every fold unchanged.
// inner_of = f >= 0 nests the split for selection: the subjects are first restricted to the
// training subjects of fold f of the outer k-fold split (folds, split_seed, over the same pool),
// and leave_dataset_out (required then) splits those, so an inner test set is never a test
// subject of outer fold f.
struct FoldPlan {
  int folds = 4;
  bool loso = false;
  bool leave_dataset_out = false;
  int inner_of = -1;  // >= 0: nested leave-dataset-out within outer fold inner_of
  uint64_t split_seed = 1;
  std::vector<std::string> train_only;  // dataset names, e.g. {"bami2"}
  std::string kind() const;  // "kfold", "loso", "ldo", "ldo-in-fold-F" or "none" (model.json)
};
// Throws Error("folds", ...) when a train_only dataset has no subject, when no subject is left
// to test, when leave_dataset_out finds fewer than two datasets, or when inner_of is out of
// range or given without leave_dataset_out.
std::vector<Fold> make_folds(const FoldPlan& plan, const std::vector<std::string>& subjects);

// Splits a fold's training subjects into fit and validation subjects: round(fraction * n)
// validation subjects, at least 1 when fraction > 0, and at least one subject left to fit.
// fraction = 0 gives no validation subjects. Deterministic in (subjects, seed).
void split_validation(const std::vector<std::string>& train_subjects, double fraction,
                      uint64_t seed, std::vector<std::string>* fit, std::vector<std::string>* val);

// splitmix64: a tiny, portable generator (std::shuffle's algorithm differs between standard
// libraries, so splits use this instead).
uint64_t splitmix64(uint64_t* state);
// Fisher-Yates shuffle of 0..n-1 driven by splitmix64 from `seed`.
std::vector<size_t> permutation(size_t n, uint64_t seed);
// A seed derived from a base seed and a tag (epoch, step, ...), decorrelated by hashing.
uint64_t derive_seed(uint64_t seed, uint64_t tag);

}  // namespace ppgkd
