// Subject-wise folds: disjoint, complete, balanced and deterministic.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/error.h"
#include "train/folds.h"

namespace ppgkd {
namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("s" + std::to_string(100 + i));
  return v;
}

TEST(Folds, KFoldIsDisjointCompleteAndBalanced) {
  auto subjects = names(11);
  auto folds = kfold_by_subject(subjects, 4, 42);
  ASSERT_EQ(folds.size(), 4u);
  std::multiset<std::string> tested;
  for (const auto& f : folds) {
    std::set<std::string> train(f.train_subjects.begin(), f.train_subjects.end());
    for (const auto& s : f.test_subjects) EXPECT_EQ(train.count(s), 0u) << s << " in both";
    EXPECT_EQ(f.train_subjects.size() + f.test_subjects.size(), subjects.size());
    EXPECT_TRUE(f.test_subjects.size() == 2 || f.test_subjects.size() == 3);
    tested.insert(f.test_subjects.begin(), f.test_subjects.end());
  }
  // Every subject is tested exactly once.
  EXPECT_EQ(tested, std::multiset<std::string>(subjects.begin(), subjects.end()));
  // Deterministic in the seed, independent of input order and duplicates.
  auto shuffled = subjects;
  std::reverse(shuffled.begin(), shuffled.end());
  shuffled.push_back(subjects[0]);
  auto again = kfold_by_subject(shuffled, 4, 42);
  for (int f = 0; f < 4; ++f) EXPECT_EQ(again[f].test_subjects, folds[f].test_subjects);
  bool differs = false;
  auto other = kfold_by_subject(subjects, 4, 43);
  for (int f = 0; f < 4; ++f) differs |= other[f].test_subjects != folds[f].test_subjects;
  EXPECT_TRUE(differs);
}

TEST(Folds, LeaveOneSubjectOut) {
  auto folds = loso_folds({"b", "a", "c"});
  ASSERT_EQ(folds.size(), 3u);
  EXPECT_EQ(folds[0].test_subjects, std::vector<std::string>{"a"});
  EXPECT_EQ(folds[0].train_subjects, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(folds[2].test_subjects, std::vector<std::string>{"c"});
}

TEST(Folds, ValidationSubjectsComeFromTraining) {
  auto train = names(9);
  std::vector<std::string> fit, val;
  split_validation(train, 0.2, 5, &fit, &val);
  EXPECT_EQ(val.size(), 2u);  // round(0.2 * 9)
  EXPECT_EQ(fit.size(), 7u);
  for (const auto& v : val) EXPECT_EQ(std::count(fit.begin(), fit.end(), v), 0);
  std::vector<std::string> fit2, val2;
  split_validation(train, 0.2, 5, &fit2, &val2);
  EXPECT_EQ(val, val2);
  split_validation({"a", "b"}, 0.01, 5, &fit, &val);  // at least one, and one left to fit
  EXPECT_EQ(val.size(), 1u);
  EXPECT_EQ(fit.size(), 1u);
  split_validation(train, 0.0, 5, &fit, &val);
  EXPECT_TRUE(val.empty());
}

TEST(Folds, ErrorsSayWhy) {
  try {
    kfold_by_subject(names(3), 4, 1);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "folds: cannot make 4 folds from 3 subjects (need 2 <= k <= 3)");
  }
  try {
    std::vector<std::string> fit, val;
    split_validation({"a"}, 0.2, 1, &fit, &val);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "folds: cannot hold out validation subjects from 1 training subject(s)");
  }
}

TEST(Folds, PermutationIsAPermutation) {
  auto p = permutation(1000, 9);
  std::vector<size_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_NE(p, permutation(1000, 10));
}

// Subjects of three datasets: a/0..5, b/0..3, x/0..2.
std::vector<std::string> pooled() {
  std::vector<std::string> v;
  for (int i = 0; i < 6; ++i) v.push_back("a/" + std::to_string(i));
  for (int i = 0; i < 4; ++i) v.push_back("b/" + std::to_string(i));
  for (int i = 0; i < 3; ++i) v.push_back("x/" + std::to_string(i));
  return v;
}

TEST(Folds, SubjectDatasetIsThePrefix) {
  EXPECT_EQ(subject_dataset("bami1/03"), "bami1");
  EXPECT_EQ(subject_dataset("spc2015/train01"), "spc2015");
  EXPECT_EQ(subject_dataset("plain"), "plain");
}

