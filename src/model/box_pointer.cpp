#include "model/box_pointer.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "moe/linear.h"

namespace smoes::model {

namespace {

// Unit RMS per vector: the pointer's scores start as sqrt(d) x cosine whatever
// the states' scale (at the embeddings' N(0, 0.02) they start near 0 and learn slowly).
torch::Tensor unit_rms(const torch::Tensor& v) { return v * torch::rsqrt(v.pow(2).mean(-1, /*keepdim=*/true) + 1e-12); }

}  // namespace

BoxPointerImpl::BoxPointerImpl(int64_t d_model, bool readout) {
  auto no_bias = torch::nn::LinearOptions(d_model, d_model).bias(false);
  query = register_module("query", torch::nn::Linear(no_bias));
  key = register_module("key", torch::nn::Linear(no_bias));
  if (readout) value = register_module("value", torch::nn::Linear(no_bias));
}

void BoxPointerImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  torch::nn::init::eye_(query->weight);
  torch::nn::init::eye_(key->weight);
  if (value) torch::nn::init::zeros_(value->weight);
}

torch::Tensor pointer_words(const torch::Tensor& input_ids, const torch::Tensor& modality, const ObjectTags& tags) {
  auto text = modality.eq(0);
  if (!tags) return text;
  auto names = tags->words.flatten();
  names = names.index({names.ge(0)});
  return text.logical_and(input_ids.unsqueeze(-1).eq(names).any(-1));
}

torch::Tensor BoxPointerImpl::logits(const torch::Tensor& embedded, const torch::Tensor& modality,
                                     const torch::Tensor& words, const torch::Tensor& from) {
  if (embedded.dim() != 3 || modality.sizes() != embedded.sizes().slice(0, 2) || words.sizes() != modality.sizes() ||
      from.dim() != 1 || from.size(0) != embedded.size(0))
    throw Error("model: pointer over states " + c10::str(embedded.sizes()) + ", modality " +
                c10::str(modality.sizes()) + " and query positions " + c10::str(from.sizes()) + " that do not fit");
  if (from.numel() > 0 && (from.min().item<int64_t>() < 0 || from.max().item<int64_t>() >= embedded.size(1)))
    throw Error("model: pointer query position outside the sequence of " + std::to_string(embedded.size(1)));
  auto at = torch::arange(embedded.size(1), from.options()).unsqueeze(0);         // [1, S]
  auto last_visual = (at * modality.eq(1)).amax(1, /*keepdim=*/true);            // [B, 1]
  auto text = words.logical_and(at.gt(last_visual)).logical_and(at.le(from.unsqueeze(1))).to(embedded.dtype());
  auto bag = torch::einsum("bs,bsd->bd", {text, embedded}) / text.sum(1, /*keepdim=*/true).clamp_min(1);
  auto q = moe::linear(unit_rms(bag), query);  // [B, d]
  auto scores = torch::einsum("bd,bsd->bs", {q, moe::linear(unit_rms(embedded), key)}) / std::sqrt(double(embedded.size(-1)));
  return scores.masked_fill(modality.ne(1), -std::numeric_limits<double>::infinity());
}

torch::Tensor BoxPointerImpl::readout(const torch::Tensor& x, const torch::Tensor& modality, const torch::Tensor& words,
                                      const torch::Tensor& valid, PointerCache* cache) {
  const int64_t b = x.size(0), s = x.size(1), d = x.size(2);
  auto vis = modality.eq(1).logical_and(valid);
  auto text = modality.eq(0).logical_and(valid).to(x.dtype());
  auto bagged = words.logical_and(valid).to(x.dtype());
  // The bag of text since the last visual token: running sums that restart at
  // each visual token, or continue the cache's when none came in this chunk.
  auto sums = (x * bagged.unsqueeze(-1)).cumsum(1);                                // [B, s, d]
  auto counts = bagged.cumsum(1);                                                  // [B, s]
  auto at = torch::arange(s, modality.options()).unsqueeze(0).expand({b, s});
  auto seen_visual = std::get<0>(vis.to(torch::kLong).cummax(1)).to(torch::kBool);      // a visual token at or before t
  auto last = std::get<0>((at * vis).cummax(1));                                   // ... at this position
  auto carry_sum = (cache && cache->bag.defined()) ? cache->bag : torch::zeros({b, d}, x.options());
  auto carry_count = (cache && cache->bag.defined()) ? cache->bag_count : torch::zeros({b}, x.options());
  auto bag_sum = torch::where(seen_visual.unsqueeze(-1), sums - sums.gather(1, last.unsqueeze(-1).expand({b, s, d})),
                              sums + carry_sum.unsqueeze(1));
  auto bag_count = torch::where(seen_visual, counts - counts.gather(1, last), counts + carry_count.unsqueeze(1));
  // Keys and values of every position so far; only visual ones can be read.
  auto keys = moe::linear(unit_rms(x), key), values = unit_rms(x), key_visual = vis;
  if (cache) {
    if (cache->keys.defined()) {
      keys = torch::cat({cache->keys, keys}, 1);
      values = torch::cat({cache->values, values}, 1);
      key_visual = torch::cat({cache->visual, key_visual}, 1);
    }
    cache->keys = keys;
    cache->values = values;
    cache->visual = key_visual;
    cache->bag = bag_sum.select(1, s - 1);
    cache->bag_count = bag_count.select(1, s - 1);
  }
  const int64_t past = keys.size(1) - s;
  auto q = moe::linear(unit_rms(bag_sum / bag_count.clamp_min(1).unsqueeze(-1)), query);  // [B, s, d]
  auto scores = torch::einsum("bsd,btd->bst", {q, keys}) / std::sqrt(double(d));
  auto key_at = torch::arange(keys.size(1), modality.options()).unsqueeze(0);
  auto causal = key_at.le(torch::arange(s, modality.options()).unsqueeze(1) + past);  // [s, T]
  auto allowed = key_visual.unsqueeze(1).logical_and(causal.unsqueeze(0));          // [B, s, T]
  // A finite fill keeps a row with no visual token yet free of NaN; `any` then zeroes it.
  auto probs = scores.masked_fill(allowed.logical_not(), -1e9).softmax(-1) * allowed.any(-1, /*keepdim=*/true);
  return moe::linear(torch::matmul(probs, values), value) * text.unsqueeze(-1);
}

}  // namespace smoes::model
