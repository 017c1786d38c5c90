// Training losses: CE, hard, soft, decoupled and feature distillation (see losses.h for the
// definitions and shapes). This file holds only the arithmetic and its input checks.
#include "train/losses.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include "common/error.h"

namespace ppgkd {

namespace F = torch::nn::functional;

// ------------------------------------------------------------------------------ input checks

namespace {

std::string shape_str(torch::IntArrayRef sizes) {
  std::ostringstream os;
  os << sizes;
  return os.str();
}

std::string shape_str(const std::vector<int64_t>& sizes) {
  return shape_str(torch::IntArrayRef(sizes));
}

std::string num_str(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

// (B, K) floating logits with K >= 2.
void check_logits(const std::string& where, const char* who, const torch::Tensor& logits) {
  if (logits.dim() != 2 || logits.size(1) < 2)
    throw Error(where, std::string(who) + " logits must be (B, K) with K >= 2, got " +
                           shape_str(logits.sizes()));
  if (!logits.is_floating_point())
    throw Error(where, std::string(who) + " logits must be floating point, got " +
                           std::string(c10::toString(logits.scalar_type())));
}

// (B) int64 class indices in [0, K) matching (B, K) student logits.
void check_targets(const std::string& where, const torch::Tensor& student,
                   const torch::Tensor& targets) {
  const int64_t batch = student.size(0), classes = student.size(1);
  if (targets.dim() != 1 || targets.size(0) != batch || targets.scalar_type() != torch::kLong)
    throw Error(where, "targets must be an int64 (B) tensor with B = " + std::to_string(batch) +
                           ", got shape " + shape_str(targets.sizes()) + " and dtype " +
                           std::string(c10::toString(targets.scalar_type())));
  if (batch == 0) throw Error(where, "empty batch");
  const int64_t lo = targets.min().item<int64_t>(), hi = targets.max().item<int64_t>();
  if (lo < 0 || hi >= classes)
    throw Error(where, "target class out of range [0, " + std::to_string(classes) +
                           "): " + std::to_string(lo < 0 ? lo : hi));
}

void check_student_teacher(const std::string& where, const torch::Tensor& student,
                           const torch::Tensor& teacher, const torch::Tensor& targets) {
  check_logits(where, "student", student);
  check_logits(where, "teacher", teacher);
  if (teacher.sizes() != student.sizes())
    throw Error(where, "teacher logits must match the student's " + shape_str(student.sizes()) +
                           ", got " + shape_str(teacher.sizes()));
  check_targets(where, student, targets);
}

void check_unit_interval(const std::string& where, const char* name, double x) {
  if (!(x >= 0.0 && x <= 1.0))
    throw Error(where, std::string(name) + " must be in [0, 1], got " + num_str(x));
}

void check_temperature(const std::string& where, double t) {
  if (!(t > 0.0 && std::isfinite(t)))
    throw Error(where, "temperature must be positive, got " + num_str(t));
}

// Per-row KL(p || q) = sum_k p_k (log p_k - log q_k) from log-probabilities.  (B, N) x2 -> (B)
// log_p is finite wherever it comes from log_softmax / log-sum-exp, so a p_k that underflows to 0
// contributes 0 * finite = 0, the convention KL uses for empty classes.
torch::Tensor kl_rows(const torch::Tensor& log_p, const torch::Tensor& log_q) {
  return (log_p.exp() * (log_p - log_q)).sum(1);
}

// CE without re-checking the inputs.  (B, K), (B) -> ()
torch::Tensor ce_unchecked(const torch::Tensor& logits, const torch::Tensor& targets) {
  return F::cross_entropy(logits, targets);
}

}  // namespace

// ------------------------------------------------------------------------------ cross-entropy

torch::Tensor ce_loss(const torch::Tensor& student_logits, const torch::Tensor& targets) {
  check_logits("ce_loss", "student", student_logits);
  check_targets("ce_loss", student_logits, targets);
  return ce_unchecked(student_logits, targets);
}

torch::Tensor gaussian_label_ce(const torch::Tensor& logits, const torch::Tensor& targets,
                                double sigma, double smoothing) {
  check_logits("gaussian_label_ce", "student", logits);
  check_targets("gaussian_label_ce", logits, targets);
  if (!(std::isfinite(sigma) && sigma >= 0 && smoothing >= 0 && smoothing < 1))
    throw Error(
        "gaussian_label_ce",
        fmt::format("need sigma >= 0 and smoothing in [0, 1), got sigma {} and smoothing {}", sigma,
                    smoothing));
  if (sigma == 0)
    return F::cross_entropy(logits, targets,
                            F::CrossEntropyFuncOptions().label_smoothing(smoothing));
  const int64_t K = logits.size(1);
  const auto c = torch::arange(K, logits.options()).unsqueeze(0);  // (1, K)
  const auto y = targets.to(logits.scalar_type()).unsqueeze(1);    // (B, 1)
  const auto g =
      torch::softmax(-(c - y).pow(2) / (2 * sigma * sigma), 1);  // the normalised Gaussian
  const auto t = (1 - smoothing) * g + smoothing / static_cast<double>(K);
  return -(t * torch::log_softmax(logits, 1)).sum(1).mean();
}

torch::Tensor class_balance_weights(const std::vector<int64_t>& targets, int64_t classes,
                                    double exponent) {
  if (classes < 1 || targets.empty() || !(exponent >= 0 && exponent <= 1))
    throw Error("class_balance_weights",
                fmt::format("need classes >= 1, targets and an exponent in [0, 1] (got {} "
                            "classes, {} targets, exponent {})",
                            classes, targets.size(), exponent));
  std::vector<double> count(static_cast<size_t>(classes), 0.0);
  for (const int64_t t : targets) {
    if (t < 0 || t >= classes)
      throw Error("class_balance_weights", fmt::format("target {} outside [0, {})", t, classes));
    count[static_cast<size_t>(t)] += 1;
  }
  std::vector<float> w(count.size());
  double target_sum = 0;
  for (size_t c = 0; c < count.size(); ++c) {
    const double wc = std::pow(count[c] + 1, -exponent);
    target_sum += count[c] * wc;
    w[c] = static_cast<float>(wc);
  }
  const double scale = static_cast<double>(targets.size()) / target_sum;
  for (auto& v : w) v = static_cast<float>(v * scale);
  return torch::tensor(w);
}

// ------------------------------------------------------------------------------ hard KD

torch::Tensor hard_kd_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                           const torch::Tensor& targets, double teacher_weight) {
  check_student_teacher("hard_kd_loss", student_logits, teacher_logits, targets);
  check_unit_interval("hard_kd_loss", "teacher_weight", teacher_weight);
  const torch::Tensor teacher_top = teacher_logits.detach().argmax(1);
  return (1.0 - teacher_weight) * ce_unchecked(student_logits, targets) +
         teacher_weight * ce_unchecked(student_logits, teacher_top);
}

// ------------------------------------------------------------------------------ soft KD

torch::Tensor soft_kd_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                           const torch::Tensor& targets, double alpha, double temperature) {
  check_student_teacher("soft_kd_loss", student_logits, teacher_logits, targets);
  check_unit_interval("soft_kd_loss", "alpha", alpha);
  check_temperature("soft_kd_loss", temperature);
  const torch::Tensor log_q = torch::log_softmax(student_logits / temperature, 1);
  const torch::Tensor log_p = torch::log_softmax(teacher_logits.detach() / temperature, 1);
  const torch::Tensor kl = kl_rows(log_p, log_q).mean();  // summed over K, batchmean
  return (1.0 - alpha) * ce_unchecked(student_logits, targets) +
         alpha * temperature * temperature * kl;
}

