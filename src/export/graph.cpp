// Counts and lifetimes of the exporter's graph (see graph.h).
#include "export/graph.h"

namespace ppgkd {

int64_t EdgeOp::terms_per_output() const {
  if (type == EdgeOpType::kConv1d) return w_shape.at(1) * w_shape.at(2);
  if (type == EdgeOpType::kDense) return w_shape.at(1);
  return 0;
}

int64_t EdgeGraph::numel(int tensor) const {
  int64_t n = 1;
  for (int64_t d : tensors.at(tensor)) n *= d;
  return n;
}

int64_t EdgeGraph::macs() const {
  int64_t m = 0;
  for (const EdgeOp& op : ops) m += numel(op.out) * op.terms_per_output();
  return m;
}

int64_t EdgeGraph::weight_count() const {
  int64_t n = 0;
  for (const EdgeOp& op : ops) n += static_cast<int64_t>(op.weight.size() + op.bias.size());
  return n;
}

std::vector<std::pair<int, int>> EdgeGraph::lifetimes() const {
  const int n_ops = static_cast<int>(ops.size());
  std::vector<std::pair<int, int>> life(tensors.size(), {n_ops, -1});
  life.at(input).first = -1;
  for (int j = 0; j < n_ops; ++j) {
    const EdgeOp& op = ops[j];
    life.at(op.out).first = j;
    if (life[op.out].second < j) life[op.out].second = j;
    life.at(op.in0).second = j;
    if (op.in1 >= 0) life.at(op.in1).second = j;
  }
  life.at(output).second = n_ops;
  return life;
}

}  // namespace ppgkd
