#include "core/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "core/git_revision.h"
#include "core/json_input.h"
#include "core/torch_archive_check.h"

namespace smoes {

namespace {

constexpr char kMagic[8] = {'S', 'M', 'O', 'E', 'S', 'C', 'K', '1'};

void write_named_tensors(torch::serialize::OutputArchive& ar, const torch::nn::Module& model) {
  for (const auto& p : model.named_parameters(/*recurse=*/true)) ar.write("param/" + p.key(), p.value().detach());
  for (const auto& b : model.named_buffers(/*recurse=*/true)) ar.write("buffer/" + b.key(), b.value(), true);
}

// AdamW's state by parameter name. libtorch's own optimizer archive keys it
// by tensor addresses, which differ in every process, so the same training
// state would give different bytes after a resume.
std::string adamw_key(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

void write_adamw_state(torch::serialize::OutputArchive& ar, const torch::nn::Module& model,
                       const torch::optim::AdamW& opt) {
  const auto& state = opt.state();
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    auto it = state.find(adamw_key(p.value()));
    if (it == state.end()) continue;  // never stepped (frozen)
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    const std::string at = "adamw/" + p.key() + "/";
    ar.write(at + "step", torch::tensor(s.step(), torch::kLong), true);
    ar.write(at + "exp_avg", s.exp_avg(), true);
    ar.write(at + "exp_avg_sq", s.exp_avg_sq(), true);
    if (s.max_exp_avg_sq().defined()) ar.write(at + "max_exp_avg_sq", s.max_exp_avg_sq(), true);
  }
}

void read_adamw_state(torch::serialize::InputArchive& ar, const torch::nn::Module& model, torch::optim::AdamW& opt) {
  auto& state = opt.state();
  state.clear();
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    const std::string at = "adamw/" + p.key() + "/";
    torch::Tensor step, exp_avg, exp_avg_sq, max_exp_avg_sq;
    if (!ar.try_read(at + "step", step, true)) continue;
    ar.read(at + "exp_avg", exp_avg, true);
    ar.read(at + "exp_avg_sq", exp_avg_sq, true);
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(step.item<int64_t>());
    s->exp_avg(exp_avg);
    s->exp_avg_sq(exp_avg_sq);
    if (ar.try_read(at + "max_exp_avg_sq", max_exp_avg_sq, true)) s->max_exp_avg_sq(max_exp_avg_sq);
    state[adamw_key(p.value())] = std::move(s);
  }
}

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

void read_named_tensors(torch::serialize::InputArchive& ar, torch::nn::Module& model, const std::string& path) {
  torch::NoGradGuard no_grad;
  auto restore = [&](const std::string& kind, const std::string& name, torch::Tensor& target) {
    torch::Tensor stored;
    if (!ar.try_read(kind + "/" + name, stored, kind == "buffer"))
      throw Error(path + ": checkpoint has no " + kind + " '" + name + "' (saved from another model?)");
    if (stored.sizes() != target.sizes())
      throw Error(path + ": " + kind + " '" + name + "' has shape " + shape_text(stored) + " in the checkpoint, " +
                  shape_text(target) + " in the model");
    if (stored.scalar_type() != target.scalar_type())
      throw Error(path + ": " + kind + " '" + name + "' has dtype " + std::string(c10::toString(stored.scalar_type())) +
                  " in the checkpoint, " + c10::toString(target.scalar_type()) + " in the model");
    target.copy_(stored);
  };
  for (auto& p : model.named_parameters(true)) restore("param", p.key(), p.value());
  for (auto& b : model.named_buffers(true)) restore("buffer", b.key(), b.value());
}

nlohmann::json meta_to_json(const CheckpointMeta& m) {
  return {{"step", m.step},           {"config", m.config},       {"git_revision", m.git_revision},
          {"data_manifest", m.data_manifest}, {"scheduler", m.scheduler}, {"data_rng", m.data_rng},
          {"extra", m.extra}};
}

CheckpointMeta meta_from_json(const nlohmann::json& j, const std::string& path) {
  CheckpointMeta m;
  try {
    m.step = j.at("step").get<int64_t>();
    m.config = j.at("config");
    m.git_revision = j.at("git_revision").get<std::string>();
    m.data_manifest = j.at("data_manifest");
    m.scheduler = j.at("scheduler");
    m.data_rng = j.at("data_rng").get<std::string>();
    m.extra = j.at("extra");
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": checkpoint meta is malformed: " + e.what());
  }
  return m;
}

