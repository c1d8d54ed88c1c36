#include "core/router_table.h"

#include "core/config.h"
#include "core/error.h"

namespace smoes {
namespace {

double balance(const MoEConfig& m, const RouterConfig&) { return m.aux_loss_coef; }
double z(const MoEConfig& m, const RouterConfig&) { return m.z_loss_coef; }
double smar(const MoEConfig&, const RouterConfig& r) { return r.smar_loss_coef; }
double modality_bin(const MoEConfig&, const RouterConfig& r) { return r.mi_loss_coef; }

const RouterLoss kBalance{"balance", "moe.aux_loss_coef", balance};
const RouterLoss kZ{"z", "moe.z_loss_coef", z};

}  // namespace

const std::vector<RouterKind>& router_kinds() {
  static const std::vector<RouterKind> kinds = {
      {"topk", "softmax over E, top-k; Switch balance and z-loss", {kBalance, kZ}},
      {"sigmoid_bias", "sigmoid scores, a selection-only bias nudged toward balance (DeepSeek-V3)", {kBalance, kZ}},
      {"hard_modality", "text tokens use only text experts, vision only vision experts", {kBalance, kZ},
       ExpertPartition::halves},
      {"moiie", "modality-specific experts plus shared cross-modal ones (MoIIE)", {kBalance, kZ},
       ExpertPartition::shared_quarter},
      {"smar", "topk + per-modality biases + a band on the text/vision routing KL (SMAR)",
       {kBalance, kZ, {"smar", "router.smar_loss_coef", smar}}},
      // The within-bin balance takes the place of the global one, weighted
      // like it; "mi" or "bin_kl" (router.bin_loss) ties modality to bins.
      {"smoes", "topk + soft modality scores, expert bins, modality-bin MI and within-bin balance (SMoES)",
       {{"bin_balance", "moe.aux_loss_coef", balance},
        kZ,
        {"mi", "router.mi_loss_coef", modality_bin},
        {"bin_kl", "router.mi_loss_coef", modality_bin}}},
  };
  return kinds;
}

std::vector<std::string> router_names() {
  std::vector<std::string> names;
  for (const auto& k : router_kinds()) names.push_back(k.name);
  return names;
}

const RouterKind& router_kind(const std::string& name) {
  for (const auto& k : router_kinds())
    if (k.name == name) return k;
  std::string known;
  for (const auto& n : router_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("router.name: unknown router '" + name + "' (known: " + known + ")");
}

double router_loss_coef(const MoEConfig& moe, const RouterConfig& cfg, const std::string& loss) {
  for (const auto& l : router_kind(cfg.name).losses)
    if (l.name == loss) return l.coef(moe, cfg);
  throw Error("router " + cfg.name + " returned the loss '" + loss +
              "', which core/router_table.cpp does not list for it (add it with its weight there)");
}

}  // namespace smoes
