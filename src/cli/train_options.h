// The fold and training options `ppgkd train` and `ppgkd distill` share, registered in one place
// so the two subcommands cannot drift apart.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "train/augment.h"
#include "train/folds.h"
#include "train/trainer.h"

namespace ppgkd::cli {

// A count, index or seed: digits only. CLI11 would otherwise wrap "-1" into an unsigned option
// (2^64-1) or print a range up to the largest double.
inline const CLI::Validator kNonNegativeInteger(
    [](std::string& s) -> std::string {
      if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
        return "must be a non-negative integer, got " + s;
      return "";
    },
    "INT>=0");

// --folds --fold --loso --leave-dataset-out --inner-of --train-only --split-seed, bound to `plan`
// and `fold`. `what` names the work done per fold ("Train", "Distil").
inline void add_fold_options(CLI::App* sub, const std::string& what, FoldPlan& plan, int& fold) {
  auto* k = sub->add_option("--folds", plan.folds,
                            "Subject-wise folds (1: train on all; with --leave-dataset-out only "
                            "the outer split of --inner-of)")
                ->check(CLI::Range(1, 1000))
                ->capture_default_str();
  sub->add_option("--fold", fold, what + " only this fold (0-based) into --out")
      ->check(kNonNegativeInteger);
  auto* loso = sub->add_flag("--loso", plan.loso, "Leave-one-subject-out folds")->excludes(k);
  auto* ldo = sub->add_flag("--leave-dataset-out", plan.leave_dataset_out,
                            "One fold per dataset, that dataset being the test set")
                  ->excludes(loso);
  sub->add_option("--inner-of", plan.inner_of,
                  "Nested selection: leave-dataset-out within the training subjects of this "
                  "fold of the --folds/--split-seed split")
      ->needs(ldo)
      ->check(kNonNegativeInteger);
  sub->add_option("--train-only", plan.train_only,
                  "Datasets whose subjects join every fold's training set and are never tested "
                  "(e.g. bami2,bidmc)")
      ->delimiter(',');
  sub->add_option("--split-seed", plan.split_seed, "Seed of the fold assignment")
      ->check(kNonNegativeInteger)
      ->capture_default_str();
}

// --epochs --batch --lr --wd --warmup --label-smoothing --label-sigma --augment --patience
// --val-fraction
// --seed --threads, bound to `cfg`.
inline void add_train_config_options(CLI::App* sub, TrainConfig& cfg) {
  sub->add_option("--epochs", cfg.epochs, "Epochs")->capture_default_str();
  sub->add_option("--batch", cfg.batch, "Batch size")->capture_default_str();
  sub->add_option("--lr", cfg.lr, "Peak learning rate (AdamW)")->capture_default_str();
  sub->add_option("--wd", cfg.weight_decay, "AdamW weight decay")->capture_default_str();
  sub->add_option("--warmup", cfg.warmup_epochs, "Learning-rate warm-up epochs")
      ->capture_default_str();
  sub->add_option("--label-smoothing", cfg.label_smoothing,
                  "Label smoothing of the ground-truth cross-entropy")
      ->capture_default_str();
  sub->add_option("--label-sigma", cfg.label_sigma,
                  "Gaussian-blurred labels: their SD in BPM (0: one-hot)")
      ->check(CLI::Range(0.0, 30.0))
      ->capture_default_str();
  sub->add_option("--hr-balance", cfg.hr_balance,
                  "Class weights (n_c + 1)^-x in the cross-entropy: rarer heart rates count more")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_flag("--augment", cfg.augment, "Amplitude, shift and noise augmentation");
  sub->add_option("--motion-augment", cfg.motion_augment,
                  "Motion-artefact augmentation (train/augment.h)")
      ->check(CLI::IsMember(motion_modes()))
      ->capture_default_str();
  sub->add_option("--motion-prob", cfg.motion_prob, "Share of windows given a motion artefact")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_option("--harmonic-augment", cfg.harmonic_prob,
                  "Share of windows whose pulse gets a boosted second harmonic")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_option("--patience", cfg.patience, "Early-stopping patience in epochs (0: off)")
      ->capture_default_str();
  sub->add_option("--val-fraction", cfg.val_fraction,
                  "Share of training subjects held out for validation")
      ->capture_default_str();
  sub->add_option("--seed", cfg.seed, "Seed (weights, order, augmentation, validation)")
      ->check(kNonNegativeInteger)
      ->capture_default_str();
  sub->add_option("--threads", cfg.threads, "Torch threads")->capture_default_str();
}

}  // namespace ppgkd::cli