TEST(Folds, TrainOnlyDatasetsJoinEveryFoldAndLeaveTestSubjectsUnchanged) {
  FoldPlan plain;
  std::vector<std::string> ab;
  for (const auto& s : pooled())
    if (subject_dataset(s) != "x") ab.push_back(s);
  const auto before = make_folds(plain, ab);
  FoldPlan with_x;
  with_x.train_only = {"x"};
  const auto after = make_folds(with_x, pooled());
  ASSERT_EQ(after.size(), before.size());
  for (size_t f = 0; f < after.size(); ++f) {
    EXPECT_EQ(after[f].test_subjects, before[f].test_subjects);
    std::vector<std::string> want = before[f].train_subjects;
    want.insert(want.end(), {"x/0", "x/1", "x/2"});
    std::sort(want.begin(), want.end());
    EXPECT_EQ(after[f].train_subjects, want);
  }
  EXPECT_EQ(with_x.kind(), "kfold");
}

TEST(Folds, LeaveDatasetOutTestsEachDatasetOnce) {
  FoldPlan p;
  p.leave_dataset_out = true;
  p.train_only = {"x"};
  const auto folds = make_folds(p, pooled());
  ASSERT_EQ(folds.size(), 2u);
  EXPECT_EQ(p.kind(), "ldo");
  EXPECT_EQ(folds[0].test_subjects,
            (std::vector<std::string>{"a/0", "a/1", "a/2", "a/3", "a/4", "a/5"}));
  EXPECT_EQ(folds[0].train_subjects,
            (std::vector<std::string>{"b/0", "b/1", "b/2", "b/3", "x/0", "x/1", "x/2"}));
  EXPECT_EQ(folds[1].test_subjects, (std::vector<std::string>{"b/0", "b/1", "b/2", "b/3"}));
  EXPECT_EQ(folds[1].train_subjects.size(), 9u);
  for (const auto& f : folds) EXPECT_EQ(f.count, 2);
}

TEST(Folds, NestedLeaveDatasetOutStaysInsideTheOuterFoldsTrainingSubjects) {
  FoldPlan outer;
  outer.train_only = {"x"};
  const auto outer_folds = make_folds(outer, pooled());
  for (int f = 0; f < outer.folds; ++f) {
    FoldPlan inner = outer;
    inner.leave_dataset_out = true;
    inner.inner_of = f;
    EXPECT_EQ(inner.kind(), "ldo-in-fold-" + std::to_string(f));
    const auto folds = make_folds(inner, pooled());
    ASSERT_EQ(folds.size(), 2u);  // datasets a and b; x is train-only
    const auto& test = outer_folds[f].test_subjects;
    std::set<std::string> allowed(outer_folds[f].train_subjects.begin(),
                                  outer_folds[f].train_subjects.end());
    for (const auto& fold : folds) {
      for (const auto& s : fold.test_subjects) EXPECT_TRUE(allowed.count(s)) << s;
      for (const auto& s : fold.train_subjects) EXPECT_TRUE(allowed.count(s)) << s;
      for (const auto& s : test) {
        EXPECT_EQ(std::count(fold.test_subjects.begin(), fold.test_subjects.end(), s), 0);
        EXPECT_EQ(std::count(fold.train_subjects.begin(), fold.train_subjects.end(), s), 0);
      }
    }
    // Inner fold 0 tests dataset a's subjects of the outer training set, trains on b's and x.
    for (const auto& s : folds[0].test_subjects) EXPECT_EQ(subject_dataset(s), "a");
    EXPECT_EQ(folds[0].test_subjects.size() + folds[1].test_subjects.size(),
              outer_folds[f].train_subjects.size() - 3);
  }
  FoldPlan no_ldo;
  no_ldo.inner_of = 0;
  EXPECT_THROW(make_folds(no_ldo, pooled()), Error);
  FoldPlan out_of_range;
  out_of_range.leave_dataset_out = true;
  out_of_range.inner_of = 4;
  EXPECT_THROW(make_folds(out_of_range, pooled()), Error);
}

TEST(Folds, BadPlansAreRefused) {
  FoldPlan missing;
  missing.train_only = {"nope"};
  EXPECT_THROW(make_folds(missing, pooled()), Error);
  FoldPlan everything;
  everything.train_only = {"a", "b", "x"};
  EXPECT_THROW(make_folds(everything, pooled()), Error);
  FoldPlan one_dataset;
  one_dataset.leave_dataset_out = true;
  one_dataset.train_only = {"a", "b"};
  EXPECT_THROW(make_folds(one_dataset, pooled()), Error);
  FoldPlan loso;
  loso.loso = true;
  loso.train_only = {"x"};
  const auto folds = make_folds(loso, pooled());
  EXPECT_EQ(folds.size(), 10u);
  for (const auto& f : folds) EXPECT_EQ(f.train_subjects.size(), 12u);
}

}  // namespace
}  // namespace ppgkd
