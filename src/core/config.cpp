#include "core/config.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "core/json_input.h"

namespace smoes {
namespace config_detail {

using nlohmann::json;

void fail(const std::string& source, const std::string& path, const std::string& problem) {
  throw Error(source + ": " + path + ": " + problem);
}

namespace {

std::string shown(const json& j) {
  std::string s = j.dump();
  if (s.size() <= 40) return s;
  size_t cut = 37;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 character
  return s.substr(0, cut) + "...";
}

[[noreturn]] void wrong_type(const json& j, const char* expected, const std::string& source,
                             const std::string& path) {
  fail(source, path, std::string("expected ") + expected + ", got " + j.type_name() + " " + shown(j));
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

int64_t read_integer(const json& j, const std::string& source, const std::string& path) {
  if (!j.is_number_integer()) wrong_type(j, "an integer", source, path);
  return j.get<int64_t>();
}

}  // namespace

void check_rule(double value, const Rule& rule, const std::string& source, const std::string& path) {
  if (!(value >= rule.lo && value <= rule.hi)) {
    std::ostringstream msg;
    msg << "value " << value << " is out of range [" << rule.lo << ", " << rule.hi << "]";
    fail(source, path, msg.str());
  }
}

void check_rule(const std::string& value, const Rule& rule, const std::string& source, const std::string& path) {
  if (rule.choices.empty()) return;
  if (std::find(rule.choices.begin(), rule.choices.end(), value) != rule.choices.end()) return;
  std::string all;
  for (const auto& c : rule.choices) all += (all.empty() ? "" : ", ") + c;
  fail(source, path, "'" + value + "' is not one of: " + all);
}

void read_value(const json& j, int& v, const std::string& source, const std::string& path) {
  int64_t x = read_integer(j, source, path);
  if (x < INT32_MIN || x > INT32_MAX) fail(source, path, "integer " + j.dump() + " does not fit in 32 bits");
  v = static_cast<int>(x);
}
void read_value(const json& j, int64_t& v, const std::string& source, const std::string& path) {
  v = read_integer(j, source, path);
}
void read_value(const json& j, double& v, const std::string& source, const std::string& path) {
  if (!j.is_number()) wrong_type(j, "a number", source, path);
  v = j.get<double>();
}
void read_value(const json& j, bool& v, const std::string& source, const std::string& path) {
  if (!j.is_boolean()) wrong_type(j, "true or false", source, path);
  v = j.get<bool>();
}
void read_value(const json& j, std::string& v, const std::string& source, const std::string& path) {
  if (!j.is_string()) wrong_type(j, "a string", source, path);
  v = j.get<std::string>();
}
void read_value(const json& j, std::vector<std::string>& v, const std::string& source, const std::string& path) {
  if (!j.is_array()) wrong_type(j, "a list of strings", source, path);
  v.clear();
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) wrong_type(j[i], "a string", source, path + "[" + std::to_string(i) + "]");
    v.push_back(j[i].get<std::string>());
  }
}
void read_value(const json& j, std::vector<int>& v, const std::string& source, const std::string& path) {
  if (!j.is_array()) wrong_type(j, "a list of integers", source, path);
  v.clear();
  for (size_t i = 0; i < j.size(); ++i) {
    int x = 0;
    read_value(j[i], x, source, path + "[" + std::to_string(i) + "]");
    v.push_back(x);
  }
}
void read_value(const json& j, std::map<std::string, double>& v, const std::string& source,
                const std::string& path) {
  if (!j.is_object()) wrong_type(j, "an object of name -> number", source, path);
  v.clear();
  for (const auto& [key, value] : j.items()) {
    if (!value.is_number()) wrong_type(value, "a number", source, path + "." + key);
    v[key] = value.get<double>();
  }
}

Reader::Reader(const json& j, std::string source, std::string prefix)
    : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {
  if (!j_.is_object()) fail(source_, prefix_.empty() ? "(top level)" : prefix_, "expected a JSON object");
}

void Reader::finish() const {
  for (const auto& [key, value] : j_.items()) {
    if (seen_.count(key)) continue;
    std::string best;
    size_t best_d = 3;  // suggest only close spellings
    for (const auto& known : seen_) {
      size_t d = edit_distance(key, known);
      if (d < best_d) best_d = d, best = known;
    }
    fail(source_, prefix_ + key, "unknown key" + (best.empty() ? "" : " (did you mean '" + prefix_ + best + "'?)"));
  }
}

}  // namespace config_detail