// ------------------------------------------------------------------------------ decoupled KD

double dkd_warmup(double epoch, double warmup_epochs) {
  if (warmup_epochs <= 0) return 1.0;
  return std::min(epoch / warmup_epochs, 1.0);
}

namespace {

// The pieces DKD needs from one side's logits at temperature T.
struct DkdParts {
  torch::Tensor log_binary;     // (B, 2): log p_target, log (1 - p_target)
  torch::Tensor log_nontarget;  // (B, K-1): log softmax over the non-target classes alone
};

// (B, K) logits already divided by T, (B, K) bool target mask -> parts.
DkdParts dkd_parts(const torch::Tensor& scaled, const torch::Tensor& target_mask) {
  const int64_t batch = scaled.size(0), classes = scaled.size(1);
  // masked_select keeps row-major order, so each row keeps its K-1 other classes in class order.
  const torch::Tensor others = scaled.masked_select(~target_mask).view({batch, classes - 1});
  const torch::Tensor target = scaled.masked_select(target_mask);  // (B)
  const torch::Tensor lse_all = torch::logsumexp(scaled, 1);
  const torch::Tensor lse_others = torch::logsumexp(others, 1);
  // log p_t = z_t - lse(z); log(1 - p_t) = lse(z_others) - lse(z): exact, and never log(0).
  return {torch::stack({target - lse_all, lse_others - lse_all}, 1), torch::log_softmax(others, 1)};
}

}  // namespace