struct ParsedFile {
  nlohmann::json meta;
  std::string bytes;       // whole file
  size_t payload_offset = 0;
};

// Checks magic, lengths, hash and the archive's declared sizes; everything
// after this can trust the payload.
ParsedFile parse_file(const std::string& path) {
  ParsedFile f;
  f.bytes = read_file(path);
  const std::string& b = f.bytes;
  if (b.size() < sizeof kMagic + 8 || std::memcmp(b.data(), kMagic, sizeof kMagic) != 0)
    throw Error(path + ": not a smoes checkpoint (bad magic or file too short: " + std::to_string(b.size()) + " bytes)");
  uint64_t meta_len = 0;
  std::memcpy(&meta_len, b.data() + sizeof kMagic, 8);
  size_t meta_at = sizeof kMagic + 8;
  if (meta_len > b.size() - meta_at)
    throw Error(path + ": checkpoint is truncated (meta block of " + std::to_string(meta_len) +
                " bytes, file has " + std::to_string(b.size() - meta_at) + " left)");
  check_json_depth(std::string_view(b).substr(meta_at, meta_len), path);
  f.meta = nlohmann::json::parse(b.begin() + meta_at, b.begin() + meta_at + meta_len, nullptr, false);
  if (f.meta.is_discarded() || !f.meta.is_object() || !f.meta.contains("payload_bytes") ||
      !f.meta["payload_bytes"].is_number_unsigned() || !f.meta.contains("payload_sha256"))
    throw Error(path + ": checkpoint meta block is corrupted");
  f.payload_offset = meta_at + meta_len;
  uint64_t payload_len = f.meta["payload_bytes"].get<uint64_t>();
  if (b.size() - f.payload_offset != payload_len)
    throw Error(path + ": checkpoint is truncated or has trailing bytes (payload " +
                std::to_string(b.size() - f.payload_offset) + " bytes, expected " + std::to_string(payload_len) + ")");
  if (sha256_hex(std::string_view(b).substr(f.payload_offset)) != f.meta["payload_sha256"])
    throw Error(path + ": checkpoint payload is corrupted (SHA-256 mismatch)");
  // The hash catches damage, not a file made to mislead: libtorch would
  // allocate whatever lengths the archive declares before checking them.
  check_torch_archive(std::string_view(b).substr(f.payload_offset), path);
  return f;
}

}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* optimizer, CheckpointMeta meta) {
  meta.git_revision = git_revision();
  torch::serialize::OutputArchive ar;
  write_named_tensors(ar, model);
  const auto* adamw = dynamic_cast<const torch::optim::AdamW*>(optimizer);
  if (adamw) {
    write_adamw_state(ar, model, *adamw);
  } else if (optimizer) {
    torch::serialize::OutputArchive opt_ar;
    optimizer->save(opt_ar);
    ar.write("optimizer", opt_ar);
  }
  ar.write("rng/torch_cpu", at::detail::getDefaultCPUGenerator().get_state());
  std::ostringstream payload_stream;
  ar.save_to(payload_stream);
  std::string payload = payload_stream.str();

  nlohmann::json j = meta_to_json(meta);
  j["payload_bytes"] = static_cast<uint64_t>(payload.size());
  j["payload_sha256"] = sha256_hex(payload);
  j["has_optimizer"] = optimizer != nullptr;
  if (adamw) j["optimizer_format"] = "adamw_by_name";
  std::string meta_text = j.dump();
  uint64_t meta_len = meta_text.size();
  std::string file(kMagic, sizeof kMagic);
  file.append(reinterpret_cast<const char*>(&meta_len), 8);
  file += meta_text;
  file += payload;
  write_file_atomic(path, file);
}

CheckpointMeta read_checkpoint_meta(const std::string& path) { return meta_from_json(parse_file(path).meta, path); }

CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                               const Config* expected, bool restore_rng) {
  ParsedFile f = parse_file(path);
  CheckpointMeta meta = meta_from_json(f.meta, path);
  if (expected) {
    Config stored;
    try {
      stored = Config::from_json(meta.config, path + " (stored config)");
    } catch (const Error& e) {
      throw Error(std::string("cannot read the config stored in the checkpoint: ") + e.what());
    }
    std::string diff = expected->architecture_diff(stored);
    if (!diff.empty())
      throw Error(path + ": checkpoint was made with another architecture (current vs checkpoint: " + diff + ")");
  }
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(f.bytes.data() + f.payload_offset, f.bytes.size() - f.payload_offset);
    read_named_tensors(ar, model, path);
    if (optimizer) {
      if (!f.meta.value("has_optimizer", false)) throw Error(path + ": checkpoint has no optimizer state");
      auto* adamw = dynamic_cast<torch::optim::AdamW*>(optimizer);
      if (f.meta.value("optimizer_format", "") == "adamw_by_name") {
        if (!adamw) throw Error(path + ": checkpoint holds AdamW state; the optimizer is not AdamW");
        read_adamw_state(ar, model, *adamw);
      } else {  // libtorch's own format (checkpoints written before the state was keyed by name)
        torch::serialize::InputArchive opt_ar;
        ar.read("optimizer", opt_ar);
        optimizer->load(opt_ar);
      }
    }
    if (restore_rng) {
      torch::Tensor rng;
      ar.read("rng/torch_cpu", rng);
      auto gen = at::detail::getDefaultCPUGenerator();
      gen.set_state(rng);
    }
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Error(path + ": cannot restore checkpoint: " + e.what_without_backtrace());
  } catch (const std::exception& e) {  // libtorch's archive reader also throws ErrorReport, out_of_range, ...
    const std::string what = e.what();  // an ErrorReport quotes source lines after the first
    throw Error(path + ": cannot restore checkpoint: " + what.substr(0, what.find('\n')));
  }
  return meta;
}

CheckpointDir::CheckpointDir(std::string dir, int keep_last) : dir_(std::move(dir)), keep_last_(keep_last) {
  if (keep_last_ < 1) throw Error("keep_last must be >= 1");
}

void CheckpointDir::prepare_for_saving() {
  ensure_writable_dir(dir_, "the checkpoint folder");
  // A process killed mid-save leaves its temp file (never a damaged
  // checkpoint): remove those whose writer is gone.
  static const std::regex temp(".+\\.tmp\\.(\\d{1,9})");
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::smatch m;
    std::string file = entry.path().filename().string();
    if (!std::regex_match(file, m, temp)) continue;
    const pid_t writer = static_cast<pid_t>(std::stoll(m[1]));
    if (writer != ::getpid() && ::kill(writer, 0) != 0 && errno == ESRCH) {
      spdlog::info("{}: removing {}, left by a run killed while saving", dir_, file);
      std::filesystem::remove(entry.path());
    }
  }
  prepared_ = true;
}

std::vector<std::string> CheckpointDir::list() const {
  static const std::regex name("step_(\\d{1,18})\\.ckpt");
  std::vector<std::pair<int64_t, std::string>> found;
  if (!std::filesystem::is_directory(dir_)) return {};
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::smatch m;
    std::string file = entry.path().filename().string();
    if (std::regex_match(file, m, name)) found.emplace_back(std::stoll(m[1]), entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& f : found) paths.push_back(f.second);
  return paths;
}

std::string CheckpointDir::save(const torch::nn::Module& model, const torch::optim::Optimizer* optimizer,
                                CheckpointMeta meta) {
  if (!prepared_) prepare_for_saving();
  char name[64];
  std::snprintf(name, sizeof name, "step_%09lld.ckpt", static_cast<long long>(meta.step));
  std::string path = (std::filesystem::path(dir_) / name).string();
  save_checkpoint(path, model, optimizer, std::move(meta));
  write_file_atomic((std::filesystem::path(dir_) / "latest").string(), std::string(name) + "\n");
  auto all = list();
  for (size_t i = 0; i + keep_last_ < all.size(); ++i) std::filesystem::remove(all[i]);
  return path;
}

std::optional<std::string> CheckpointDir::latest() const {
  auto pointer = std::filesystem::path(dir_) / "latest";
  if (!std::filesystem::exists(pointer)) return std::nullopt;
  std::string name = read_file(pointer.string());
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
  auto path = std::filesystem::path(dir_) / name;
  if (name.empty() || name.find('/') != std::string::npos || !std::filesystem::exists(path))
    throw Error(pointer.string() + ": points at '" + name + "', which is not a checkpoint in " + dir_);
  return path.string();
}

}  // namespace smoes