using nlohmann::json;

void Config::validate(const std::string& source) const {
  config_detail::Validator v(source);
  const_cast<Config*>(this)->fields(v);
  auto fail = [&](const std::string& path, const std::string& problem) { config_detail::fail(source, path, problem); };
  if (model.d_model % model.n_heads != 0)
    fail("model.n_heads", std::to_string(model.n_heads) + " does not divide model.d_model = " + std::to_string(model.d_model));
  if (model.image_size % model.patch_size != 0)
    fail("model.patch_size", std::to_string(model.patch_size) + " does not divide model.image_size = " +
                                 std::to_string(model.image_size));
  if (model.vit_width % model.vit_heads != 0)
    fail("model.vit_heads", std::to_string(model.vit_heads) + " does not divide model.vit_width = " +
                                std::to_string(model.vit_width));
  if (model.vit_width % 4 != 0)
    fail("model.vit_width", std::to_string(model.vit_width) + " is not a multiple of 4 (the 2D sin-cos position table)");
  if (moe.top_k > moe.num_experts)
    fail("moe.top_k", "top_k = " + std::to_string(moe.top_k) + " exceeds moe.num_experts = " +
                          std::to_string(moe.num_experts));
  if (router.smar_band_lo > router.smar_band_hi) fail("router.smar_band_lo", "band lower edge exceeds router.smar_band_hi");
  const int partition = router.text_experts + router.vision_experts + router.cross_modal_experts;
  const auto split = router_kind(router.name).partition;
  if (split != ExpertPartition::none && partition != 0 && partition != moe.num_experts)
    fail("router.text_experts", "partition text " + std::to_string(router.text_experts) + " + vision " +
                                    std::to_string(router.vision_experts) + " + cross-modal " +
                                    std::to_string(router.cross_modal_experts) + " = " + std::to_string(partition) +
                                    " does not add up to moe.num_experts = " + std::to_string(moe.num_experts));
  if (!moe.layer_experts.empty()) {
    if (!moe.enabled || int(moe.layer_experts.size()) != model.moe_layers())
      fail("moe.layer_experts", "lists " + std::to_string(moe.layer_experts.size()) + " layers, the model has " +
                                    std::to_string(moe.enabled ? model.moe_layers() : 0) + " MoE layers");
    if (split != ExpertPartition::none)
      fail("moe.layer_experts", "per-layer expert counts (pruning) need a router without a modality partition, not " +
                                    router.name);
    for (size_t i = 0; i < moe.layer_experts.size(); ++i) {
      const int e = moe.layer_experts[i];
      const auto at = "moe.layer_experts[" + std::to_string(i) + "]";
      if (e < moe.top_k || e > moe.num_experts)
        fail(at, std::to_string(e) + " experts: must be between moe.top_k = " + std::to_string(moe.top_k) +
                     " and moe.num_experts = " + std::to_string(moe.num_experts));
      if (router.name == "smoes" && e % router.num_bins != 0)
        fail(at, std::to_string(router.num_bins) + " bins (router.num_bins) do not divide " + std::to_string(e) +
                     " experts into equal bins");
    }
  }
  if (router.name == "smoes" && moe.num_experts % router.num_bins != 0)
    fail("router.num_bins", std::to_string(router.num_bins) + " bins do not divide moe.num_experts = " +
                                std::to_string(moe.num_experts) + " into equal bins");
  if (split == ExpertPartition::halves && router.cross_modal_experts != 0)
    fail("router.cross_modal_experts", "hard_modality has no cross-modal experts (use router.name = moiie)");
  if (train.warmup_steps > train.steps)
    fail("train.warmup_steps", "warmup of " + std::to_string(train.warmup_steps) + " steps exceeds train.steps = " +
                                   std::to_string(train.steps));
  if (train.stage == "vision" && model.vision_classes < 2)
    fail("model.vision_classes", "train.stage = vision trains the ViT's dense detection head: set it to the "
                                 "largest category id + 1 (the world: 5, COCO: 91)");
  if (model.object_tags != "none" && model.vision_classes == 0)
    fail("model.object_tags", "the tags are the dense head's predictions: set model.vision_classes too");
  if (model.box_pointer && model.vision_classes == 0)
    fail("model.box_pointer", "the pointer's boxes are the dense head's: set model.vision_classes too");
  if (model.pointer_readout && !model.box_pointer)
    fail("model.pointer_readout", "it reads what the box pointer picks: set model.box_pointer too");
  if (model.vision_attributes > 0 && model.vision_classes == 0)
    fail("model.vision_attributes", "attributes are an output of the dense head: set model.vision_classes too");
  if (train.grounding_attention > 0 && train.grounding_attention_layer >= model.n_layers)
    fail("train.grounding_attention_layer", "layer " + std::to_string(train.grounding_attention_layer) +
                                                " does not exist in a decoder of model.n_layers = " +
                                                std::to_string(model.n_layers));
  for (const auto& [task, weight] : data.mixture)
    if (weight < 0) fail("data.mixture." + task, "weight must be >= 0");
}

