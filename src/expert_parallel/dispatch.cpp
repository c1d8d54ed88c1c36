#include "expert_parallel/dispatch.h"

#include "core/error.h"
#include "moe/bins.h"

namespace smoes::expert_parallel {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows to the ranks and back: the gradient of an all-to-all is the reverse one.
struct AllToAll : torch::autograd::Function<AllToAll> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor rows, int64_t group, std::vector<int64_t> send,
                               std::vector<int64_t> recv) {
    ctx->saved_data["group"] = group;
    ctx->saved_data["send"] = send;
    ctx->saved_data["recv"] = recv;
    return reinterpret_cast<dist::Group*>(group)->alltoall(rows, send, recv);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    auto* g = reinterpret_cast<dist::Group*>(ctx->saved_data["group"].toInt());
    auto send = ctx->saved_data["send"].toIntVector(), recv = ctx->saved_data["recv"].toIntVector();
    return {g->alltoall(grad[0], recv, send), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor all_to_all(dist::Group& g, const torch::Tensor& rows, const std::vector<int64_t>& send,
                         const std::vector<int64_t>& recv) {
  return AllToAll::apply(rows, reinterpret_cast<int64_t>(&g), send, recv);
}

int64_t remote(const std::vector<int64_t>& counts, int self) {
  int64_t n = 0;
  for (size_t r = 0; r < counts.size(); ++r)
    if (int(r) != self) n += counts[r];
  return n;
}

}  // namespace

ExpertParallel::ExpertParallel(dist::Group& group, std::vector<int64_t> device_of)
    : group_(group), device_of_(torch::tensor(device_of, torch::kLong)) {
  for (auto d : device_of)
    if (d < 0 || d >= group.size())
      throw Error("expert parallel: an expert placed on rank " + std::to_string(d) + " of " +
                  std::to_string(group.size()));
}

torch::Tensor ExpertParallel::forward(moe::GroupedExpertsImpl& experts, const torch::Tensor& x,
                                      const torch::Tensor& indices, const torch::Tensor& weights) {
  const int64_t T = x.size(0), k = indices.size(1), d = x.size(1), E = experts.num_experts;
  top_k_ = k;
  if (device_of_.size(0) != E)
    throw Error("expert parallel: the placement has " + std::to_string(device_of_.size(0)) + " experts, the layer " +
                std::to_string(E));
  // Every slot, sorted by (destination rank, expert).
  auto expert = indices.reshape(-1);
  auto token = torch::arange(T).repeat_interleave(k);
  auto dest = device_of_.index_select(0, expert);
  auto order = std::get<1>((dest * E + expert).sort(/*stable=*/true, 0, false));
  auto counts = torch::bincount(dest, {}, group_.size());
  std::vector<int64_t> send(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + group_.size());
  auto recv = group_.exchange_counts(send);

  auto rows = all_to_all(group_, x.index_select(0, token.index_select(0, order)), send, recv);
  auto ids = group_.alltoall(expert.index_select(0, order), send, recv);  // which expert each row is for
  torch::Tensor out = rows.numel() == 0 ? rows * 0
                                        : experts.forward(rows, moe::bin_by_expert(ids.view({-1, 1}), E),
                                                          torch::ones({rows.size(0)}, x.options()));
  auto back = all_to_all(group_, out, recv, send);
  auto y =
      torch::zeros({T, d}, x.options())
          .index_add(0, token.index_select(0, order), back * weights.reshape(-1).index_select(0, order).unsqueeze(1));

  const int64_t row_bytes = d * int64_t(x.element_size());
  traffic.slots += T * k;
  traffic.dispatch_rows += remote(send, group_.rank());
  traffic.combine_rows += remote(recv, group_.rank());
  traffic.local_rows += send[size_t(group_.rank())];
  traffic.dispatch_bytes = traffic.dispatch_rows * row_bytes;
  traffic.combine_bytes = traffic.combine_rows * row_bytes;
  return y;
}

}  // namespace smoes::expert_parallel
