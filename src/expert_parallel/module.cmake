# Expert parallelism (issue 28): each MoE layer's experts placed on ranks,
# tokens sent to them and back with all-to-alls, bytes counted.
smoes_module(expert_parallel DEPS smoes_analysis smoes_model smoes_moe smoes_dist TEST_DEPS smoes_train smoes_world)