json Config::to_json() const {
  config_detail::Writer w;
  const_cast<Config*>(this)->fields(w);
  return w.out;
}

Config Config::from_json(const json& j, const std::string& source) {
  Config c;
  config_detail::Reader r(j, source, "");
  c.fields(r);
  r.finish();
  c.validate(source);
  return c;
}

namespace {

// Whether `s` is valid UTF-8 (what JSON strings must be: a config holding
// anything else could not be written back).
bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || n > s.size() - i) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      const unsigned char d = s[i + k];
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

}  // namespace

void apply_override(json& j, const std::string& assignment) {
  // Messages quote the assignment, so only once it is known to be text.
  if (!valid_utf8(assignment))
    throw Error("--set (an argument of " + std::to_string(assignment.size()) + " bytes): not valid UTF-8 text");
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("--set " + assignment + ": expected KEY=VALUE, e.g. moe.top_k=2");
  if (!j.is_object()) throw Error("--set " + assignment + ": the config is not a JSON object");
  std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  check_json_depth(text, "--set " + assignment);
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;  // bare words are strings: router.name=smar
  json* node = &j;
  std::stringstream parts(path);
  std::string part, prefix;
  std::vector<std::string> keys;
  while (std::getline(parts, part, '.')) keys.push_back(part);
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    prefix += keys[i];
    if (!node->contains(keys[i])) (*node)[keys[i]] = json::object();
    node = &(*node)[keys[i]];
    if (!node->is_object()) throw Error("--set " + assignment + ": " + prefix + " is not a section");
    prefix += ".";
  }
  (*node)[keys.back()] = value;
}

Config Config::load(const std::string& path, const std::vector<std::string>& overrides) {
  json j = json::object();
  std::string source = path.empty() ? "config" : path;
  if (!path.empty()) {
    std::string text = read_file(path);
    check_json_depth(text, path);
    j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      // Parse again with exceptions only to get the position of the error.
      try {
        j = json::parse(text);
      } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
        throw Error(path + ": not valid JSON: " + e.what());
      }
    }
  }
  if (!j.is_object())
    config_detail::fail(source, "(top level)", std::string("expected a JSON object, got ") + j.type_name());
  for (const auto& o : overrides) apply_override(j, o);
  if (!overrides.empty()) source += " (with --set overrides)";
  return from_json(j, source);
}

void Config::save(const std::string& path) const { write_file_atomic(path, to_json().dump(2) + "\n"); }

std::string Config::architecture_diff(const Config& other) const {
  // Fields free to change between runs on the same weights (loss weights,
  // regularisation, tracing); every other model/moe/router field fixes shapes
  // or routing semantics.
  static const std::set<std::string> free_fields = {
      "model.dropout",      "moe.capacity_factor",     "moe.aux_loss_coef",  "moe.z_loss_coef",
      "moe.upcycle_noise",  "moe.record_trace",        "router.bias_update_rate",
      "router.smar_band_lo", "router.smar_band_hi",    "router.smar_loss_coef",
      "router.rebin_every", "router.load_ema",         "router.gaussian_momentum", "router.bin_loss",
      "router.mi_loss_coef"};
  json a = to_json(), b = other.to_json();
  std::string diff;
  for (const char* section : {"model", "moe", "router"}) {
    for (const auto& [key, value] : a[section].items()) {
      std::string name = std::string(section) + "." + key;
      if (free_fields.count(name) || b[section][key] == value) continue;
      diff += (diff.empty() ? "" : ", ") + name + " " + value.dump() + " vs " + b[section][key].dump();
    }
  }
  return diff;
}

}  // namespace smoes