DkdLoss dkd_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                 const torch::Tensor& targets, const DkdOptions& options, double epoch) {
  check_student_teacher("dkd_loss", student_logits, teacher_logits, targets);
  const double t = options.temperature;
  check_temperature("dkd_loss", t);
  const torch::Tensor target_mask =
      torch::zeros_like(student_logits, torch::kBool).scatter_(1, targets.unsqueeze(1), true);
  const DkdParts s = dkd_parts(student_logits / t, target_mask);
  const DkdParts q = dkd_parts(teacher_logits.detach() / t, target_mask);

  DkdLoss out;
  out.ce = ce_unchecked(student_logits, targets);
  out.tckd = kl_rows(q.log_binary, s.log_binary).mean() * (t * t);
  out.nckd = kl_rows(q.log_nontarget, s.log_nontarget).mean() * (t * t);
  const double warmup = dkd_warmup(epoch, options.warmup_epochs);
  out.total = out.ce + warmup * (options.alpha * out.tckd + options.beta * out.nckd);
  return out;
}

// ------------------------------------------------------------------------------ feature KD

FeatureProjectorImpl::FeatureProjectorImpl(std::vector<int64_t> student_shape,
                                           std::vector<int64_t> teacher_shape)
    : student_shape_(std::move(student_shape)), teacher_shape_(std::move(teacher_shape)) {
  bool positive = true;
  for (int64_t d : student_shape_) positive = positive && d > 0;
  for (int64_t d : teacher_shape_) positive = positive && d > 0;
  const size_t rank = student_shape_.size();
  if (!positive || rank != teacher_shape_.size() || rank < 1 || rank > 2)
    throw Error("FeatureProjector", "student feature shape " + shape_str(student_shape_) +
                                        " and teacher feature shape " + shape_str(teacher_shape_) +
                                        " must both be (C, L) or both (D), all sizes positive");
  if (rank == 2) {
    conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(
                                       student_shape_[0], teacher_shape_[0], 1)));
  } else {
    linear = register_module("linear", torch::nn::Linear(student_shape_[0], teacher_shape_[0]));
  }
}

torch::Tensor FeatureProjectorImpl::forward(const torch::Tensor& student_feature) {
  const auto sizes = student_feature.sizes();
  if (student_feature.dim() != static_cast<int64_t>(student_shape_.size()) + 1 ||
      sizes.slice(1) != torch::IntArrayRef(student_shape_))
    throw Error("FeatureProjector", "student feature must be (B)+" + shape_str(student_shape_) +
                                        ", got " + shape_str(sizes));
  if (linear) return linear(student_feature);
  torch::Tensor y = conv(student_feature);
  const int64_t target_length = teacher_shape_[1];
  if (y.size(2) != target_length) {
    // A 1x1 conv and a linear interpolation are both linear with weights summing to 1 in time,
    // so their order does not change the result; projecting first touches fewer values when
    // Ct < Cs.
    y = F::interpolate(y, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{target_length})
                              .mode(torch::kLinear)
                              .align_corners(false));
  }
  return y;
}

torch::Tensor feature_kd_loss(const torch::Tensor& student_logits, const torch::Tensor& targets,
                              const torch::Tensor& student_feature,
                              const torch::Tensor& teacher_feature, FeatureProjector& projector,
                              double lambda) {
  check_logits("feature_kd_loss", "student", student_logits);
  check_targets("feature_kd_loss", student_logits, targets);
  const int64_t batch = student_logits.size(0);
  if (student_feature.dim() < 2 || student_feature.size(0) != batch || teacher_feature.dim() < 2 ||
      teacher_feature.size(0) != batch)
    throw Error("feature_kd_loss", "features must have the logits' batch size " +
                                       std::to_string(batch) + ", got student " +
                                       shape_str(student_feature.sizes()) + " and teacher " +
                                       shape_str(teacher_feature.sizes()));
  const torch::Tensor projected = projector->forward(student_feature);
  if (projected.sizes() != teacher_feature.sizes())
    throw Error("feature_kd_loss", "projected student feature " + shape_str(projected.sizes()) +
                                       " does not match the teacher feature " +
                                       shape_str(teacher_feature.sizes()));
  return ce_unchecked(student_logits, targets) +
         lambda * F::mse_loss(projected, teacher_feature.detach());
}

}  // namespace ppgkd
