// A process group over c10d's Gloo backend (LibTorch's own distributed
// engine): rank 0 hosts the TCP rendezvous store, every collective waits at
// most `timeout`, so a dead rank turns into an error on the others instead
// of a hang.
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dist/world.h"

namespace c10d {
class ProcessGroupGloo;
class Store;
class Work;
}  // namespace c10d

namespace smoes::dist {

class Group {
 public:
  // Joins the world (every rank must call it). Throws smoes::Error when rank
  // 0 cannot listen on addr:port (in use) or the others do not arrive in time.
  explicit Group(const WorldInfo& world, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const { return world_.rank; }
  int size() const { return world_.size; }

  // Sums each tensor over the ranks, in place.
  void allreduce_sum(std::vector<torch::Tensor>& tensors);
  // Sums the gradients of `params` over the ranks, flattened into buckets of
  // at most `bucket_bytes` (one collective per bucket, as DDP does).
  // A parameter with a gradient on some rank only gets a zero one on the
  // others first; one without a gradient on any rank is skipped.
  void allreduce_gradients(const std::vector<torch::Tensor>& params, int64_t bucket_bytes = 4 << 20);
  // Copies rank `root`'s tensors to every rank, in place.
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  // Rows of `input` [sum(send), ...] go to the ranks in order, send[r] rows
  // to rank r; returns the rows received, recv[r] from rank r (the counts
  // must agree across ranks: exchange them first with exchange_counts).
  torch::Tensor alltoall(const torch::Tensor& input, std::vector<int64_t> send, std::vector<int64_t> recv);
  // send[r] is what this rank sends rank r; returns what each rank sends this one.
  std::vector<int64_t> exchange_counts(const std::vector<int64_t>& send);
  // Throws on every rank, naming `what` and the ranks that differ, unless
  // every rank passed the same `value` (e.g. the resolved config).
  void require_same(const std::string& what, const std::string& value);

 private:
  void wait(const char* what, const c10::intrusive_ptr<c10d::Work>& work);

  WorldInfo world_;
  std::chrono::milliseconds timeout_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
};

}  // namespace smoes::dist
