#include "dist/group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/error.h"
#include "core/files.h"

namespace smoes::dist {
namespace {

std::string where(const WorldInfo& w) { return w.addr + ":" + std::to_string(w.port); }

}  // namespace

Group::Group(const WorldInfo& world, std::chrono::milliseconds timeout) : world_(world), timeout_(timeout) {
  c10d::TCPStoreOptions o;
  o.port = uint16_t(world.port);
  o.isServer = world.rank == 0;
  o.numWorkers = world.size;
  o.waitWorkers = true;
  o.timeout = timeout;
  try {
    store_ = c10::make_intrusive<c10d::TCPStore>(world.addr, o);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (world.rank == 0 && what.find("in use") != std::string::npos)
      throw Error("dist: rank 0 cannot listen on " + where(world) + ": the port is in use (set MASTER_PORT)");
    throw Error("dist: rank " + std::to_string(world.rank) + " could not join the store at " + where(world) +
                " within " + std::to_string(timeout.count() / 1000) + " s: " + what.substr(0, what.find('\n')));
  }
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(world.addr));
  try {
    pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("smoes", store_),
                                                      world.rank, world.size, options);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw Error("dist: rank " + std::to_string(world.rank) + ": Gloo process group of " + std::to_string(world.size) +
                " at " + where(world) + " failed: " + what.substr(0, what.find('\n')));
  }
}

Group::~Group() = default;

void Group::wait(const char* what, const c10::intrusive_ptr<c10d::Work>& work) {
  try {
    work->wait(timeout_);
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    throw Error("dist: rank " + std::to_string(rank()) + ": " + what + " failed or timed out after " +
                std::to_string(timeout_.count() / 1000.0).substr(0, 5) +
                " s (did another rank die?): " + msg.substr(0, msg.find('\n')));
  }
}

void Group::allreduce_sum(std::vector<torch::Tensor>& tensors) {
  for (auto& t : tensors) {
    std::vector<torch::Tensor> one = {t};
    wait("allreduce", pg_->allreduce(one));
  }
}

void Group::allreduce_gradients(const std::vector<torch::Tensor>& params, int64_t bucket_bytes) {
  // A parameter some rank has a gradient for (an expert only its tokens
  // chose) gets a zero gradient on the others, so every rank sends the same
  // buckets; one no rank has a gradient for stays without one everywhere.
  auto has = torch::zeros({int64_t(params.size())});
  for (size_t i = 0; i < params.size(); ++i) has[int64_t(i)] = params[i].grad().defined() ? 1.0 : 0.0;
  std::vector<torch::Tensor> flags = {has};
  wait("gradient presence allreduce", pg_->allreduce(flags));
  for (size_t i = 0; i < params.size(); ++i)
    if (has[int64_t(i)].item<double>() > 0 && !params[i].grad().defined())
      const_cast<torch::Tensor&>(params[i]).mutable_grad() = torch::zeros_like(params[i]);
  std::vector<torch::Tensor> bucket;
  int64_t bytes = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    std::vector<torch::Tensor> flat = {torch::cat([&] {
      std::vector<torch::Tensor> views;
      for (auto& g : bucket) views.push_back(g.reshape(-1));
      return views;
    }())};
    wait("gradient allreduce", pg_->allreduce(flat));
    int64_t at = 0;
    for (auto& g : bucket) {
      g.copy_(flat[0].narrow(0, at, g.numel()).view_as(g));
      at += g.numel();
    }
    bucket.clear();
    bytes = 0;
  };
  for (const auto& p : params) {
    auto g = p.grad();
    if (!g.defined()) continue;
    const int64_t b = g.numel() * int64_t(g.element_size());
    if (bytes > 0 && bytes + b > bucket_bytes) flush();
    bucket.push_back(g);
    bytes += b;
  }
  flush();
}

torch::Tensor Group::alltoall(const torch::Tensor& input, std::vector<int64_t> send, std::vector<int64_t> recv) {
  int64_t rows = 0;
  for (auto n : recv) rows += n;
  auto shape = input.sizes().vec();
  shape[0] = rows;
  auto in = input.contiguous();
  auto out = torch::empty(shape, input.options());
  wait("alltoall", pg_->alltoall_base(out, in, recv, send));
  return out;
}

std::vector<int64_t> Group::exchange_counts(const std::vector<int64_t>& send) {
  auto in = torch::tensor(send, torch::kLong);
  auto out = torch::empty({size()}, torch::kLong);
  std::vector<int64_t> ones(size_t(size()), 1);
  auto ones_in = ones;
  wait("count exchange", pg_->alltoall_base(out, in, ones, ones_in));
  return std::vector<int64_t>(out.data_ptr<int64_t>(), out.data_ptr<int64_t>() + size());
}

void Group::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  c10d::BroadcastOptions o;
  o.rootRank = root;
  for (auto& t : tensors) {
    std::vector<torch::Tensor> one = {t};
    wait("broadcast", pg_->broadcast(one, o));
  }
}

void Group::require_same(const std::string& what, const std::string& value) {
  // Each rank's SHA-256, gathered as bytes.
  const auto hex = sha256_hex(value);
  auto mine = torch::from_blob(const_cast<char*>(hex.data()), {int64_t(hex.size())}, torch::kChar).to(torch::kFloat);
  auto all = torch::zeros({size(), int64_t(hex.size())});
  all[rank()].copy_(mine);
  std::vector<torch::Tensor> v = {all};
  wait("config check", pg_->allreduce(v));
  std::string differ;
  for (int r = 0; r < size(); ++r)
    if (!all[r].equal(all[0])) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
  if (!differ.empty())
    throw Error("dist: " + what + " differs between ranks: rank(s) " + differ + " differ from rank 0");
}

}  // namespace smoes::dist
