smoes_module(model DEPS smoes_moe smoes_core)
