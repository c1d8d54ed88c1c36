// The one table of routers: each kind's name, one-line help, the auxiliary
// losses it adds (with the config field that weights each) and how it
// partitions experts by modality. Config validation reads the names from
// here, MoELayer reads the loss weights, and moe/routers.cpp builds each
// kind's class. Adding a router: one entry here, its class and factory line
// in moe/routers.cpp, and its tests (a test checks that every kind builds
// and adds only the losses listed here).
#pragma once
#include <string>
#include <vector>

namespace smoes {

struct MoEConfig;
struct RouterConfig;

// One auxiliary loss a router adds, and the config field that weights it.
struct RouterLoss {
  std::string name;        // key in MoEOutput::losses, e.g. "balance"
  std::string coef_field;  // e.g. "moe.aux_loss_coef"
  double (*coef)(const MoEConfig&, const RouterConfig&);
};

// How a router's experts are split between modalities by default (a config
// with router.text_experts/vision_experts/cross_modal_experts overrides).
enum class ExpertPartition {
  none,            // any token may use any expert
  halves,          // text half, vision half (hard_modality)
  shared_quarter,  // a quarter (at least one) shared, the rest split (moiie)
};

struct RouterKind {
  std::string name, help;
  std::vector<RouterLoss> losses;
  ExpertPartition partition = ExpertPartition::none;
};

const std::vector<RouterKind>& router_kinds();
std::vector<std::string> router_names();
// Throws smoes::Error naming router.name and the known kinds.
const RouterKind& router_kind(const std::string& name);
// The weight of `loss` for router `cfg.name`; throws smoes::Error if that
// router does not list the loss (a router added a loss without a weight).
double router_loss_coef(const MoEConfig& moe, const RouterConfig& cfg, const std::string& loss);

}  // namespace smoes
